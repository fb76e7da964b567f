"""Introduction: the consortium in force at one height — the only place it is assembled.

A ``ConsortiumConfig`` (``types/consortium.py``) is the data governance writes; a
``ConsortiumView`` is what every reader needs from it for one height ``h``: the config and its
hash (the header's ``config_hash``), the validator set that signs ``h`` with its revoked keys
(``ValidatorSet``) and that set's hash (the header's ``validators_hash``), the members and
their CAs (``Membership``, with the revoked certificates and keys), the chain parameters and
the revocations. The replica, the node, the block checker, the offline verifier, the
simulator's invariants, the system contracts, the devkit and the micro-benchmarks all take
their view from ``ConsortiumView.of``, so they cannot disagree on who signs a height
(``tests/unit/test_consortium_view.py`` fails if another module assembles one).

Invariants:

- a view is a pure function of ``(config, height, suite)``: no clock, state or order of calls;
- ``config_hash`` is the suite hash of the config's canonical bytes, so it equals the hash of
  the bytes in state (``decode`` accepts only canonical bytes);
- ``for_height`` keeps the config (and the one ``Membership``, whose certificate cache is
  worth keeping) and recomputes only what depends on the height;
- what costs (the config's hash, the set's hash, the ``Membership``) is computed on first use,
  so a contract that only asks who signs a height pays for the validator set alone.

The view lives in ``consensus/`` and not in ``types/`` because it holds a ``ValidatorSet``
(``consensus/votes.py``) and a ``Membership`` (``crypto/membership.py``), both above ``types``
(decision 0086).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

from yulian.consensus.votes import ValidatorSet
from yulian.crypto.membership import Membership
from yulian.crypto.suite import Suite
from yulian.types.consortium import ConsortiumConfig, Revocation
from yulian.types.encoding import encode
from yulian.types.genesis import ChainParams, Organisation, Validator


class _PerConfig:
    """What depends on the config alone — its hash and its ``Membership`` — built on first use
    and shared by the views of one config at every height: parsing every CA is work a
    contract call that only needs validators should not pay, and a replica should pay once
    per config, not once per height."""

    def __init__(self, suite: Suite, config: ConsortiumConfig, encoded: bytes | None) -> None:
        self._suite = suite
        self._config = config
        self._encoded = encoded
        self._hash: bytes | None = None
        self._membership: Membership | None = None

    def config_hash(self) -> bytes:
        if self._hash is None:
            data = self._encoded if self._encoded is not None else self._config.encode()
            self._hash = self._suite.hash(data)
        return self._hash

    def membership(self) -> Membership:
        if self._membership is None:
            self._membership = Membership(
                self._suite,
                self._config.organisations,
                revoked_ids=self._config.revoked_ids(),
                revoked_keys=self._config.revoked_keys(),
            )
        return self._membership


@dataclass(frozen=True, eq=False)
class ConsortiumView:
    """Who is in the consortium, and who signs, at ``height``."""

    suite: Suite
    config: ConsortiumConfig
    height: int
    validators: ValidatorSet  # the set that signs ``height``, with the revoked keys
    _per_config: _PerConfig = field(repr=False)

    @classmethod
    def of(
        cls, config: ConsortiumConfig, height: int, suite: Suite, *, encoded: bytes | None = None
    ) -> ConsortiumView:
        """The view of ``config`` at ``height``; ``encoded`` is the config's bytes when the
        caller already holds them (as read from state), to skip re-encoding."""
        return cls(
            suite,
            config,
            height,
            _validator_set(config, height),
            _PerConfig(suite, config, encoded),
        )

    def for_height(self, height: int) -> ConsortiumView:
        """The same config at another height (the next one, after a block that did not
        change the config)."""
        if height == self.height:
            return self
        return replace(self, height=height, validators=_validator_set(self.config, height))

    # --- what readers need (the costly parts computed on first use, once) -----------------
    @property
    def config_hash(self) -> bytes:
        """The header's ``config_hash``: the suite hash of the config's canonical bytes."""
        return self._per_config.config_hash()

    @property
    def membership(self) -> Membership:
        """The members and their CAs, with the revoked certificates and keys."""
        return self._per_config.membership()

    @property
    def validator_list(self) -> tuple[Validator, ...]:
        return self.validators.validators

    @cached_property
    def validators_hash(self) -> bytes:
        """The header's ``validators_hash``: the hash of the set that signs this height."""
        return self.suite.hash(encode(tuple(v.to_value() for v in self.validator_list)))

    @property
    def params(self) -> ChainParams:
        return self.config.params

    @property
    def organisations(self) -> tuple[Organisation, ...]:
        return self.config.organisations

    @property
    def revocations(self) -> tuple[Revocation, ...]:
        return self.config.revocations

    @property
    def revoked_keys(self) -> frozenset[tuple[str, bytes]]:
        """``(org, public key)`` of every revoked certificate."""
        return self.validators.revoked_keys

    @cached_property
    def revoked_ids(self) -> frozenset[bytes]:
        """The suite hash of every revoked certificate."""
        return self.config.revoked_ids()

    def validators_from(self, height: int) -> tuple[Validator, ...]:
        """The validators the schedule puts in force at ``height`` (a later height: the set
        after a change this config already scheduled)."""
        return self.config.validators_at(height)

    def latest_validators(self) -> tuple[Validator, ...]:
        """The set after every scheduled change: the nodes to connect to."""
        return self.config.latest_validators()


def view_of_stored(
    data: bytes | None, default: ConsortiumConfig, height: int, suite: Suite
) -> ConsortiumView:
    """The view of a config as stored in state (``data``; ``None``: the chain still runs on
    ``default``, its genesis config). ``DecodeError`` for bytes that are not a config."""
    if data is None:
        return ConsortiumView.of(default, height, suite)
    return ConsortiumView.of(ConsortiumConfig.decode(data), height, suite, encoded=data)


def _validator_set(config: ConsortiumConfig, height: int) -> ValidatorSet:
    return ValidatorSet(config.validators_at(height), config.revoked_keys())
