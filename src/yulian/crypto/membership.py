"""Introduction: the membership check (our MSP) — is this certificate a member, now, in this role?

``Membership`` holds the root CAs of the consortium's organisations and the revoked
certificates and keys (from the consortium config of a height) and answers one question: given
certificate bytes, a time and the roles an action allows, who is this? The certificate must be
well-formed, signed by the root CA of the organisation its subject ``O`` names (and that root
must be in the consortium), inside its validity window (and its CA's) at the given time, not
revoked (nor its public key), and carry one of the allowed roles. Every refusal is a
``MembershipError`` with a stable ``code``.

We do this ourselves because the web-PKI verifier in ``cryptography`` rejects Ed25519 (and SM2)
certificates, and because the rules are simpler than the web's: one root per organisation, no
name constraints, no path building.

The expensive part (parsing and the issuer signature) depends only on the certificate bytes and
the consortium's roots, so it is cached by certificate bytes in a bounded LRU; the time and role
checks are re-run on every call. The revocation verdict is fixed for a ``Membership`` (its lists
are given at construction), so the cache entry carries it, and the window in which the
certificate and its CA are both valid, so a member passes with two comparisons; any refusal
takes the full sequence of checks, which names the first that fails. The check is pure: time is
handed in, nothing is read or written.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from yulian.crypto.suite import Suite
from yulian.crypto.x509 import (
    ROLES,
    CertificateError,
    CertInfo,
    parse_certificate,
    verify_signed_by,
)
from yulian.types.genesis import Organisation

MALFORMED_CERTIFICATE = "malformed_certificate"
UNKNOWN_CA = "unknown_ca"
CERTIFICATE_EXPIRED = "certificate_expired"
CERTIFICATE_NOT_YET_VALID = "certificate_not_yet_valid"
ROLE_NOT_ALLOWED = "role_not_allowed"
ORGANISATION_MISMATCH = "organisation_mismatch"
CERTIFICATE_REVOKED = "certificate_revoked"

ERROR_CODES = (
    MALFORMED_CERTIFICATE,
    UNKNOWN_CA,
    CERTIFICATE_EXPIRED,
    CERTIFICATE_NOT_YET_VALID,
    ROLE_NOT_ALLOWED,
    ORGANISATION_MISMATCH,
    CERTIFICATE_REVOKED,
)

DEFAULT_CACHE_SIZE = 10_000


class MembershipError(ValueError):
    """A certificate that does not identify a member for the action; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown membership error code {code!r}")
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.args[0]}"


@dataclass(frozen=True)
class Identity:
    """A member, as established by a certificate that passed the membership check."""

    org: str
    role: str
    name: str
    id: str  # suite.hash(cert DER).hex()
    attributes: Mapping[str, str]
    public_key: bytes
    cert: bytes


@dataclass(frozen=True)
class _Checked:
    """The cached, time-independent outcome for one certificate."""

    identity: Identity | None
    error_code: str
    error_message: str
    not_before_ms: int
    not_after_ms: int
    ca: CertInfo | None
    revoked: bool = False  # the certificate or its key is on this Membership's lists
    valid_from_ms: int = 0  # the certificate and its CA are both valid from ...
    valid_until_ms: int = -1  # ... until (empty when until < from)


