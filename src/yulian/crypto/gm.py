"""Introduction: the gm suite (国密) — SM2 signatures, the SM3 hash, SM4-GCM encryption.

* **SM3** (GB/T 32905) is the chain hash, through ``hashlib`` (OpenSSL's implementation).
* **SM2** (GB/T 32918) signs with SM3 and the distinguishing ID ``1234567812345678`` (GM/T
  0009): ``e = SM3(Z_A || M)`` with ``Z_A = SM3(ENTL || ID || a || b || x_G || y_G || x_A ||
  y_A)``. Public keys are the 65-byte uncompressed point ``04 || x || y``; signatures are the
  DER ``SEQUENCE { r INTEGER, s INTEGER }`` that OpenSSL and GmSSL produce, at most 72 bytes;
  private keys are PKCS#8 PEM (``id-ecPublicKey`` with the SM2 curve ``1.2.156.10197.1.301``).
* **SM4** (GB/T 32907) in GCM mode (RFC 8998, GB/T 36624) encrypts private data: ``encrypt`` /
  ``decrypt`` here, ``yulian.crypto.aead.suite_aead("gm")`` for suite-generic callers.

``cryptography`` cannot load SM2 keys, so SM2 goes through a thin ``ctypes`` binding to the
system's OpenSSL 3 ``libcrypto``. The binding does only the elliptic-curve part: the suite
computes ``Z_A`` once per key and ``e`` per message itself (``hashlib`` SM3). libcrypto signs
``e`` (``EVP_PKEY_sign``: its constant-time code for the secret nonce). Verifying is on the
consensus hot path and OpenSSL 3.0's generic curve code makes it slow, so the suite checks
the verification equation itself with libcrypto's point arithmetic and precomputed multiples
of ``G`` and of each hot public key (2.5x faster; see "verification" below). Every public key
is parsed once and kept, with its ``Z_A``, in a bounded LRU cache (``VERIFIER_CACHE_SIZE``).

Invariants:

- ``verify`` never raises and accepts exactly the canonical DER signature with ``1 <= r, s <
  n`` (``_signature_r_s`` refuses everything else) that satisfies GB/T 32918.2 §7.1; a public
  key must be a valid point on the curve. With or without a key's table, the same answer.
- OpenSSL's per-thread error queue is cleared after every failing call, so a refused signature
  never leaks an error into the ``ssl`` module's next operation in the same thread.
- A signing ``EVP_PKEY_CTX`` is used by one thread at a time (each key has a lock).
  Verification shares only read-only groups and points between threads (each thread has its
  own ``BN_CTX`` and scratch); ``ctypes`` releases the GIL during each call, so signatures are
  checked in parallel across threads.

SM2 signing draws a fresh nonce from OpenSSL's generator for every signature, so two
signatures of the same message differ: compare signatures by verifying them, never by bytes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import secrets
import threading
import weakref
from collections import OrderedDict
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from yulian.crypto.aead import Aead, DecryptionError
from yulian.crypto.suite import PrivateKey, Suite, SuiteError, register_suite

__all__ = [
    "DISTINGUISHING_ID",
    "GM",
    "SM2_PUBLIC_KEY_SIZE",
    "SM4_GCM",
    "SM4_KEY_SIZE",
    "GmSuite",
    "Sm2PrivateKey",
    "decrypt",
    "encrypt",
    "sm2_public_key_valid",
    "sm2_z",
    "sm4_encrypt_block",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]

DISTINGUISHING_ID = b"1234567812345678"  # the default ID of GM/T 0009-2012 §10
SM2_PUBLIC_KEY_SIZE = 65  # 04 || x || y
SM2_MAX_SIGNATURE_SIZE = 72  # SEQUENCE { INTEGER (<= 33 bytes), INTEGER (<= 33 bytes) }
SM3_SIZE = 32
SM4_KEY_SIZE = 16
SM4_GCM_NONCE_SIZE = 12
SM4_GCM_TAG_SIZE = 16
MAX_AEAD_PLAINTEXT_BYTES = 64 * 1024 * 1024
VERIFIER_CACHE_SIZE = 4096  # distinct public keys kept parsed (validators, active clients)
PRECOMPUTED_KEYS = 256  # of those, keys with a table of multiples (~80 KB each)
PRECOMPUTE_AFTER_USES = 4  # a key's table is built at its 4th verification

# The SM2 recommended curve (GB/T 32918.5): coefficients, base point and order.
_SM2_A = bytes.fromhex("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC")
_SM2_B = bytes.fromhex("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93")
_SM2_GX = bytes.fromhex("32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7")
_SM2_GY = bytes.fromhex("BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0")
_SM2_N = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)

# SubjectPublicKeyInfo of an SM2 key, up to the point: SEQUENCE { SEQUENCE { id-ecPublicKey,
# sm2 }, BIT STRING (0 unused bits) }. The whole SPKI is this prefix and the 65-byte point.
SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d034200")


# --- libcrypto --------------------------------------------------------------------------

_BYTES_LIKE = (bytes, bytearray, memoryview)

_vp = ctypes.c_void_p
_int = ctypes.c_int
_size = ctypes.c_size_t
_str = ctypes.c_char_p


class _Libcrypto:
    """The handful of OpenSSL 3 libcrypto functions the suite needs, with their C types."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        def fn(name: str, restype: Any, *argtypes: Any) -> Any:
            f = getattr(lib, name)
            f.restype = restype
            f.argtypes = list(argtypes)
            return f

        self.version_num = fn("OpenSSL_version_num", ctypes.c_ulong)
        self.err_clear = fn("ERR_clear_error", None)
        self.ctx_new_from_name = fn("EVP_PKEY_CTX_new_from_name", _vp, _vp, _str, _str)
        self.ctx_new_from_pkey = fn("EVP_PKEY_CTX_new_from_pkey", _vp, _vp, _vp, _vp)
        self.ctx_free = fn("EVP_PKEY_CTX_free", None, _vp)
        self.keygen_init = fn("EVP_PKEY_keygen_init", _int, _vp)
        self.generate = fn("EVP_PKEY_generate", _int, _vp, ctypes.POINTER(_vp))
        self.pkey_free = fn("EVP_PKEY_free", None, _vp)
        self.pkey_is_a = fn("EVP_PKEY_is_a", _int, _vp, _str)
        self.get_octets = fn(
            "EVP_PKEY_get_octet_string_param", _int, _vp, _str, _str, _size, ctypes.POINTER(_size)
        )
        self.set_utf8 = fn("EVP_PKEY_set_utf8_string_param", _int, _vp, _str, _str)
        self.sign_init = fn("EVP_PKEY_sign_init", _int, _vp)
        self.sign = fn("EVP_PKEY_sign", _int, _vp, _str, ctypes.POINTER(_size), _str, _size)
        self.sn2nid = fn("OBJ_sn2nid", _int, _str)
        self.group_new = fn("EC_GROUP_new_by_curve_name", _vp, _int)
        self.group_free = fn("EC_GROUP_free", None, _vp)
        self.group_order = fn("EC_GROUP_get0_order", _vp, _vp)
        self.group_cofactor = fn("EC_GROUP_get0_cofactor", _vp, _vp)
        self.group_set_generator = fn("EC_GROUP_set_generator", _int, _vp, _vp, _vp, _vp)
        self.group_precompute = fn("EC_GROUP_precompute_mult", _int, _vp, _vp)
        self.point_new = fn("EC_POINT_new", _vp, _vp)
        self.point_free = fn("EC_POINT_free", None, _vp)
        self.point_from_octets = fn("EC_POINT_oct2point", _int, _vp, _vp, _str, _size, _vp)
        self.point_mul = fn("EC_POINT_mul", _int, _vp, _vp, _vp, _vp, _vp, _vp)
        self.point_add = fn("EC_POINT_add", _int, _vp, _vp, _vp, _vp, _vp)
        self.point_x = fn("EC_POINT_get_affine_coordinates", _int, _vp, _vp, _vp, _vp, _vp)
        self.bn_new = fn("BN_new", _vp)
        self.bn_free = fn("BN_free", None, _vp)
        self.bn_from_bytes = fn("BN_bin2bn", _vp, _str, _int, _vp)
        self.bn_to_bytes = fn("BN_bn2binpad", _int, _vp, _str, _int)
        self.bn_ctx_new = fn("BN_CTX_new", _vp)
        self.bn_ctx_free = fn("BN_CTX_free", None, _vp)
        self.bio_new_mem_buf = fn("BIO_new_mem_buf", _vp, _str, _int)
        self.bio_new = fn("BIO_new", _vp, _vp)
        self.bio_s_mem = fn("BIO_s_mem", _vp)
        self.bio_ctrl = fn("BIO_ctrl", ctypes.c_long, _vp, _int, ctypes.c_long, _vp)
        self.bio_free = fn("BIO_free", _int, _vp)
        self.pem_read_private_key = fn("PEM_read_bio_PrivateKey", _vp, _vp, _vp, _vp, _str)
        self.pem_write_pkcs8 = fn(
            "PEM_write_bio_PKCS8PrivateKey", _int, _vp, _vp, _vp, _str, _int, _vp, _vp
        )


