"""Introduction: the consortium config — who is in the consortium at a given height.

The genesis founds the consortium; from then on the ``consortium`` system contract changes it
by votes of the organisations. The config lives in state (key ``config`` of the ``consortium``
contract) as the canonical encoding of ``ConsortiumConfig``; a chain whose state has no such
key still runs on its genesis config. Every node derives the same config from the same state,
so "who may sign a tx, a vote, a block at height h" is a pure function of the state after
block h-1:

- the organisations and their root CAs (membership);
- the validator *schedule*: ``(from_height, validators)`` entries, ascending. A change voted
  at height H is scheduled at ``H + VALIDATOR_SET_DELAY``, so every node learns the next set
  two blocks before it signs; ``validators_at(h)`` is the last entry with ``from_height <= h``;
- the policies that say how many organisations must approve each kind of change;
- the chain parameters (block size, tx limits, timeouts);
- the revocations: a certificate revoked at height H (and its public key) is refused in every
  tx, vote and proposal of a block above H; blocks up to H were checked without it and still
  verify.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from yulian.types.commit import MAX_VALIDATORS
from yulian.types.encoding import DecodeError, EncodeError, Limits, Value, decode, encode
from yulian.types.fields import (
    expect_array,
    expect_bytes,
    expect_int,
    expect_list,
    expect_str,
    expect_version,
)
from yulian.types.genesis import (
    MAX_ADDRESS_BYTES,
    MAX_CA_CERT_BYTES,
    MAX_ORG_NAME_BYTES,
    MAX_PUBLIC_KEY_BYTES,
    MAX_VALIDATOR_NAME_BYTES,
    POLICIES,
    ChainParams,
    Genesis,
    GenesisError,
    Organisation,
    Validator,
    is_n_of_m,
)

CONFIG_VERSION = 1
VALIDATOR_SET_DELAY = 2  # a validator-set change voted at H is in force from H + 2
DEFAULT_POLICY = "MAJORITY"
# the scopes a policy can be set for; anything else defaults to MAJORITY
POLICY_SCOPES = (
    "organisations",
    "validators",
    "policies",
    "params",
    "revocation",
    "lifecycle",
    "privacy",  # collections, purges and read policies (decisions 0075, 0079)
)
MAX_ORGANISATIONS = 4096
MAX_SCHEDULE_ENTRIES = 64
MAX_POLICIES = 64
MAX_REVOCATIONS = 4096  # each revocation is one entry of the config's revocations array
CONFIG_LIMITS = Limits(
    max_bytes=4 << 20,
    max_items=max(MAX_ORGANISATIONS, MAX_REVOCATIONS),
    max_bin=MAX_CA_CERT_BYTES,
)


@dataclass(frozen=True)
class Revocation:
    cert_id: bytes  # suite hash of the certificate DER
    org: str
    public_key: bytes
    height: int  # the block that revoked it; refused from height + 1

    def to_value(self) -> tuple[Value, ...]:
        return (self.cert_id, self.org, self.public_key, self.height)


@dataclass(frozen=True)
class ConsortiumConfig:
    organisations: tuple[Organisation, ...]
    schedule: tuple[tuple[int, tuple[Validator, ...]], ...]
    policies: tuple[tuple[str, str], ...]  # sorted by scope
    params: ChainParams
    revocations: tuple[Revocation, ...] = ()

    # --- derived ------------------------------------------------------------------------
    def validators_at(self, height: int) -> tuple[Validator, ...]:
        """The validator set that signs block ``height``."""
        current = self.schedule[0][1]
        for from_height, validators in self.schedule:
            if from_height > height:
                break
            current = validators
        return current

    def latest_validators(self) -> tuple[Validator, ...]:
        """The set after every scheduled change: the base for the next change."""
        return self.schedule[-1][1]

    def organisation(self, name: str) -> Organisation | None:
        return next((o for o in self.organisations if o.name == name), None)

    def org_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.organisations)

    def policy(self, scope: str) -> str:
        return dict(self.policies).get(scope, DEFAULT_POLICY)

    def revoked_keys(self) -> frozenset[tuple[str, bytes]]:
        """``(org, public key)`` of every revoked certificate: a key is revoked only for the
        organisation that certified it, so no organisation can revoke another's key."""
        return frozenset((r.org, r.public_key) for r in self.revocations)

    def revoked_ids(self) -> frozenset[bytes]:
        return frozenset(r.cert_id for r in self.revocations)

    # --- changes (each returns a new config; the consortium contract checks them) -----
    def with_validators(
        self, validators: Sequence[Validator], *, from_height: int
    ) -> ConsortiumConfig:
        """Schedule ``validators`` from ``from_height``; entries already in force before it
        are pruned to the one in force, so the schedule stays short."""
        check_validators(validators, self.org_names())
        kept = [(h, v) for h, v in self.schedule if h < from_height]
        in_force = [(h, v) for h, v in kept if h <= from_height - VALIDATOR_SET_DELAY]
        pending = [(h, v) for h, v in kept if h > from_height - VALIDATOR_SET_DELAY]
        base = in_force[-1:] if in_force else []
        schedule = (*base, *pending, (from_height, tuple(validators)))
        return replace(self, schedule=tuple(schedule))

    def with_policy(self, scope: str, policy: str) -> ConsortiumConfig:
        check_policy(scope, policy)
        policies = dict(self.policies)
        policies[scope] = policy
        return replace(self, policies=tuple(sorted(policies.items())))

    # --- encoding -----------------------------------------------------------------------
    def to_value(self) -> tuple[Value, ...]:
        return (
            CONFIG_VERSION,
            tuple(o.to_value() for o in self.organisations),
            tuple((h, tuple(v.to_value() for v in vs)) for h, vs in self.schedule),
            tuple(self.policies),
            self.params.to_value(),
            tuple(r.to_value() for r in self.revocations),
        )

    def encode(self) -> bytes:
        """The canonical bytes, refused with ``EncodeError`` unless ``decode`` takes them back:
        the config is read from state after every block that writes it, so a config its own
        decoder refused would stop the chain."""
        data = encode(self.to_value())
        try:
            ConsortiumConfig.decode(data)
        except DecodeError as e:
            raise EncodeError(f"consortium config: {e}") from None
        return data

    @classmethod
    def decode(cls, data: bytes) -> ConsortiumConfig:
        f = expect_array(decode(data, CONFIG_LIMITS), "config", 6)
        expect_version(f[0], "config.version", CONFIG_VERSION)
        organisations = tuple(
            Organisation(
                expect_str(o[0], "organisation.name", MAX_ORG_NAME_BYTES),
                expect_bytes(o[1], "organisation.ca_cert", MAX_CA_CERT_BYTES),
            )
            for o in (
                expect_array(o, "organisation", 2)
                for o in expect_list(f[1], "orgs", MAX_ORGANISATIONS)
            )
        )
        schedule = tuple(
            (
                expect_int(e[0], "schedule.from_height", 1),
                tuple(
                    _validator(v) for v in expect_list(e[1], "schedule.validators", MAX_VALIDATORS)
                ),
            )
            for e in (
                expect_array(e, "schedule entry", 2)
                for e in expect_list(f[2], "schedule", MAX_SCHEDULE_ENTRIES)
            )
        )
        if not schedule or any(not vs for _, vs in schedule):
            raise DecodeError("config: the validator schedule cannot be empty")
        policies = tuple(
            (expect_str(p[0], "policy.scope", 64), expect_str(p[1], "policy", 64))
            for p in (
                expect_array(p, "policy", 2) for p in expect_list(f[3], "policies", MAX_POLICIES)
            )
        )
        params_value = expect_list(f[4], "params", 64)
        for value in params_value:
            expect_int(value, "param", 0)
        try:
            params = ChainParams.from_value(params_value)
        except ValueError as e:
            raise DecodeError(f"config: {e}") from None
        revocations = tuple(
            Revocation(
                expect_bytes(r[0], "revocation.cert_id", 64),
                expect_str(r[1], "revocation.org", MAX_ORG_NAME_BYTES),
                expect_bytes(r[2], "revocation.public_key", MAX_PUBLIC_KEY_BYTES),
                expect_int(r[3], "revocation.height", 0),
            )
            for r in (
                expect_array(r, "revocation", 4)
                for r in expect_list(f[5], "revocations", MAX_REVOCATIONS)
            )
        )
        return cls(organisations, schedule, policies, params, revocations)

    @classmethod
    def from_genesis(cls, genesis: Genesis) -> ConsortiumConfig:
        return cls(
            organisations=genesis.organisations,
            schedule=((1, genesis.validators),),
            policies=tuple(sorted(genesis.policies.items())),
            params=genesis.params,
        )


