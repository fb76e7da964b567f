"""Introduction: how identity files are written and read.

Private keys are PKCS#8 PEM with mode 0600 in directories with mode 0700, whatever the umask,
written durably and never over an existing file; certificates are PEM with mode 0644. A
certificate is read as PEM or DER.
"""

from __future__ import annotations

import os
from pathlib import Path

from yulian.crypto.suite import PrivateKey
from yulian.crypto.x509 import CertificateError, CertInfo, der_to_pem, parse_certificate, pem_to_der


class PkiError(ValueError):
    """A network directory's identities that cannot be read, created or changed; the message
    names the file or member."""


def write_pair(directory: Path, stem: str, cert_der: bytes, key: PrivateKey) -> None:
    """``stem.crt`` and ``stem.key`` in ``directory`` (made private if missing)."""
    make_private_dir(directory)
    (directory / f"{stem}.crt").write_bytes(der_to_pem(cert_der))
    write_private(directory / f"{stem}.key", key.to_pem())


def make_private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)


def write_private(path: Path, data: bytes) -> None:
    """A secret file that must not exist yet: mode 0600, fsynced."""
    _write_exclusive(path, data, 0o600)


def write_public(path: Path, data: bytes) -> None:
    """A public file that must not exist yet: mode 0644, fsynced."""
    _write_exclusive(path, data, 0o644)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_certificate(path: Path) -> CertInfo:
    """The certificate in ``path`` (PEM or DER); raises ``PkiError``."""
    try:
        data = path.read_bytes()
        der = pem_to_der(data) if data.lstrip().startswith(b"-----") else data
        return parse_certificate(der)
    except OSError as e:
        raise PkiError(f"cannot read {path}: {e.strerror or e}") from None
    except CertificateError as e:
        raise PkiError(f"{path}: {e}") from None


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