def _load_libcrypto() -> _Libcrypto:
    """libcrypto of OpenSSL >= 3.0 (the one ``ssl``/``hashlib`` use, where the loader agrees)."""
    names = ["libcrypto.so.3", "libcrypto.3.dylib"]
    found = ctypes.util.find_library("crypto")
    if found:
        names.append(found)
    errors = []
    for name in names:
        try:
            lib = _Libcrypto(ctypes.CDLL(name))
        except (OSError, AttributeError) as e:
            errors.append(f"{name}: {e}")
            continue
        if lib.version_num() < 0x30000000:
            errors.append(f"{name}: OpenSSL {lib.version_num():#x} is older than 3.0")
            continue
        return lib
    raise SuiteError("the gm suite needs OpenSSL 3 libcrypto: " + "; ".join(errors))


_LIB = _load_libcrypto()
try:
    hashlib.new("sm3")
except ValueError:
    raise SuiteError("the gm suite needs SM3 in hashlib (OpenSSL built with SM3)") from None


def _clear_errors() -> None:
    _LIB.err_clear()


def _free_later(owner: object, free: Any, pointer: int) -> None:
    """Free ``pointer`` when ``owner`` is collected (not at exit: the process frees it all)."""
    weakref.finalize(owner, free, pointer).atexit = False