def _validator(value: Value) -> Validator:
    f = expect_array(value, "validator", 5)
    return Validator(
        expect_str(f[0], "validator.name", MAX_VALIDATOR_NAME_BYTES),
        expect_str(f[1], "validator.org", MAX_ORG_NAME_BYTES),
        expect_bytes(f[2], "validator.public_key", MAX_PUBLIC_KEY_BYTES),
        expect_int(f[3], "validator.power", 1),
        expect_str(f[4], "validator.address", MAX_ADDRESS_BYTES, allow_empty=True),
    )


def check_policy(scope: str, policy: str) -> None:
    if scope not in POLICY_SCOPES:
        raise GenesisError(f"unknown policy scope {scope!r}; known: {', '.join(POLICY_SCOPES)}")
    if policy not in POLICIES and not is_n_of_m(policy):
        raise GenesisError(f"policy {policy!r} is not ANY, MAJORITY, ALL or N-of-M")


def check_validators(validators: Sequence[Validator], orgs: Collection[str]) -> None:
    if not validators:
        raise GenesisError("the validator set cannot be empty")
    if len(validators) > MAX_VALIDATORS:
        raise GenesisError(f"at most {MAX_VALIDATORS} validators (a commit certificate's limit)")
    names = [v.name for v in validators]
    if len(set(names)) != len(names):
        raise GenesisError("validator names must be unique")
    keys = [v.public_key for v in validators]
    if len(set(keys)) != len(keys):
        raise GenesisError("validator public keys must be unique")
    for v in validators:
        if v.org not in orgs:
            raise GenesisError(f"validator {v.name} names unknown organisation {v.org}")
        if v.power <= 0:
            raise GenesisError(f"validator {v.name} needs a positive power")


def policy_met(policy: str, approvals: Collection[str], organisations: Sequence[str]) -> bool:
    """Whether the organisations in ``approvals`` satisfy ``policy`` among ``organisations``
    (approvals of organisations no longer in the consortium do not count)."""
    count = len(set(approvals) & set(organisations))
    total = len(organisations)
    if policy == "ANY":
        return count >= 1
    if policy == "MAJORITY":
        return count * 2 > total
    if policy == "ALL":
        return total > 0 and count == total
    if is_n_of_m(policy):
        return count >= int(policy.split("-of-")[0])
    return False
