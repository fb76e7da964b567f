"""Introduction: the genesis ceremony's public documents — an organisation's export, the
genesis assembled from every export, and an organisation's check of that genesis.

A consortium is founded without anyone holding another organisation's keys:

1. each organisation initialises itself on its own machine and **exports** only public
   material (``OrgExport``): its root CA certificate and, per validator, the node certificate,
   the address the others dial and the voting power it asks for;
2. one party **assembles** the genesis from the exports (``assemble_genesis``), checking every
   certificate against the CA that exported it;
3. every organisation **checks** the genesis against its own export (``check_genesis_for``) and
   accepts it by its hash; its nodes then refuse any other genesis (``node.config``).

An export names no private key, so it can travel by e-mail or on paper; what must travel by a
trusted channel is the genesis hash each organisation compares. Pure: no files, no clock (the
genesis time is handed in).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from yulian.crypto.membership import Membership, MembershipError
from yulian.crypto.suite import SuiteError, get_suite
from yulian.crypto.x509 import KEY_ALGORITHM_SUITES, CertificateError, parse_certificate
from yulian.pki.files import PkiError
from yulian.pki.layout import NAME_PATTERN
from yulian.types.genesis import ChainParams, Genesis, GenesisError, Organisation, Validator

EXPORT_FORMAT = "yulian-org-export/v1"
MAX_EXPORT_BYTES = 1 << 20
MAX_EXPORT_VALIDATORS = 64
MAX_POWER = 1_000_000  # as the consortium contract's set_power
MAX_ADDRESS_CHARS = 255


class CeremonyError(PkiError):
    """An export or a genesis that an organisation must not accept; names what is wrong."""


@dataclass(frozen=True)
class ExportedValidator:
    name: str
    address: str  # host:port the other nodes dial
    power: int
    node_cert: bytes  # DER; the validator's public key is the certificate's


@dataclass(frozen=True)
class OrgExport:
    """One organisation's public contribution to a genesis."""

    org: str
    suite: str
    ca_cert: bytes  # DER of its root CA
    validators: tuple[ExportedValidator, ...] = ()

    def to_json(self) -> str:
        doc = {
            "format": EXPORT_FORMAT,
            "org": self.org,
            "suite": self.suite,
            "ca_cert": _b64(self.ca_cert),
            "validators": [
                {
                    "name": v.name,
                    "address": v.address,
                    "power": v.power,
                    "node_cert": _b64(v.node_cert),
                }
                for v in self.validators
            ],
        }
        return json.dumps(doc, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes, source: str = "export") -> OrgExport:
        """Parse and check an export; raises ``CeremonyError`` naming ``source``."""
        if len(text) > MAX_EXPORT_BYTES:
            raise CeremonyError(f"{source}: larger than {MAX_EXPORT_BYTES} bytes")
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
                raise CeremonyError(f"{source}: not a Yulian organisation export")
            validators = doc["validators"]
            if not isinstance(validators, list) or len(validators) > MAX_EXPORT_VALIDATORS:
                raise CeremonyError(f"{source}: at most {MAX_EXPORT_VALIDATORS} validators")
            export = cls(
                org=_str(doc["org"]),
                suite=_str(doc["suite"]),
                ca_cert=_unb64(doc["ca_cert"]),
                validators=tuple(
                    ExportedValidator(
                        name=_str(v["name"]),
                        address=_str(v["address"]),
                        power=v["power"],
                        node_cert=_unb64(v["node_cert"]),
                    )
                    for v in validators
                ),
            )
        except CeremonyError:
            raise
        except (KeyError, TypeError, ValueError) as e:
            raise CeremonyError(f"{source}: malformed export: {type(e).__name__}: {e}") from None
        export.check(source)
        return export

    def check(self, source: str = "export") -> None:
        """Every certificate is what it claims: the CA a self-signed root of ``org`` under
        ``suite``, each node certificate a node certificate it issued for that name."""
        where = f"{source} (organisation {self.org!r})"
        if not NAME_PATTERN.fullmatch(self.org):
            raise CeremonyError(f"{source}: organisation name {self.org!r} is not allowed")
        try:
            suite = get_suite(self.suite)
        except SuiteError as e:
            raise CeremonyError(f"{where}: {e}") from None
        try:
            ca = parse_certificate(self.ca_cert)
        except CertificateError as e:
            raise CeremonyError(f"{where}: CA certificate: {e}") from None
        if KEY_ALGORITHM_SUITES.get(ca.public_key_algorithm) != self.suite:
            raise CeremonyError(f"{where}: the CA's key is not a {self.suite} suite key")
        try:
            membership = Membership(suite, [Organisation(self.org, self.ca_cert)])
        except MembershipError as e:
            raise CeremonyError(f"{where}: {e}") from None
        names = [v.name for v in self.validators]
        if len(set(names)) != len(names):
            raise CeremonyError(f"{where}: a validator is listed twice")
        for v in self.validators:
            _check_validator(v, where)
            try:
                identity = membership.validate(
                    v.node_cert, at_ms=_issued_at(v.node_cert), roles=("node",)
                )
            except MembershipError as e:
                raise CeremonyError(f"{where}: node certificate of {v.name}: {e}") from None
            if identity.name != v.name:
                raise CeremonyError(
                    f"{where}: the node certificate of {v.name} names {identity.name!r}"
                )

    def public_key(self, validator: ExportedValidator) -> bytes:
        return parse_certificate(validator.node_cert).public_key