class _Pkey:
    """An owned SM2 ``EVP_PKEY*`` with its signing ``EVP_PKEY_CTX*`` and the lock for it."""

    def __init__(self, pkey: int) -> None:
        self.pkey = pkey
        _free_later(self, _LIB.pkey_free, pkey)
        if _LIB.pkey_is_a(pkey, b"SM2") != 1:
            _clear_errors()
            raise SuiteError("not an SM2 key")
        ctx = _LIB.ctx_new_from_pkey(None, pkey, None)
        if not ctx:
            _clear_errors()
            raise SuiteError("EVP_PKEY_CTX_new_from_pkey failed")
        _free_later(self, _LIB.ctx_free, ctx)
        if _LIB.sign_init(ctx) != 1:
            _clear_errors()
            raise SuiteError("cannot initialise an SM2 signature context")
        self.ctx = ctx
        self.lock = threading.Lock()

    def public_point(self) -> bytes:
        if _LIB.set_utf8(self.pkey, b"point-format", b"uncompressed") != 1:
            _clear_errors()
            raise SuiteError("cannot select the uncompressed point format")
        buf = ctypes.create_string_buffer(SM2_PUBLIC_KEY_SIZE)
        size = _size(0)
        ok = _LIB.get_octets(
            self.pkey, b"encoded-pub-key", buf, SM2_PUBLIC_KEY_SIZE, ctypes.byref(size)
        )
        point = buf.raw[: size.value]
        if ok != 1 or len(point) != SM2_PUBLIC_KEY_SIZE or point[0] != 4:
            _clear_errors()
            raise SuiteError("cannot read the SM2 public key")
        return point


