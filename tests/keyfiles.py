"""Which private keys a directory holds, and whose they are: the audit behind "no
organisation's directory holds another's private keys".

Every file is read (not only ``*.key``), every PEM private-key block in it is loaded with the
chain's suite, and its public key is matched against the certificates each organisation's
directory holds. A key that matches no certificate of the directory's own organisations is
someone else's (or a stray), and so is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from yulian.crypto.suite import Suite
from yulian.crypto.x509 import parse_certificate, pem_to_der

MAX_SCANNED_BYTES = 64 << 20  # ledgers can be large; a key file never is
_PRIVATE_PEM = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.DOTALL
)
_CERT_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class HeldKey:
    path: Path
    public_key: bytes


def private_keys(directory: Path, suite: Suite) -> list[HeldKey]:
    """Every private key in any file under ``directory``."""
    found = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.stat().st_size > MAX_SCANNED_BYTES:
            continue
        for block in _PRIVATE_PEM.finditer(path.read_bytes()):
            key = suite.load_private_key(block.group(0))
            found.append(HeldKey(path, key.public_key()))
    return found


def certificate_keys(directory: Path) -> dict[bytes, str]:
    """The public key of every certificate file under ``directory/orgs`` -> its organisation."""
    keys = {}
    for path in sorted((directory / "orgs").rglob("*.crt")):
        for block in _CERT_PEM.finditer(path.read_bytes()):
            info = parse_certificate(pem_to_der(block.group(0)))
            keys[info.public_key] = info.org
    return keys


def foreign_keys(directories: dict[str, Path], suite: Suite) -> list[str]:
    """For organisation -> its directory: every private key a directory holds that is not a
    key of one of its own organisation's certificates (empty when each holds only its own)."""
    problems = []
    for org, directory in directories.items():
        own = {k for k, o in certificate_keys(directory).items() if o == org}
        for held in private_keys(directory, suite):
            if held.public_key not in own:
                problems.append(f"{org}'s directory holds a foreign private key: {held.path}")
            elif not held.path.is_relative_to(directory / "orgs" / org):
                problems.append(f"{org}'s key {held.path} lies outside orgs/{org}/")
    return problems