class Membership:
    """The consortium's members, as certified by its organisations' root CAs."""

    def __init__(
        self,
        suite: Suite,
        organisations: Sequence[Organisation],
        *,
        revoked_ids: Collection[bytes] = (),
        revoked_keys: Collection[tuple[str, bytes]] = (),  # (org, public key)
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        if cache_size < 0:
            raise ValueError("cache_size must be >= 0")
        self._suite = suite
        self._roots: dict[str, CertInfo] = {}
        for org in organisations:
            if org.name in self._roots:
                raise ValueError(f"organisation {org.name!r} listed twice")
            self._roots[org.name] = check_root(suite, org)
        self._revoked_ids = frozenset(i.hex() for i in revoked_ids)
        self._revoked_keys = frozenset(revoked_keys)
        self._cache: OrderedDict[bytes, _Checked] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    @property
    def organisations(self) -> tuple[str, ...]:
        return tuple(self._roots)

    def root(self, org: str) -> CertInfo | None:
        """The parsed root CA of ``org``, or ``None`` if ``org`` is not in the consortium."""
        return self._roots.get(org)

    def validate(self, cert_der: bytes, *, at_ms: int, roles: Collection[str]) -> Identity:
        """The identity ``cert_der`` establishes at ``at_ms`` for an action open to ``roles``.

        Raises ``MembershipError`` (codes in ``ERROR_CODES``).
        """
        checked = self._checked(cert_der)
        identity = checked.identity
        if (
            identity is not None
            and not checked.revoked
            and checked.valid_from_ms <= at_ms <= checked.valid_until_ms
            and identity.role in roles
        ):
            return identity
        return self._validate_in_order(checked, at_ms, roles)

    def _validate_in_order(self, checked: _Checked, at_ms: int, roles: Collection[str]) -> Identity:
        """Every check of ``validate`` one by one; raises for the first that fails."""
        if checked.identity is None:
            raise MembershipError(checked.error_code, checked.error_message)
        identity = checked.identity
        ca = checked.ca
        assert ca is not None
        if checked.revoked:
            raise MembershipError(
                CERTIFICATE_REVOKED,
                f"certificate of {identity.name}@{identity.org} (or its key) is revoked",
            )
        if at_ms < checked.not_before_ms:
            raise MembershipError(
                CERTIFICATE_NOT_YET_VALID,
                f"certificate of {identity.name}@{identity.org} is valid from "
                f"{checked.not_before_ms} ms, checked at {at_ms} ms",
            )
        if at_ms > checked.not_after_ms:
            raise MembershipError(
                CERTIFICATE_EXPIRED,
                f"certificate of {identity.name}@{identity.org} expired at "
                f"{checked.not_after_ms} ms, checked at {at_ms} ms",
            )
        if at_ms < ca.not_before_ms:
            raise MembershipError(
                CERTIFICATE_NOT_YET_VALID,
                f"root CA of {identity.org} is valid from {ca.not_before_ms} ms, "
                f"checked at {at_ms} ms",
            )
        if at_ms > ca.not_after_ms:
            raise MembershipError(
                CERTIFICATE_EXPIRED,
                f"root CA of {identity.org} expired at {ca.not_after_ms} ms, checked at {at_ms} ms",
            )
        if identity.role not in roles:
            raise MembershipError(
                ROLE_NOT_ALLOWED,
                f"role {identity.role!r} of {identity.name}@{identity.org} is not allowed here "
                f"(allowed: {', '.join(sorted(roles)) or 'none'})",
            )
        return identity

    # --- the cached part ----------------------------------------------------------------

    def _checked(self, cert_der: bytes) -> _Checked:
        key = bytes(cert_der) if isinstance(cert_der, bytearray | memoryview) else cert_der
        if not isinstance(key, bytes):
            return _refused(MALFORMED_CERTIFICATE, f"expected bytes, got {type(key).__name__}")
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        checked = self._check(key)
        if self._cache_size:
            with self._lock:
                self._cache[key] = checked
                self._cache.move_to_end(key)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return checked

    def _check(self, der: bytes) -> _Checked:
        try:
            info = parse_certificate(der)
        except CertificateError as e:
            return _refused(MALFORMED_CERTIFICATE, str(e))
        if info.is_ca or info.role not in ROLES:
            # A CA certificate (its own or anyone's) never acts as a member.
            return _refused(
                ROLE_NOT_ALLOWED, f"{info.name}@{info.org}: role {info.role!r} is not a member role"
            )
        root = self._roots.get(info.org)
        if root is None or not verify_signed_by(self._suite, info, root):
            other = self._signer_among_roots(info)
            if other is not None:
                return _refused(
                    ORGANISATION_MISMATCH,
                    f"certificate names organisation {info.org!r} but was issued by the CA "
                    f"of {other!r}",
                )
            if root is None:
                return _refused(UNKNOWN_CA, f"organisation {info.org!r} is not in the consortium")
            return _refused(UNKNOWN_CA, f"certificate is not signed by the root CA of {info.org!r}")
        identity = Identity(
            org=info.org,
            role=info.role,
            name=info.name,
            id=self._suite.hash(der).hex(),
            attributes=info.attributes,
            public_key=info.public_key,
            cert=der,
        )
        revoked = (
            identity.id in self._revoked_ids
            or (identity.org, identity.public_key) in self._revoked_keys
        )
        return _Checked(
            identity,
            "",
            "",
            info.not_before_ms,
            info.not_after_ms,
            root,
            revoked=revoked,
            valid_from_ms=max(info.not_before_ms, root.not_before_ms),
            valid_until_ms=min(info.not_after_ms, root.not_after_ms),
        )

    def _signer_among_roots(self, info: CertInfo) -> str | None:
        for name, root in self._roots.items():
            if name != info.org and verify_signed_by(self._suite, info, root):
                return name
        return None


def _refused(code: str, message: str) -> _Checked:
    return _Checked(None, code, message, 0, 0, None)


def check_root(suite: Suite, org: Organisation) -> CertInfo:
    """The parsed root CA of ``org``; raises ``MembershipError`` unless it is a self-signed
    CA certificate under ``suite`` naming ``org``."""
    try:
        root = parse_certificate(org.ca_cert)
    except CertificateError as e:
        raise MembershipError(
            MALFORMED_CERTIFICATE, f"root CA of organisation {org.name!r}: {e}"
        ) from None
    if not (root.is_ca and root.can_sign_certificates):
        raise MembershipError(
            MALFORMED_CERTIFICATE, f"root CA of organisation {org.name!r} is not a CA certificate"
        )
    if root.org != org.name:
        raise MembershipError(
            ORGANISATION_MISMATCH,
            f"root CA of organisation {org.name!r} names organisation {root.org!r}",
        )
    if not verify_signed_by(suite, root, root):
        raise MembershipError(
            UNKNOWN_CA,
            f"root CA of organisation {org.name!r} is not self-signed under {suite.name}",
        )
    return root
