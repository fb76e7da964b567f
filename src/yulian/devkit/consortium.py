"""Introduction: a consortium in memory — organisations with real root CAs, and their members.

The test harness signs every transaction with an X.509 certificate that the organisation's own
root CA issued (``yulian.crypto.x509``, the code ``yulian network init`` uses), and admission
then establishes the sender from that certificate exactly as a node does. A contract under test
therefore sees the organisation, role, id and attributes a real network would give it, and no
combination a real network could not produce (decision 0045). Nothing touches the disk: keys
and certificates live in this object.

Invariants: an organisation's members are issued by its own CA only; a member's name is unique
in its organisation; a certificate is valid from an hour before the genesis for
``CERT_VALIDITY`` (tests move block time far ahead: maturities, expiries).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from yulian.crypto.suite import PrivateKey, Suite, get_suite
from yulian.crypto.x509 import ROLES, create_ca, issue_certificate, parse_certificate
from yulian.sdk.wallet import Wallet
from yulian.types.consortium import POLICY_SCOPES
from yulian.types.genesis import ChainParams, Genesis, Organisation, Validator

DEFAULT_ORGS = ("org1", "org2", "org3")
DEFAULT_CHAIN_ID = "yulian-devkit"
DEFAULT_GENESIS_TIME_MS = 1_735_689_600_000  # 2025-01-01T00:00:00Z: fixed, so tests repeat
CERT_BACKDATE = timedelta(hours=1)
CERT_VALIDITY = timedelta(days=365 * 30)
ORG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class ConsortiumError(ValueError):
    """A request the in-memory consortium cannot honour (unknown organisation, bad name...)."""


@dataclass
class LocalOrganisation:
    """One organisation: its root CA (certificate and key) and the members it issued."""

    name: str
    suite: Suite
    ca_cert: bytes
    ca_key: PrivateKey
    not_before: datetime
    not_after: datetime
    members: dict[str, Wallet] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    def issue(
        self,
        name: str,
        *,
        role: str = "client",
        attributes: Mapping[str, str] | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> Wallet:
        """A new member ``name`` of this organisation with a certificate from its CA."""
        if name in self.members:
            raise ConsortiumError(f"{name!r} is already a member of {self.name!r}")
        if role not in ROLES:
            raise ConsortiumError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        key = self.suite.generate_key()
        cert = issue_certificate(
            self.suite,
            ca_cert=self.ca_cert,
            ca_key=self.ca_key,
            org=self.name,
            role=role,
            name=name,
            public_key=key.public_key(),
            not_before=not_before or self.not_before,
            not_after=not_after or self.not_after,
            attributes=dict(attributes or {}),
        )
        wallet = Wallet(self.suite, key, cert)
        self.members[name] = wallet
        self.attributes[name] = dict(parse_certificate(cert).attributes)
        return wallet


class LocalConsortium:
    """The organisations of a test chain and the genesis that names their root CAs."""

    def __init__(
        self,
        orgs: Sequence[str] = DEFAULT_ORGS,
        *,
        suite: str = "standard",
        chain_id: str = DEFAULT_CHAIN_ID,
        genesis_time_ms: int = DEFAULT_GENESIS_TIME_MS,
        params: ChainParams | None = None,
        policies: Mapping[str, str] | None = None,
        contracts: Sequence[tuple[str, str]] = (),
    ) -> None:
        names = list(orgs)
        if not names:
            raise ConsortiumError("a consortium needs at least one organisation")
        for name in names:
            if not isinstance(name, str) or not ORG_NAME.fullmatch(name):
                raise ConsortiumError(
                    f"organisation name {name!r}: 1..64 of A-Z a-z 0-9 _ . -, "
                    "starting with a letter or digit"
                )
        if len(set(names)) != len(names):
            raise ConsortiumError("organisation names must be unique")
        self.suite = get_suite(suite)
        start = datetime.fromtimestamp(genesis_time_ms / 1000, UTC) - CERT_BACKDATE
        end = start + CERT_VALIDITY
        self._orgs: dict[str, LocalOrganisation] = {}
        for name in names:
            ca_key = self.suite.generate_key()
            ca_cert = create_ca(self.suite, name, ca_key, not_before=start, not_after=end)
            self._orgs[name] = LocalOrganisation(name, self.suite, ca_cert, ca_key, start, end)
        validator_key = self.suite.generate_key()  # the chain needs one; the harness never votes
        self.genesis = Genesis(
            chain_id=chain_id,
            suite=self.suite.name,
            time_ms=genesis_time_ms,
            organisations=tuple(Organisation(o.name, o.ca_cert) for o in self._orgs.values()),
            validators=(Validator(f"{names[0]}-node0", names[0], validator_key.public_key()),),
            policies=dict(policies)
            if policies is not None
            else dict.fromkeys(POLICY_SCOPES, "MAJORITY"),
            params=params if params is not None else ChainParams(),
            contracts=tuple((str(n), str(s)) for n, s in contracts),
        )

    @property
    def org_names(self) -> tuple[str, ...]:
        return tuple(self._orgs)

    def org(self, name: str) -> LocalOrganisation:
        org = self._orgs.get(name)
        if org is None:
            raise ConsortiumError(
                f"no organisation {name!r}; the consortium has {', '.join(self._orgs)}"
            )
        return org

    def admin(self, org: str) -> Wallet:
        """The admin of ``org`` (issued on first use): it proposes and approves deployments."""
        local = self.org(org)
        return local.members.get("admin") or local.issue("admin", role="admin")

    def member(
        self,
        org: str,
        name: str = "client",
        *,
        role: str = "client",
        attributes: Mapping[str, str] | None = None,
    ) -> Wallet:
        """Member ``name`` of ``org``, issued on first use with ``role`` and ``attributes``;
        asking again returns the same member, and asking with other attributes is an error."""
        local = self.org(org)
        wallet = local.members.get(name)
        if wallet is None:
            return local.issue(name, role=role, attributes=attributes)
        if wallet.role != role or local.attributes[name] != dict(attributes or {}):
            raise ConsortiumError(
                f"{name}@{org} exists as {wallet.role} with attributes "
                f"{local.attributes[name]}; issue another name for another certificate"
            )
        return wallet