def assemble_genesis(
    exports: Sequence[OrgExport],
    *,
    chain_id: str,
    time_ms: int,
    params: ChainParams | None = None,
    policies: Mapping[str, str] | None = None,
    contracts: Sequence[tuple[str, str]] = (),
) -> Genesis:
    """The genesis of the organisations that exported, in the order given.

    Validators are interleaved by organisation (the first of each, then the second of each),
    so consecutive proposers belong to different organisations. Every node certificate must be
    valid at the genesis time. Raises ``CeremonyError``.
    """
    if not exports:
        raise CeremonyError("a genesis needs at least one organisation's export")
    suites = {e.suite for e in exports}
    if len(suites) != 1:
        raise CeremonyError(f"the exports use different crypto suites: {sorted(suites)}")
    for e in exports:
        e.check(f"the export of {e.org}")
    orgs = [e.org for e in exports]
    duplicates = sorted({o for o in orgs if orgs.count(o) > 1})
    if duplicates:
        raise CeremonyError(f"organisation(s) exported twice: {', '.join(duplicates)}")
    rows = zip_longest(*(e.validators for e in exports))
    ordered = [(e, v) for row in rows for e, v in zip(exports, row, strict=True) if v is not None]
    _refuse_repeats("validator name", [(v.name, e.org) for e, v in ordered])
    _refuse_repeats("validator address", [(v.address, e.org) for e, v in ordered])
    _refuse_repeats("node key", [(e.public_key(v).hex(), e.org) for e, v in ordered])
    organisations = tuple(Organisation(e.org, e.ca_cert) for e in exports)
    membership = Membership(get_suite(exports[0].suite), organisations)
    for e, v in ordered:
        try:
            membership.validate(v.node_cert, at_ms=time_ms, roles=("node",))
        except MembershipError as err:
            raise CeremonyError(
                f"the node certificate of {v.name} ({e.org}) at the genesis time: {err}"
            ) from None
    try:
        return Genesis(
            chain_id=chain_id,
            suite=exports[0].suite,
            time_ms=time_ms,
            organisations=organisations,
            validators=tuple(
                Validator(v.name, e.org, e.public_key(v), v.power, v.address) for e, v in ordered
            ),
            policies=dict(policies or {}),
            params=params if params is not None else ChainParams(),
            contracts=tuple(contracts),
        )
    except GenesisError as err:
        raise CeremonyError(f"invalid genesis: {err}") from None