def sm2_z(public_key: bytes, distinguishing_id: bytes = DISTINGUISHING_ID) -> bytes:
    """``Z_A = SM3(ENTL || ID || a || b || x_G || y_G || x_A || y_A)`` (GB/T 32918.2 §5.5)."""
    if len(public_key) != SM2_PUBLIC_KEY_SIZE or public_key[0] != 4:
        raise SuiteError("an SM2 public key is the 65-byte point 04 || x || y")
    if len(distinguishing_id) >= 8192:
        raise SuiteError("the distinguishing ID is longer than 8191 bytes")
    entl = (len(distinguishing_id) * 8).to_bytes(2, "big")
    material = entl + distinguishing_id + _SM2_A + _SM2_B + _SM2_GX + _SM2_GY + public_key[1:]
    return hashlib.new("sm3", material).digest()


def _z_hasher(public_key: bytes) -> Any:
    h = hashlib.new("sm3")
    h.update(sm2_z(public_key))
    return h


# --- verification: [s]G + [t]P with precomputed multiples -------------------------------
#
# OpenSSL 3.0 has no tuned code for the SM2 curve: EVP_PKEY_verify spends ~90 % of its time
# in one generic EC_POINT_mul(s, G, t, P), 256 doublings long. With a table of multiples of
# G and one of P (EC_GROUP_precompute_mult, on a group whose generator is P), each product
# needs only ~8 doublings; the two products cost ~40 % of the plain one. So the suite checks
# the equation of GB/T 32918.2 §7.1 (B5-B7) itself, with libcrypto's point arithmetic; B1-B2
# are ``_signature_r_s``. A table is ~80 KB, so only ``PRECOMPUTED_KEYS`` keys have one.


def _new_group() -> int:
    group = _LIB.group_new(_LIB.sn2nid(b"SM2"))
    if not group:
        _clear_errors()
        raise SuiteError("libcrypto has no SM2 curve")
    return int(group)


_GROUP = _new_group()  # the SM2 curve with G's table; read-only once built, shared by threads
if _LIB.group_precompute(_GROUP, None) != 1:
    _clear_errors()
    raise SuiteError("EC_GROUP_precompute_mult failed for the SM2 curve")


class _Point:
    """An owned ``EC_POINT*`` on the SM2 curve (a verified public key)."""

    def __init__(self, point: int) -> None:
        self.point = point
        _free_later(self, _LIB.point_free, point)

    @classmethod
    def parse(cls, public_key: bytes) -> _Point | None:
        """The point ``04 || x || y``, or ``None`` unless ``x, y < p`` and it is on the curve."""
        point = _LIB.point_new(_GROUP)
        if not point:
            _clear_errors()
            return None
        owned = cls(point)
        if _LIB.point_from_octets(_GROUP, point, public_key, len(public_key), None) != 1:
            _clear_errors()
            return None
        return owned


class _Table:
    """A group whose generator is the public key ``P``, with multiples of ``P`` precomputed."""

    def __init__(self, group: int) -> None:
        self.group = group
        _free_later(self, _LIB.group_free, group)

    @classmethod
    def build(cls, point: _Point) -> _Table | None:
        table = cls(_new_group())
        order, cofactor = _LIB.group_order(_GROUP), _LIB.group_cofactor(_GROUP)
        if (
            _LIB.group_set_generator(table.group, point.point, order, cofactor) != 1
            or _LIB.group_precompute(table.group, None) != 1
        ):
            _clear_errors()
            return None
        return table


