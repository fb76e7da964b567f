"""Introduction: transactions.

A transaction is a signed body. The body is a positional msgpack array; the signer signs
``tx_sign_bytes(chain_id, body)`` (domain-separated, so a signature cannot be replayed as a vote
or on another chain). The envelope ``[body, signature]`` travels through the API, the mempool
and blocks. The tx id is the hash of the *body bytes* — never of the envelope, so no one can
mint a second id for the same signed intent by re-encoding.

The signer is identified by its X.509 certificate (DER) carried in the body: a receipt is then
verifiable offline with nothing but the genesis (organisation roots and validators).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from yulian.types.encoding import (
    DecodeError,
    Limits,
    Value,
    decode,
    encode,
    encode_canonical,
    to_canonical,
)
from yulian.types.fields import (
    expect_array,
    expect_bytes,
    expect_int,
    expect_list,
    expect_str,
    expect_version,
)

TX_VERSION = 1
TX_DOMAIN = "yulian/tx/v1"
MAX_TX_BYTES = 64 * 1024
MAX_NAME_BYTES = 64
MAX_CHAIN_ID_BYTES = 64
MAX_ARGS = 32
MAX_CERT_BYTES = 4096
MAX_SIGNATURE_BYTES = 128
TX_LIMITS = Limits(
    max_bytes=MAX_TX_BYTES, max_depth=8, max_items=1024, max_str=MAX_TX_BYTES, max_bin=MAX_TX_BYTES
)


@dataclass(frozen=True)
class Tx:
    """The signed intent: call ``contract.method(*args)`` on ``chain_id`` as ``signer``."""

    chain_id: str
    contract: str
    method: str
    args: tuple[Value, ...]
    signer: bytes  # DER X.509 certificate of the signer
    nonce: int  # chosen by the client so that two equal calls have distinct ids
    expires_at: int  # last height at which the tx may be included

    def to_value(self) -> tuple[Value, ...]:
        return (
            TX_VERSION,
            self.chain_id,
            self.contract,
            self.method,
            to_canonical(tuple(self.args)),
            self.signer,
            self.nonce,
            self.expires_at,
        )

    def encode(self) -> bytes:
        return encode(self.to_value())

    @classmethod
    def from_value(cls, value: Value) -> Tx:
        fields = expect_array(value, "tx", 8)
        version, chain_id, contract, method, args, signer, nonce, expires_at = fields
        if (  # every tx admitted: all fields plainly in range, checked in one expression
            type(version) is int
            and version == TX_VERSION
            and _short_ascii(chain_id, MAX_CHAIN_ID_BYTES)
            and _short_ascii(contract, MAX_NAME_BYTES)
            and _short_ascii(method, MAX_NAME_BYTES)
            and type(args) is tuple
            and len(args) <= MAX_ARGS
            and type(signer) is bytes
            and len(signer) <= MAX_CERT_BYTES
            and type(nonce) is int
            and 0 <= nonce <= _MAX_NONCE
            and type(expires_at) is int
            and 0 <= expires_at <= _MAX_HEIGHT
        ):
            return cls(chain_id, contract, method, args, signer, nonce, expires_at)
        # otherwise the field readers, which name the first fault
        expect_version(fields[0], "tx.version", TX_VERSION)
        return cls(
            chain_id=expect_str(fields[1], "tx.chain_id", MAX_CHAIN_ID_BYTES),
            contract=expect_str(fields[2], "tx.contract", MAX_NAME_BYTES),
            method=expect_str(fields[3], "tx.method", MAX_NAME_BYTES),
            args=expect_list(fields[4], "tx.args", MAX_ARGS),
            signer=expect_bytes(fields[5], "tx.signer", MAX_CERT_BYTES),
            nonce=expect_int(fields[6], "tx.nonce", 0, _MAX_NONCE),
            expires_at=expect_int(fields[7], "tx.expires_at", 0, _MAX_HEIGHT),
        )


_MAX_NONCE = (1 << 64) - 1
_MAX_HEIGHT = (1 << 63) - 1  # ``expect_int``'s default upper bound


def _short_ascii(value: object, max_bytes: int) -> bool:
    """A non-empty ASCII str of at most ``max_bytes`` (one byte per character)."""
    return type(value) is str and 0 < len(value) <= max_bytes and value.isascii()


def tx_sign_bytes(chain_id: str, body: bytes) -> bytes:
    """What the signer signs: domain, chain and body, canonically encoded."""
    if type(chain_id) is str and type(body) is bytes:
        # a str and bytes have nothing for ``encode``'s walk to refuse: the same bytes, cheaper
        return encode_canonical((TX_DOMAIN, chain_id, body))
    return encode((TX_DOMAIN, chain_id, body))


@dataclass(frozen=True)
class SignedTx:
    """The envelope as received: the body bytes (hashed and signed as they are) and a signature."""

    body: bytes
    signature: bytes
    tx: Tx = field(compare=False)

    def encode(self) -> bytes:
        return encode((self.body, self.signature))

    @classmethod
    def decode(cls, data: bytes) -> SignedTx:
        split = _split_envelope(data)
        if split is None:  # not the usual shape: the general decoder accepts it or says why
            envelope = expect_array(decode(data, TX_LIMITS), "envelope", 2)
            body = expect_bytes(envelope[0], "envelope.body", MAX_TX_BYTES)
            signature = expect_bytes(envelope[1], "envelope.signature", MAX_SIGNATURE_BYTES)
        else:
            body, signature = split
        tx = Tx.from_value(decode(body, TX_LIMITS))
        return cls(body=body, signature=signature, tx=tx)

    @classmethod
    def create(cls, tx: Tx, sign: object) -> SignedTx:
        """Encode ``tx`` and sign it with ``sign(bytes) -> bytes`` (a ``PrivateKey.sign``)."""
        body = tx.encode()
        if not callable(sign):
            raise TypeError("sign must be callable")
        signature = sign(tx_sign_bytes(tx.chain_id, body))
        return cls(body=body, signature=bytes(signature), tx=tx)


_ENVELOPE_HEADER = 0x92  # a msgpack array of two items
_BIN8 = 0xC4  # msgpack bin 8: one length byte
_BIN16 = 0xC5  # msgpack bin 16: two length bytes (canonical only for lengths over 255)


def _split_envelope(data: bytes) -> tuple[bytes, bytes] | None:
    """``(body, signature)`` if ``data`` is, byte for byte, the canonical encoding of an
    in-limits envelope (an array of two byte strings, the body at most ``MAX_TX_BYTES`` and
    the signature at most ``MAX_SIGNATURE_BYTES``): exactly what the general path would accept
    and return, without building and re-encoding it. ``None`` for anything else."""
    if type(data) is not bytes or len(data) > MAX_TX_BYTES or len(data) < 5:
        return None
    if data[0] != _ENVELOPE_HEADER:
        return None
    body_span = _bin_span(data, 1)
    if body_span is None:
        return None
    signature_span = _bin_span(data, body_span[1])
    if signature_span is None or signature_span[1] != len(data):
        return None
    if signature_span[1] - signature_span[0] > MAX_SIGNATURE_BYTES:
        return None
    return data[body_span[0] : body_span[1]], data[signature_span[0] : signature_span[1]]


def _bin_span(data: bytes, pos: int) -> tuple[int, int] | None:
    """``(start, end)`` of the canonically encoded byte string at ``pos``, if there is one."""
    if pos + 2 > len(data):
        return None
    tag = data[pos]
    if tag == _BIN8:
        start = pos + 2
        end = start + data[pos + 1]
    elif tag == _BIN16:
        start = pos + 3
        length = int.from_bytes(data[pos + 1 : start], "big")
        if length < 256:  # bin 8 would do: not canonical
            return None
        end = start + length
    else:
        return None
    return (start, end) if end <= len(data) else None


__all__ = [
    "MAX_TX_BYTES",
    "TX_LIMITS",
    "DecodeError",
    "SignedTx",
    "Tx",
    "tx_sign_bytes",
]
