"""The gm suite: SM2 keys and signatures, SM3, and interoperability with OpenSSL and GmSSL.

Signatures made here must verify with the ``openssl`` command line and with ``gmssl`` (an
independent pure-Python implementation), and theirs here; every single-bit change of the
message, signature or public key is refused; only canonical DER signatures are accepted.
"""

from __future__ import annotations

import base64
import ctypes
import subprocess
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from gmssl import sm2 as gmssl_sm2

from yulian.crypto.gm import (
    DISTINGUISHING_ID,
    GM,
    SM2_PUBLIC_KEY_SIZE,
    SM2_SPKI_PREFIX,
    GmSuite,
    Sm2PrivateKey,
    sm2_public_key_valid,
)
from yulian.crypto.standard import STANDARD
from yulian.crypto.suite import SuiteError, get_suite

N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
KEY = GM.generate_key()
MESSAGE = b"yulian: a block header to sign"
SIGNATURE = KEY.sign(MESSAGE)
PKCS8_PREFIX = bytes.fromhex(
    "308187020100301306072a8648ce3d020106082a811ccf5501822d046d306b0201010420"
)


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _der_signature(r: int, s: int) -> bytes:
    def integer(v: int) -> bytes:
        body = v.to_bytes(
            (v.bit_length() + 8) // 8 or 1, "big"
        )  # a leading 0 if the top bit is set
        return bytes((0x02, len(body))) + body

    content = integer(r) + integer(s)
    return bytes((0x30, len(content))) + content


def _r_s(signature: bytes) -> tuple[int, int]:
    assert signature[0] == 0x30 and signature[2] == 0x02
    r_len = signature[3]
    r = int.from_bytes(signature[4 : 4 + r_len], "big")
    s = int.from_bytes(signature[6 + r_len :], "big")
    return r, s


def _private_scalar(key: Sm2PrivateKey) -> bytes:
    """The 32-byte private key d, read out of the PKCS#8 PEM the key writes."""
    pem = key.to_pem().decode()
    der = base64.b64decode("".join(pem.strip().splitlines()[1:-1]))
    assert der.startswith(PKCS8_PREFIX)
    return der[len(PKCS8_PREFIX) : len(PKCS8_PREFIX) + 32]


def _public_key_pem(public_key: bytes) -> bytes:
    body = base64.b64encode(SM2_SPKI_PREFIX + public_key).decode()
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n".encode()


# --- the suite --------------------------------------------------------------------------


def test_get_suite_finds_gm_and_standard() -> None:
    gm = get_suite("gm")
    assert gm is GM
    assert (gm.name, gm.hash_name, gm.signature_name, gm.hash_size) == ("gm", "sm3", "sm2", 32)
    assert get_suite("standard") is STANDARD
    with pytest.raises(SuiteError, match="known: \\['gm', 'standard'\\]"):
        get_suite("rot13")


def test_public_key_is_the_uncompressed_point() -> None:
    public_key = KEY.public_key()
    assert len(public_key) == SM2_PUBLIC_KEY_SIZE and public_key[0] == 4
    assert sm2_public_key_valid(public_key)


def test_pem_round_trip_is_pkcs8() -> None:
    pem = KEY.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    loaded = GM.load_private_key(pem)
    assert loaded.public_key() == KEY.public_key()
    assert loaded.to_pem() == pem
    assert GM.verify(KEY.public_key(), MESSAGE, loaded.sign(MESSAGE))


def test_signatures_are_der_and_randomised() -> None:
    first, second = KEY.sign(MESSAGE), KEY.sign(MESSAGE)
    assert first != second  # a fresh nonce each time: compare signatures by verifying
    for sig in (first, second):
        assert sig[0] == 0x30 and len(sig) == sig[1] + 2 <= 72
        assert GM.verify(KEY.public_key(), MESSAGE, sig)


def test_sign_and_verify_various_messages() -> None:
    for message in (b"", b"\x00", b"a" * 63, b"b" * 64, b"c" * 65, bytes(range(256)) * 100):
        assert GM.verify(KEY.public_key(), message, KEY.sign(message))
    assert GM.verify(KEY.public_key(), bytearray(MESSAGE), bytearray(SIGNATURE))
    assert GM.verify(memoryview(KEY.public_key()), memoryview(MESSAGE), memoryview(SIGNATURE))


def test_every_single_bit_flip_is_refused() -> None:
    public_key = KEY.public_key()
    assert GM.verify(public_key, MESSAGE, SIGNATURE)
    for bit in range(len(MESSAGE) * 8):
        assert not GM.verify(public_key, _flip(MESSAGE, bit), SIGNATURE), f"message bit {bit}"
    for bit in range(len(SIGNATURE) * 8):
        assert not GM.verify(public_key, MESSAGE, _flip(SIGNATURE, bit)), f"signature bit {bit}"
    for bit in range(len(public_key) * 8):
        assert not GM.verify(_flip(public_key, bit), MESSAGE, SIGNATURE), f"key bit {bit}"