class _Scratch:
    """One thread's ``BN_CTX``, scalars and points (libcrypto's are not shared by threads)."""

    def __init__(self) -> None:
        self.ctx = self._own(_LIB.bn_ctx_new(), _LIB.bn_ctx_free)
        self.s = self._own(_LIB.bn_new(), _LIB.bn_free)
        self.t = self._own(_LIB.bn_new(), _LIB.bn_free)
        self.zero = self._own(_LIB.bn_new(), _LIB.bn_free)  # BN_new() is 0
        self.x = self._own(_LIB.bn_new(), _LIB.bn_free)
        self.sg = self._own(_LIB.point_new(_GROUP), _LIB.point_free)
        self.tp = self._own(_LIB.point_new(_GROUP), _LIB.point_free)
        self.x_bytes = ctypes.create_string_buffer(32)

    def _own(self, pointer: int | None, free: Any) -> int:
        if not pointer:
            _clear_errors()
            raise MemoryError("libcrypto could not allocate")
        _free_later(self, free, pointer)
        return pointer


_THREAD = threading.local()


def _scratch() -> _Scratch:
    scratch: _Scratch | None = getattr(_THREAD, "scratch", None)
    if scratch is None:
        scratch = _THREAD.scratch = _Scratch()
    return scratch


def _x1(s: int, t: int, point: _Point, table: _Table | None) -> int | None:
    """``x`` of ``[s]G + [t]P``, or ``None`` for the point at infinity."""
    w = _scratch()
    if not (
        _LIB.bn_from_bytes(s.to_bytes(32, "big"), 32, w.s)
        and _LIB.bn_from_bytes(t.to_bytes(32, "big"), 32, w.t)
    ):  # never a stale scalar from the last call
        _clear_errors()
        return None
    if table is None:
        ok = _LIB.point_mul(_GROUP, w.sg, w.s, point.point, w.t, w.ctx) == 1
    else:
        # Each product names the other point with scalar 0: a lone scalar takes OpenSSL's
        # constant-time ladder, which ignores the table (and nothing here is secret).
        ok = (
            _LIB.point_mul(_GROUP, w.sg, w.s, point.point, w.zero, w.ctx) == 1
            and _LIB.point_mul(table.group, w.tp, w.t, point.point, w.zero, w.ctx) == 1
            and _LIB.point_add(_GROUP, w.sg, w.sg, w.tp, w.ctx) == 1
        )
    if not ok or _LIB.point_x(_GROUP, w.sg, w.x, None, w.ctx) != 1:  # fails at infinity
        _clear_errors()
        return None
    if _LIB.bn_to_bytes(w.x, w.x_bytes, 32) != 32:
        _clear_errors()
        return None
    return int.from_bytes(w.x_bytes.raw, "big")


class _Verifier:
    """A parsed public key and its ``Z_A``; kept in the LRU cache, with a table when hot."""

    def __init__(self, public_key: bytes, point: _Point) -> None:
        self.point = point
        self.table: _Table | None = None
        self.uses = 0  # since it was cached or lost its table
        self._z = _z_hasher(public_key)

    def verify(self, data: bytes, r: int, s: int) -> bool:
        """GB/T 32918.2 §7.1 B4-B7 for ``1 <= r, s < n`` (B1-B2, checked by the caller)."""
        h = self._z.copy()
        h.update(data)
        e = int.from_bytes(h.digest(), "big")
        t = (r + s) % _SM2_N
        if t == 0:
            return False
        x1 = _x1(s, t, self.point, self.table)
        return x1 is not None and (e + x1) % _SM2_N == r


