"""Introduction: an organisation's certificate authority — the one issuer of member certificates.

``CertificateAuthority.found`` makes a new root (``network init``, ``org create``);
``CertificateAuthority.load`` opens an existing one from a network directory (``ca issue``,
``ca renew``). Either issues ``client``, ``admin`` and ``node`` certificates, and never one that
outlives the CA itself, since membership checks the CA's window too.

This is tooling, not consensus: it reads the operating system's randomness (keys, serial
numbers); times are handed in by the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from yulian.crypto.suite import PrivateKey, Suite, SuiteError
from yulian.crypto.x509 import (
    DEFAULT_NODE_HOSTS,
    CertificateError,
    create_ca,
    issue_certificate,
    parse_certificate,
)
from yulian.pki.files import PkiError, read_certificate, write_pair
from yulian.pki.layout import network_root

BACKDATE = timedelta(hours=1)  # tolerate clocks a little behind the one that issued
CA_VALIDITY_FACTOR = 10  # a root CA outlives the certificates it issues, so they can be renewed


@dataclass(frozen=True)
class CertificateAuthority:
    suite: Suite
    org: str
    cert: bytes  # DER
    key: PrivateKey

    @classmethod
    def found(
        cls, suite: Suite, org: str, now: datetime, validity_days: int
    ) -> CertificateAuthority:
        """A new root CA for ``org``, valid ``CA_VALIDITY_FACTOR`` times ``validity_days``."""
        key = suite.generate_key()
        der = create_ca(
            suite,
            org,
            key,
            not_before=now - BACKDATE,
            not_after=now + timedelta(days=validity_days * CA_VALIDITY_FACTOR),
        )
        return cls(suite, org, der, key)

    @classmethod
    def load(cls, network_dir: Path, org: str, suite: Suite) -> CertificateAuthority:
        """``org``'s CA from ``DIR/orgs/<org>/ca``; its key must be there (not offline)."""
        root = network_root(network_dir)
        ca_dir = root / "orgs" / org / "ca"
        if not (ca_dir / "ca.crt").is_file():
            raise PkiError(f"no organisation {org!r} in {root}")
        info = read_certificate(ca_dir / "ca.crt")
        try:
            key = suite.load_private_key((ca_dir / "ca.key").read_bytes())
        except FileNotFoundError:
            raise PkiError(f"the CA key of {org!r} is not in {ca_dir} (kept offline?)") from None
        except (OSError, ValueError) as e:
            raise PkiError(f"cannot load the CA key of {org!r}: {e}") from None
        if key.public_key() != info.public_key:
            raise PkiError(f"{ca_dir / 'ca.key'} does not match {ca_dir / 'ca.crt'}")
        return cls(suite, org, info.der, key)

    def save(self, org_dir: Path) -> None:
        """Write ``org_dir/ca/ca.crt`` and ``ca.key``."""
        write_pair(org_dir / "ca", "ca", self.cert, self.key)

    @property
    def not_after(self) -> datetime:
        return datetime.fromtimestamp(parse_certificate(self.cert).not_after_ms / 1000, UTC)

    def window(self, start: datetime, validity_days: int) -> tuple[datetime, datetime]:
        """``(not_before, not_after)`` from ``start``; never past the CA's own end."""
        not_after = start + timedelta(days=validity_days)
        if not_after > self.not_after:
            raise PkiError(
                f"the CA of {self.org!r} ends {self.not_after.isoformat()}; a certificate of "
                f"{validity_days} days would outlive it"
            )
        return start - BACKDATE, not_after

    def issue_der(
        self,
        role: str,
        name: str,
        public_key: bytes,
        window: tuple[datetime, datetime],
        attributes: dict[str, str] | None = None,
        hosts: Sequence[str] = (),
    ) -> bytes:
        """A certificate for ``public_key``; a node's names ``hosts`` (its advertised DNS
        names or addresses) among its subject alternative names."""
        not_before, not_after = window
        try:
            return issue_certificate(
                self.suite,
                ca_cert=self.cert,
                ca_key=self.key,
                org=self.org,
                role=role,
                name=name,
                public_key=public_key,
                not_before=not_before,
                not_after=not_after,
                attributes=attributes or None,
                hosts=hosts,
            )
        except (CertificateError, SuiteError) as e:
            raise PkiError(f"cannot issue {role} certificate for {self.org}/{name}: {e}") from None

    def issue_pair(
        self,
        role: str,
        name: str,
        directory: Path,
        stem: str,
        window: tuple[datetime, datetime],
        hosts: Sequence[str] = (),
    ) -> bytes:
        """Make a key and its certificate, write both; return the public key."""
        key = self.suite.generate_key()
        der = self.issue_der(role, name, key.public_key(), window, hosts=hosts)
        write_pair(directory, stem, der, key)
        return key.public_key()


def certificate_hosts(der: bytes) -> tuple[str, ...]:
    """The hosts a node certificate names besides ``DEFAULT_NODE_HOSTS`` (its advertised DNS
    names and addresses), so a renewal keeps them; ``()`` for a certificate without any."""
    try:
        cert = x509.load_der_x509_certificate(der)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    except ValueError as e:
        raise PkiError(f"malformed certificate: {e}") from None
    names = [str(n.value) for n in san if isinstance(n, x509.DNSName | x509.IPAddress)]
    return tuple(n for n in names if n not in DEFAULT_NODE_HOSTS)