def test_another_key_or_the_standard_suite_refuses() -> None:
    other = GM.generate_key()
    assert not GM.verify(other.public_key(), MESSAGE, SIGNATURE)
    assert not STANDARD.verify(KEY.public_key(), MESSAGE, SIGNATURE)
    ed = STANDARD.generate_key()
    assert not GM.verify(ed.public_key(), MESSAGE, ed.sign(MESSAGE))


def test_only_canonical_der_is_accepted() -> None:
    public_key = KEY.public_key()
    r, s = _r_s(SIGNATURE)
    assert _der_signature(r, s) == SIGNATURE
    r_bytes, s_bytes = r.to_bytes(32, "big"), s.to_bytes(32, "big")
    content = SIGNATURE[2:]
    variants = {
        "raw r || s": r_bytes + s_bytes,
        "long-form length": bytes((0x30, 0x81, len(content))) + content,
        "trailing byte": SIGNATURE + b"\x00",
        "set instead of sequence": b"\x31" + SIGNATURE[1:],
        "padded r": _pad_first_integer(SIGNATURE),
        "s + n": _der_signature(r, s + N),
        "r + n": _der_signature(r + N, s),
        "r = 0": _der_signature(0, s),
        "s = 0": _der_signature(r, 0),
        "s = n": _der_signature(r, N),
        "swapped": _der_signature(s, r),
        "empty": b"",
        "truncated": SIGNATURE[:-1],
    }
    for what, sig in variants.items():
        assert not GM.verify(public_key, MESSAGE, sig), what


def _pad_first_integer(signature: bytes) -> bytes:
    """The same (r, s) with a redundant leading zero byte on r (BER, not DER)."""
    r_len = signature[3]
    r = b"\x00" + signature[4 : 4 + r_len]
    rest = signature[4 + r_len :]
    content = bytes((0x02, len(r))) + r + rest
    return bytes((0x30, len(content))) + content


def test_malformed_public_keys_are_refused_not_raised() -> None:
    point = KEY.public_key()
    off_curve = point[:-1] + bytes([point[-1] ^ 1])
    compressed = bytes([2 + (point[-1] & 1)]) + point[1:33]
    for bad in (b"", point[:-1], point + b"\x00", compressed, off_curve, b"\x04" + bytes(64)):
        assert not GM.verify(bad, MESSAGE, SIGNATURE)
        assert not sm2_public_key_valid(bad)


def test_verify_never_raises_on_wrong_types() -> None:
    for args in (
        (None, MESSAGE, SIGNATURE),
        (KEY.public_key(), None, SIGNATURE),
        (KEY.public_key(), MESSAGE, None),
        ("04" * 65, MESSAGE, SIGNATURE),
        (KEY.public_key(), "text", SIGNATURE),
        (65, MESSAGE, 70),
    ):
        assert GM.verify(*args) is False  # type: ignore[arg-type]


def test_failed_verification_leaves_no_openssl_error_behind() -> None:
    lib = ctypes.CDLL("libcrypto.so.3")
    lib.ERR_peek_error.restype = ctypes.c_ulong
    assert not GM.verify(KEY.public_key(), MESSAGE, _flip(SIGNATURE, 100))
    assert not GM.verify(KEY.public_key()[:-1] + b"\x00", MESSAGE, SIGNATURE)
    assert lib.ERR_peek_error() == 0


def test_load_private_key_refuses_what_is_not_an_sm2_key() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    encrypted = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    for pem in (b"", b"not a key", STANDARD.generate_key().to_pem(), p256, encrypted):
        with pytest.raises(SuiteError):
            GM.load_private_key(pem)
    with pytest.raises(SuiteError):
        GM.load_private_key("-----BEGIN PRIVATE KEY-----")  # type: ignore[arg-type]
    with pytest.raises(SuiteError):
        STANDARD.load_private_key(KEY.to_pem())


def test_verifier_cache_is_bounded_and_correct_after_eviction() -> None:
    suite = GmSuite(verifier_cache_size=3)
    keys = [GM.generate_key() for _ in range(5)]
    signed = [(k.public_key(), k.sign(MESSAGE)) for k in keys]
    for _ in range(2):
        for public_key, sig in signed:
            assert suite.verify(public_key, MESSAGE, sig)
            assert not suite.verify(public_key, MESSAGE + b"!", sig)
        assert len(suite._verifiers) == 3
    with pytest.raises(ValueError):
        GmSuite(verifier_cache_size=0)