class _VerifierCache:
    """Bounded LRU of ``_Verifier`` by public key; invalid points are not cached.

    A key's ``PRECOMPUTE_AFTER_USES``-th verification builds its table (~2 verifications'
    worth of work, paid back after ~4 more); the ``tables`` most recently used keys keep
    theirs, and a key whose table is dropped must earn a new one the same way.
    """

    def __init__(self, size: int, tables: int) -> None:
        self._size = size
        self._tables_max = tables
        self._entries: OrderedDict[bytes, _Verifier] = OrderedDict()
        self._tables: OrderedDict[bytes, _Verifier] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, public_key: bytes, *, use: bool = True) -> _Verifier | None:
        with self._lock:
            hit = self._entries.get(public_key)
            if hit is not None:
                self._entries.move_to_end(public_key)
                if use:
                    hit.uses += 1
                    if hit.table is not None:
                        self._tables.move_to_end(public_key)
                    elif hit.uses == PRECOMPUTE_AFTER_USES and self._tables_max:
                        self._add_table(public_key, hit)
                return hit
        point = _Point.parse(public_key)
        if point is None:
            return None
        verifier = _Verifier(public_key, point)
        verifier.uses = int(use)
        with self._lock:
            self._entries[public_key] = verifier
            self._entries.move_to_end(public_key)
            while len(self._entries) > self._size:
                old_key, old = self._entries.popitem(last=False)
                if old.table is not None:
                    del self._tables[old_key]
        return verifier

    def _add_table(self, public_key: bytes, verifier: _Verifier) -> None:
        """Under the lock: ~0.75 ms once per hot key, rare enough not to block others long."""
        verifier.table = _Table.build(verifier.point)
        if verifier.table is None:
            return
        self._tables[public_key] = verifier
        while len(self._tables) > self._tables_max:
            _, cold = self._tables.popitem(last=False)
            cold.table = None
            cold.uses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def tables(self) -> int:
        return len(self._tables)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._tables.clear()


def _signature_r_s(sig: bytes) -> tuple[int, int] | None:
    """``(r, s)`` of ``SEQUENCE { INTEGER r, INTEGER s }`` in minimal DER with ``0 < r, s < n``
    and nothing after it; ``None`` for anything else."""
    n = len(sig)
    if not 8 <= n <= SM2_MAX_SIGNATURE_SIZE or sig[0] != 0x30 or sig[1] != n - 2:
        return None
    pos = 2
    values = []
    for _ in range(2):
        if pos + 2 > n or sig[pos] != 0x02:
            return None
        size = sig[pos + 1]
        start = pos + 2
        end = start + size
        if not 1 <= size <= 33 or end > n:
            return None
        if sig[start] & 0x80:  # negative
            return None
        if sig[start] == 0 and (size == 1 or not sig[start + 1] & 0x80):  # zero or padded
            return None
        value = int.from_bytes(sig[start:end], "big")
        if not 0 < value < _SM2_N:
            return None
        values.append(value)
        pos = end
    if pos != n:
        return None
    return values[0], values[1]


# --- keys and the suite -----------------------------------------------------------------


class Sm2PrivateKey(PrivateKey):
    """An SM2 signing key held in libcrypto; ``sign`` is SM2-with-SM3 with the default ID."""

    def __init__(self, pkey: int) -> None:
        self._key = _Pkey(pkey)
        self._public_key = self._key.public_point()
        self._z = _z_hasher(self._public_key)

    def sign(self, data: bytes) -> bytes:
        h = self._z.copy()
        h.update(data)
        e = h.digest()
        out = ctypes.create_string_buffer(SM2_MAX_SIGNATURE_SIZE)
        size = _size(SM2_MAX_SIGNATURE_SIZE)
        with self._key.lock:
            ok = _LIB.sign(self._key.ctx, out, ctypes.byref(size), e, SM3_SIZE)
        if ok != 1 or not 8 <= size.value <= SM2_MAX_SIGNATURE_SIZE:
            _clear_errors()
            raise SuiteError("SM2 signing failed")
        return out.raw[: size.value]

    def public_key(self) -> bytes:
        return self._public_key

    def to_pem(self) -> bytes:
        bio = _LIB.bio_new(_LIB.bio_s_mem())
        if not bio:
            _clear_errors()
            raise SuiteError("BIO_new failed")
        try:
            if _LIB.pem_write_pkcs8(bio, self._key.pkey, None, None, 0, None, None) != 1:
                _clear_errors()
                raise SuiteError("cannot write the SM2 key as PKCS#8 PEM")
            data = ctypes.c_char_p()
            size = _LIB.bio_ctrl(bio, 3, 0, ctypes.byref(data))  # BIO_get_mem_data
            if size <= 0 or not data:
                raise SuiteError("cannot read back the PKCS#8 PEM")
            return ctypes.string_at(data, size)
        finally:
            _LIB.bio_free(bio)


