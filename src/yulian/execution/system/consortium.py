"""Introduction: the ``consortium`` system contract — membership changes by vote.

Organisation admins propose and approve changes; when a scope's policy is met (default: a
majority of the current organisations) the change is applied in the approving tx:

=================  ====================================  ==============
kind               args                                  policy scope
=================  ====================================  ==============
add_org            name, ca_cert (DER)                   organisations
remove_org         name (its validators leave too)       organisations
add_validator      name, org, public_key, power, address validators
remove_validator   name                                  validators
set_power          name, power                           validators
set_policy         scope, policy                         policies
set_params         [[name, value], ...]                  params
revoke             cert (DER)                            revocation
=================  ====================================  ==============

Validator-set changes are scheduled ``VALIDATOR_SET_DELAY`` blocks later. A revocation is in
force from the next block; the certificate's own organisation may revoke it alone (an
organisation can always withdraw its own certificates), anyone else needs the policy. Revoking
a validator's key also schedules that validator's removal.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any, ClassVar

from yulian.consensus.consortium_view import ConsortiumView
from yulian.crypto.membership import MembershipError, check_root
from yulian.crypto.suite import Suite
from yulian.crypto.x509 import CertificateError, parse_certificate, verify_signed_by
from yulian.execution.overlay import StateView, state_key
from yulian.execution.system.base import Call, SystemContract, SystemRevert
from yulian.execution.system.proposals import APPLIED, FAILED, ProposalBook, ProposalRecord
from yulian.types.consortium import (
    POLICY_SCOPES,
    VALIDATOR_SET_DELAY,
    ConsortiumConfig,
    Revocation,
    check_policy,
    policy_met,
)
from yulian.types.encoding import EncodeError, Value
from yulian.types.genesis import (
    MAX_ADDRESS_BYTES,
    MAX_ORG_NAME_BYTES,
    ChainParams,
    Genesis,
    GenesisError,
    Organisation,
    Validator,
)

CONSORTIUM_CONTRACT = "consortium"
CONFIG_KEY = state_key(CONSORTIUM_CONTRACT, "config")
MAX_NAME_BYTES = MAX_ORG_NAME_BYTES  # organisation and validator names, in UTF-8
MAX_CONFIG_HISTORY = 10_000  # config versions searched for the one in force at a height

KIND_SCOPES = {
    "add_org": "organisations",
    "remove_org": "organisations",
    "add_validator": "validators",
    "remove_validator": "validators",
    "set_power": "validators",
    "set_policy": "policies",
    "set_params": "params",
    "revoke": "revocation",
}


def read_config(view: StateView, default: ConsortiumConfig) -> ConsortiumConfig:
    """The consortium config in ``view`` (the genesis config until the first change)."""
    data = view.get(CONFIG_KEY)
    return ConsortiumConfig.decode(data) if data is not None else default


def config_in_force(view: StateView, default: ConsortiumConfig, height: int) -> ConsortiumConfig:
    """The config that decided who signs ``height`` (the one after block ``height - 1``), from
    the key's history: the current config prunes validator sets no longer in force, and old
    evidence must be judged by the set of its own height."""
    for at, data in view.history(CONFIG_KEY, MAX_CONFIG_HISTORY):
        if at <= height - 1:
            return ConsortiumConfig.decode(data) if data is not None else default
    return default


class VotingContract(SystemContract, ABC):
    """A system contract whose changes are proposals the member organisations approve: the
    approval and reading methods are shared; ``_decide`` applies a proposal once its policy
    is met (or leaves it open)."""

    def __init__(self, suite: Suite, genesis: Genesis) -> None:
        self._suite = suite
        self._default = ConsortiumConfig.from_genesis(genesis)

    def _config(self, call: Call) -> ConsortiumConfig:
        return read_config(call.view, self._default)

    def _member_config(self, call: Call) -> ConsortiumConfig:
        """The config, once the sender's organisation is found a member of it."""
        config = self._config(call)
        if config.organisation(call.sender.org) is None:
            raise SystemRevert(f"organisation {call.sender.org!r} is not a member")
        return config

    def m_approve(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 1:
            raise SystemRevert("approve takes (proposal_id)")
        config = self._member_config(call)
        book = ProposalBook(call.state)
        return self._decide(call, book, book.approve(call, args[0]), config)

    def m_proposal(self, call: Call, args: tuple[Any, ...]) -> Value:
        if len(args) != 1:
            raise SystemRevert("proposal takes (proposal_id)")
        return ProposalBook(call.state).get(args[0]).view(call.block.height)

    def m_proposals(self, call: Call, args: tuple[Any, ...]) -> Value:
        book = ProposalBook(call.state)
        return [book.get(i).view(call.block.height) for i in book.open_ids()]

    @abstractmethod
    def _decide(
        self, call: Call, book: ProposalBook, record: ProposalRecord, config: ConsortiumConfig
    ) -> Value:
        """Apply ``record`` if its policy is met (or leave it open); the answer of the call."""


class ConsortiumContract(VotingContract):
    name = CONSORTIUM_CONTRACT
    methods: ClassVar[dict[str, bool]] = {
        "propose": True,
        "approve": True,
        "proposal": False,
        "proposals": False,
        "config": False,
        "validators": False,
    }

    # --- methods --------------------------------------------------------------------------
    def m_propose(self, call: Call, args: tuple[Any, ...]) -> Value:
        kind, kind_args = _two(args, "propose takes (kind, args)")
        if kind not in KIND_SCOPES:
            raise SystemRevert(f"unknown proposal kind {kind!r}; known: {', '.join(KIND_SCOPES)}")
        if not isinstance(kind_args, list | tuple):
            raise SystemRevert("proposal args are a list")
        config = self._member_config(call)
        self._change(config, call, kind, tuple(kind_args))  # refuse now what would fail later
        book = ProposalBook(call.state)
        record = book.create(
            call,
            scope=KIND_SCOPES[kind],
            kind=kind,
            args=tuple(kind_args),
            ttl_blocks=config.params.proposal_ttl_blocks,
        )
        return self._decide(call, book, record, config)

    def m_config(self, call: Call, args: tuple[Any, ...]) -> Value:
        return config_view(self._config(call), call.block.height)

    def m_validators(self, call: Call, args: tuple[Any, ...]) -> Value:
        height = int(args[0]) if args else call.block.height + 1
        view = ConsortiumView.of(self._config(call), height, self._suite)
        return [_validator_view(v) for v in view.validator_list]

    def _view(self, config: ConsortiumConfig, call: Call) -> ConsortiumView:
        return ConsortiumView.of(config, call.block.height, self._suite)

    # --- applying ---------------------------------------------------------------------
    def _decide(
        self, call: Call, book: ProposalBook, record: ProposalRecord, config: ConsortiumConfig
    ) -> Value:
        if not self._approved(record, config):
            return record.view(call.block.height)
        try:
            new = self._change(config, call, record.kind, record.args)
        except SystemRevert as e:
            book.decide(call, record, FAILED, str(e))
            return book.get(record.id).view(call.block.height)
        call.state.put("config", new.encode())
        book.decide(call, record, APPLIED)
        return book.get(record.id).view(call.block.height)

    def _approved(self, record: ProposalRecord, config: ConsortiumConfig) -> bool:
        if record.kind == "revoke":
            own_org = _cert_org(record.args[0])
            if own_org in record.approvals and own_org in config.org_names():
                return True
        return policy_met(config.policy(record.scope), record.approvals, config.org_names())

    def _change(
        self, config: ConsortiumConfig, call: Call, kind: str, args: tuple[Any, ...]
    ) -> ConsortiumConfig:
        """The config after ``kind(args)``; raises ``SystemRevert`` if it cannot apply, also
        when the new config would exceed what its decoder accepts (every node reads it back
        after the block: a config it refused would stop the chain)."""
        new = self._changed(config, call, kind, args)
        try:
            new.encode()
        except EncodeError as e:
            raise SystemRevert(f"the change would exceed the config's limits: {e}") from None
        return new

    def _changed(
        self, config: ConsortiumConfig, call: Call, kind: str, args: tuple[Any, ...]
    ) -> ConsortiumConfig:
        effective = call.block.height + VALIDATOR_SET_DELAY
        validators = list(config.latest_validators())
        try:
            if kind == "add_org":
                name, ca_cert = _args(args, 2, kind)
                _check_name(name, "organisation name")
                if config.organisation(name) is not None:
                    raise SystemRevert(f"organisation {name!r} is already a member")
                org = Organisation(name, _bytes(ca_cert, "ca_cert"))
                try:
                    check_root(self._suite, org)
                except MembershipError as e:
                    raise SystemRevert(f"root CA refused: {e}") from None
                return replace(config, organisations=(*config.organisations, org))
            if kind == "remove_org":
                (name,) = _args(args, 1, kind)
                if config.organisation(name) is None:
                    raise SystemRevert(f"organisation {name!r} is not a member")
                if len(config.organisations) == 1:
                    raise SystemRevert("the last organisation cannot leave")
                remaining = [v for v in validators if v.org != name]
                orgs = tuple(o for o in config.organisations if o.name != name)
                if not remaining:
                    raise SystemRevert(f"removing {name!r} would leave no validator")
                new = replace(config, organisations=orgs)
                if len(remaining) != len(validators):
                    # its validators sign (by key) until the removal is in force
                    new = new.with_validators(remaining, from_height=effective)
                return new
            if kind == "add_validator":
                name, org, public_key, power, address = _args(args, 5, kind)
                _check_name(name, "validator name")
                if not isinstance(address, str) or len(address.encode()) > MAX_ADDRESS_BYTES:
                    raise SystemRevert(
                        f"address is a host:port string of at most {MAX_ADDRESS_BYTES} bytes"
                    )
                key = _bytes(public_key, "public_key")
                if (org, key) in self._view(config, call).revoked_keys:
                    raise SystemRevert("that public key is revoked")
                validators.append(Validator(name, str(org), key, _power(power), address))
                return config.with_validators(validators, from_height=effective)
            if kind == "remove_validator":
                (name,) = _args(args, 1, kind)
                remaining = [v for v in validators if v.name != name]
                if len(remaining) == len(validators):
                    raise SystemRevert(f"no validator named {name!r}")
                return config.with_validators(remaining, from_height=effective)
            if kind == "set_power":
                name, power = _args(args, 2, kind)
                if not any(v.name == name for v in validators):
                    raise SystemRevert(f"no validator named {name!r}")
                changed = [
                    replace(v, power=_power(power)) if v.name == name else v for v in validators
                ]
                return config.with_validators(changed, from_height=effective)
            if kind == "set_policy":
                scope, policy = _args(args, 2, kind)
                check_policy(str(scope), str(policy))
                return config.with_policy(str(scope), str(policy))
            if kind == "set_params":
                (pairs,) = _args(args, 1, kind)
                values = config.params.as_dict()
                for pair in pairs:
                    pname, value = _args(tuple(pair), 2, "set_params entry")
                    if pname not in values:
                        raise SystemRevert(f"unknown chain parameter {pname!r}")
                    values[pname] = value
                params = ChainParams(**values)
                params.check()
                return replace(config, params=params)
            if kind == "revoke":
                (cert,) = _args(args, 1, kind)
                return self._revoke(config, call, _bytes(cert, "cert"), validators, effective)
        except GenesisError as e:
            raise SystemRevert(str(e)) from None
        raise SystemRevert(f"unknown proposal kind {kind!r}")

    def _revoke(
        self,
        config: ConsortiumConfig,
        call: Call,
        der: bytes,
        validators: list[Validator],
        effective: int,
    ) -> ConsortiumConfig:
        try:
            info = parse_certificate(der)
        except CertificateError as e:
            raise SystemRevert(f"not a certificate: {e}") from None
        cert_id = self._suite.hash(der)
        if cert_id in self._view(config, call).revoked_ids:
            raise SystemRevert("that certificate is already revoked")
        org = config.organisation(info.org)
        if org is None:
            raise SystemRevert(f"organisation {info.org!r} is not a member")
        if not verify_signed_by(self._suite, info, check_root(self._suite, org)):
            raise SystemRevert(f"the certificate was not issued by the root CA of {info.org!r}")
        revocation = Revocation(cert_id, info.org, info.public_key, call.block.height)
        new = replace(config, revocations=(*config.revocations, revocation))
        remaining = [v for v in validators if (v.org, v.public_key) != (info.org, info.public_key)]
        if remaining and len(remaining) != len(validators):
            new = new.with_validators(remaining, from_height=effective)
        return new


def config_view(config: ConsortiumConfig, height: int) -> dict[str, Value]:
    """The config for readers (API, CLI): names, keys in hex, certificates by fingerprint.
    It shows the schedule and decides nothing, so it reads the schedule itself rather than
    assemble a ``ConsortiumView`` (it has no suite)."""
    return {
        "organisations": [o.name for o in config.organisations],
        "validators": [_validator_view(v) for v in config.validators_at(height + 1)],
        "schedule": [
            {"from_height": h, "validators": [_validator_view(v) for v in vs]}
            for h, vs in config.schedule
        ],
        "policies": {scope: config.policy(scope) for scope in POLICY_SCOPES},
        "params": dict(config.params.as_dict()),
        "revocations": [
            {"cert_id": r.cert_id.hex(), "org": r.org, "height": r.height}
            for r in config.revocations
        ],
    }


def _validator_view(v: Validator) -> dict[str, Value]:
    return {
        "name": v.name,
        "org": v.org,
        "public_key": v.public_key.hex(),
        "power": v.power,
        "address": v.address,
    }


def _cert_org(der: Any) -> str:
    try:
        return parse_certificate(bytes(der)).org
    except (CertificateError, TypeError, ValueError):
        return ""


def _two(args: tuple[Any, ...], usage: str) -> tuple[Any, Any]:
    if len(args) != 2:
        raise SystemRevert(usage)
    return args[0], args[1]


def _args(args: tuple[Any, ...], n: int, kind: str) -> tuple[Any, ...]:
    if len(args) != n:
        raise SystemRevert(f"{kind} takes {n} arguments, got {len(args)}")
    return args


def _bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes) or not value:
        raise SystemRevert(f"{what} must be non-empty bytes")
    return value


def _power(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 1_000_000:
        raise SystemRevert("power is an integer in 1..1000000")
    return value


def _check_name(value: Any, what: str) -> None:
    if (
        not isinstance(value, str)
        or not value
        or len(value.encode()) > MAX_NAME_BYTES
        or not value.isprintable()
        or value != value.strip()
    ):
        raise SystemRevert(f"{what} must be printable, 1..{MAX_NAME_BYTES} bytes in UTF-8")