def test_concurrent_signing_and_verifying() -> None:
    keys = [GM.generate_key() for _ in range(3)]
    failures: list[str] = []

    def work(i: int) -> None:
        key = keys[i % len(keys)]
        for j in range(40):
            message = f"{i}:{j}".encode()
            sig = key.sign(message)
            if not GM.verify(key.public_key(), message, sig):
                failures.append(f"{i}:{j} did not verify")
            if GM.verify(key.public_key(), message + b"x", sig):
                failures.append(f"{i}:{j} verified a changed message")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


# --- interoperability: the openssl command line -----------------------------------------


def _openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], capture_output=True, check=False, timeout=30)


def test_openssl_verifies_yulian_signatures(tmp_path: Path) -> None:
    (tmp_path / "pub.pem").write_bytes(_public_key_pem(KEY.public_key()))
    (tmp_path / "msg").write_bytes(MESSAGE)
    (tmp_path / "sig").write_bytes(SIGNATURE)
    distid = f"distid:{DISTINGUISHING_ID.decode()}"
    pkeyutl = _openssl(
        "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
        "-digest", "sm3", "-pkeyopt", distid, "-in", str(tmp_path / "msg"),
        "-sigfile", str(tmp_path / "sig"),
    )  # fmt: skip
    assert pkeyutl.returncode == 0, pkeyutl.stderr
    assert b"Signature Verified Successfully" in pkeyutl.stdout
    dgst = _openssl(
        "dgst", "-sm3", "-verify", str(tmp_path / "pub.pem"), "-sigopt", distid,
        "-signature", str(tmp_path / "sig"), str(tmp_path / "msg"),
    )  # fmt: skip
    assert dgst.returncode == 0 and b"Verified OK" in dgst.stdout, dgst.stderr
    (tmp_path / "msg").write_bytes(MESSAGE + b"!")
    changed = _openssl(
        "dgst", "-sm3", "-verify", str(tmp_path / "pub.pem"), "-sigopt", distid,
        "-signature", str(tmp_path / "sig"), str(tmp_path / "msg"),
    )  # fmt: skip
    assert changed.returncode != 0


def test_yulian_verifies_openssl_signatures_and_keys(tmp_path: Path) -> None:
    key_path = tmp_path / "key.pem"
    made = _openssl("genpkey", "-algorithm", "SM2", "-out", str(key_path))
    assert made.returncode == 0, made.stderr
    key = GM.load_private_key(key_path.read_bytes())  # OpenSSL's PEM loads here
    (tmp_path / "msg").write_bytes(MESSAGE)
    signed = _openssl(
        "pkeyutl", "-sign", "-inkey", str(key_path), "-rawin", "-digest", "sm3",
        "-pkeyopt", f"distid:{DISTINGUISHING_ID.decode()}", "-in", str(tmp_path / "msg"),
        "-out", str(tmp_path / "sig"),
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    signature = (tmp_path / "sig").read_bytes()
    assert GM.verify(key.public_key(), MESSAGE, signature)
    assert not GM.verify(key.public_key(), MESSAGE + b"!", signature)
    # and OpenSSL reads the PEM written here
    (tmp_path / "ours.pem").write_bytes(KEY.to_pem())
    text = _openssl("pkey", "-in", str(tmp_path / "ours.pem"), "-noout", "-text")
    assert text.returncode == 0 and b"ASN1 OID: SM2" in text.stdout, text.stderr


# --- interoperability: gmssl (pure Python) ----------------------------------------------


def _gmssl(key: Sm2PrivateKey | None, public_key: bytes) -> gmssl_sm2.CryptSM2:
    private = _private_scalar(key).hex() if key is not None else ""
    crypt = gmssl_sm2.CryptSM2(private_key=private, public_key="00", asn1=True)
    crypt.public_key = public_key[1:].hex()  # its constructor mangles keys starting 0 or 4
    return crypt


def test_gmssl_verifies_yulian_signatures() -> None:
    for message in (MESSAGE, b"", bytes(range(256))):
        crypt = _gmssl(None, KEY.public_key())
        assert crypt.verify_with_sm3(KEY.sign(message).hex(), message)
    assert not _gmssl(None, KEY.public_key()).verify_with_sm3(SIGNATURE.hex(), MESSAGE + b"!")


def test_yulian_verifies_gmssl_signatures() -> None:
    crypt = _gmssl(KEY, KEY.public_key())
    for message in (MESSAGE, b"", bytes(range(256))):
        signature = bytes.fromhex(crypt.sign_with_sm3(message))
        assert GM.verify(KEY.public_key(), message, signature)
        assert not GM.verify(KEY.public_key(), message + b"!", signature)