class GmSuite(Suite):
    name = "gm"
    hash_name = "sm3"
    signature_name = "sm2"
    hash_size = SM3_SIZE

    def __init__(
        self,
        verifier_cache_size: int = VERIFIER_CACHE_SIZE,
        precomputed_keys: int = PRECOMPUTED_KEYS,
    ) -> None:
        if verifier_cache_size < 1:
            raise ValueError("verifier_cache_size must be >= 1")
        if precomputed_keys < 0:
            raise ValueError("precomputed_keys must be >= 0")
        self._verifiers = _VerifierCache(verifier_cache_size, precomputed_keys)

    def hash(self, data: bytes) -> bytes:
        return hashlib.new("sm3", data).digest()

    def generate_key(self) -> Sm2PrivateKey:
        ctx = _LIB.ctx_new_from_name(None, b"SM2", None)
        if not ctx:
            _clear_errors()
            raise SuiteError("EVP_PKEY_CTX_new_from_name(SM2) failed")
        try:
            pkey = _vp()
            if _LIB.keygen_init(ctx) != 1 or _LIB.generate(ctx, ctypes.byref(pkey)) != 1:
                _clear_errors()
                raise SuiteError("SM2 key generation failed")
        finally:
            _LIB.ctx_free(ctx)
        assert pkey.value is not None
        return Sm2PrivateKey(pkey.value)

    def load_private_key(self, pem: bytes) -> Sm2PrivateKey:
        if not isinstance(pem, bytes) or not pem or len(pem) > 64 * 1024:
            raise SuiteError("expected PEM bytes of a private key")
        bio = _LIB.bio_new_mem_buf(pem, len(pem))
        if not bio:
            _clear_errors()
            raise SuiteError("BIO_new_mem_buf failed")
        try:
            # An empty passphrase (never the terminal prompt) for an encrypted key: it fails.
            pkey = _LIB.pem_read_private_key(bio, None, None, b"")
        finally:
            _LIB.bio_free(bio)
        if not pkey:
            _clear_errors()
            raise SuiteError("cannot load private key: not an unencrypted PEM private key")
        try:
            return Sm2PrivateKey(pkey)
        except SuiteError as e:
            raise SuiteError(f"the gm suite needs an SM2 private key: {e}") from None

    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        if not (isinstance(public_key, _BYTES_LIKE) and isinstance(signature, _BYTES_LIKE)):
            return False
        public_key = bytes(public_key)
        signature = bytes(signature)
        if len(public_key) != SM2_PUBLIC_KEY_SIZE or public_key[0] != 4:
            return False
        r_s = _signature_r_s(signature)
        if r_s is None:
            return False
        verifier = self._verifiers.get(public_key)
        if verifier is None:
            return False
        try:
            return verifier.verify(data, *r_s)
        except (TypeError, ValueError, BufferError):
            return False


def sm2_public_key_valid(public_key: bytes) -> bool:
    """True iff ``public_key`` is ``04 || x || y`` for a point on the SM2 curve."""
    return (
        isinstance(public_key, bytes)
        and len(public_key) == SM2_PUBLIC_KEY_SIZE
        and public_key[0] == 4
        and GM._verifiers.get(public_key, use=False) is not None
    )