def check_genesis_for(genesis: Genesis, export: OrgExport) -> list[str]:
    """What organisation ``export.org`` checks before it accepts ``genesis``, as founder:
    the suite; its own CA, byte for byte; its validators exactly as it exported them (name,
    key, address, power: none added, dropped or changed). Returns what was checked, one line
    each; raises ``CeremonyError`` at the first difference."""
    who = f"organisation {export.org}"
    if genesis.suite != export.suite:
        raise CeremonyError(f"the genesis uses suite {genesis.suite}, {who} {export.suite}")
    _check_roots(genesis)
    org = genesis.organisation(export.org)
    if org is None:
        raise CeremonyError(f"{who} is not in this genesis")
    if org.ca_cert != export.ca_cert:
        raise CeremonyError(f"the genesis carries another CA certificate for {who}")
    mine = {(v.name, export.public_key(v), v.address, v.power) for v in export.validators}
    listed = {
        (v.name, v.public_key, v.address, v.power) for v in genesis.validators if v.org == org.name
    }
    if listed != mine:
        raise CeremonyError(
            f"the genesis lists {who}'s validators as {_describe(listed)}, "
            f"it exported {_describe(mine)}"
        )
    total = genesis.total_power()
    own = sum(v.power for v in export.validators)
    return [
        f"chain {genesis.chain_id!r}, suite {genesis.suite}, "
        f"{len(genesis.organisations)} organisation(s), {len(genesis.validators)} validator(s)",
        f"{who}'s CA certificate is the one it exported",
        f"{who}'s validators are exactly the ones it exported (power {own} of {total})",
    ]


def check_genesis_for_joiner(genesis: Genesis, org: str, suite: str) -> list[str]:
    """What an organisation that is *not* a founder checks: the suite, the roots, and that no
    one founded the chain in its name (it joins later through governance)."""
    if genesis.suite != suite:
        raise CeremonyError(f"the genesis uses suite {genesis.suite}, organisation {org} {suite}")
    _check_roots(genesis)
    if genesis.organisation(org) is not None:
        raise CeremonyError(f"the genesis already founds an organisation named {org!r}")
    return [
        f"chain {genesis.chain_id!r}, suite {genesis.suite}",
        f"organisation {org} is not a founder: it becomes a member by an add_org proposal",
    ]


# --- helpers ----------------------------------------------------------------------------


def _check_validator(v: ExportedValidator, where: str) -> None:
    if not NAME_PATTERN.fullmatch(v.name):
        raise CeremonyError(f"{where}: validator name {v.name!r} is not allowed")
    if type(v.power) is not int or not 0 < v.power <= MAX_POWER:
        raise CeremonyError(f"{where}: power of {v.name} must be an integer in 1..{MAX_POWER}")
    host, sep, port = v.address.rpartition(":")
    if (
        not sep
        or not host
        or not port.isdigit()
        or not 0 < int(port) <= 65535
        or len(v.address) > MAX_ADDRESS_CHARS
        or host in ("0.0.0.0", "::", "[::]")
    ):
        raise CeremonyError(
            f"{where}: {v.name}'s address {v.address!r} is not a dialable host:port"
        )


def _check_roots(genesis: Genesis) -> None:
    """Every organisation's root is a self-signed CA naming it, under the genesis suite."""
    try:
        Membership(get_suite(genesis.suite), genesis.organisations)
    except (MembershipError, SuiteError, ValueError) as e:
        raise CeremonyError(f"the genesis carries a bad root CA: {e}") from None


def _issued_at(der: bytes) -> int:
    """A moment inside the certificate's own window: the export's check is about who issued
    it and for what; validity at the genesis time is checked when assembling."""
    try:
        return parse_certificate(der).not_before_ms
    except CertificateError as e:
        raise CeremonyError(f"node certificate: {e}") from None


def _refuse_repeats(what: str, values: Sequence[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for value, org in values:
        if value in seen:
            raise CeremonyError(f"{what} {value} is exported by both {seen[value]} and {org}")
        seen[value] = org


def _describe(validators: set[tuple[str, bytes, str, int]]) -> str:
    if not validators:
        return "none"
    return ", ".join(
        f"{name} (key {key.hex()[:16]}…, {address}, power {power})"
        for name, key, address, power in sorted(validators)
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise TypeError("expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as e:
        raise ValueError(f"bad base64: {e}") from None


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value