# --- SM4 --------------------------------------------------------------------------------


def _check_sm4(key: bytes, nonce: bytes | None = None) -> None:
    if not isinstance(key, bytes) or len(key) != SM4_KEY_SIZE:
        raise SuiteError(f"an SM4 key is {SM4_KEY_SIZE} bytes")
    if nonce is not None and (not isinstance(nonce, bytes) or len(nonce) != SM4_GCM_NONCE_SIZE):
        raise SuiteError(f"an SM4-GCM nonce is {SM4_GCM_NONCE_SIZE} bytes")


def _sm4_cipher(key: bytes, mode: modes.Mode) -> Cipher[Any]:
    try:
        return Cipher(algorithms.SM4(key), mode)
    except UnsupportedAlgorithm as e:  # an OpenSSL under ``cryptography`` without SM4(-GCM)
        raise SuiteError(f"SM4 is not available: {e}") from None


def sm4_encrypt_block(key: bytes, block: bytes) -> bytes:
    """SM4 applied to one 16-byte block (the GB/T 32907 primitive; for test vectors)."""
    _check_sm4(key)
    if not isinstance(block, bytes) or len(block) != 16:
        raise SuiteError("an SM4 block is 16 bytes")
    encryptor = _sm4_cipher(key, modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """SM4-GCM (RFC 8998) with an explicit 12-byte nonce: ``ciphertext || tag``.

    A nonce must never repeat under one key; ``encrypt`` draws it at random.
    """
    _check_sm4(key, nonce)
    if len(plaintext) > MAX_AEAD_PLAINTEXT_BYTES:
        raise SuiteError(f"plaintext longer than {MAX_AEAD_PLAINTEXT_BYTES} bytes")
    encryptor = _sm4_cipher(key, modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return body + encryptor.tag


def sm4_gcm_decrypt(key: bytes, nonce: bytes, ciphertext_and_tag: bytes, aad: bytes) -> bytes:
    """The plaintext of ``sm4_gcm_encrypt``; raises ``DecryptionError`` if anything changed."""
    _check_sm4(key, nonce)
    size = len(ciphertext_and_tag)
    if not SM4_GCM_TAG_SIZE <= size <= MAX_AEAD_PLAINTEXT_BYTES + SM4_GCM_TAG_SIZE:
        raise DecryptionError("SM4-GCM ciphertext of impossible length")
    body = ciphertext_and_tag[:-SM4_GCM_TAG_SIZE]
    tag = ciphertext_and_tag[-SM4_GCM_TAG_SIZE:]
    decryptor = _sm4_cipher(key, modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(body) + decryptor.finalize()
    except InvalidTag:
        raise DecryptionError("SM4-GCM authentication failed") from None


def encrypt(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """``nonce || ciphertext || tag`` under SM4-GCM with a fresh random 96-bit nonce.

    Random nonces are safe for up to 2**32 messages under one key (NIST SP 800-38D §8.3).
    """
    nonce = secrets.token_bytes(SM4_GCM_NONCE_SIZE)
    return nonce + sm4_gcm_encrypt(key, nonce, plaintext, aad)


def decrypt(key: bytes, sealed: bytes, aad: bytes = b"") -> bytes:
    """The plaintext of ``encrypt``; raises ``DecryptionError`` for a wrong key, AAD or change."""
    if len(sealed) < SM4_GCM_NONCE_SIZE + SM4_GCM_TAG_SIZE:
        raise DecryptionError("sealed SM4-GCM data is too short")
    return sm4_gcm_decrypt(key, sealed[:SM4_GCM_NONCE_SIZE], sealed[SM4_GCM_NONCE_SIZE:], aad)


SM4_GCM = Aead("sm4-gcm", SM4_KEY_SIZE, encrypt, decrypt)

GM = GmSuite()
register_suite(GM)
