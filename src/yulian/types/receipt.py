"""Introduction: receipts and events — the result of executing one transaction.

Every transaction included in a block gets exactly one receipt, in block order, also when it
failed (its id is then spent and it changed no state). The block header commits to the list of
encoded receipts through ``result_root``.
"""

from __future__ import annotations

from dataclasses import dataclass

from yulian.types.encoding import DecodeError, Limits, Value, decode, encode, to_canonical
from yulian.types.fields import expect_array, expect_bytes, expect_int, expect_list, expect_str

STATUS_OK = "ok"
STATUSES = (
    "ok",
    "reverted",
    "out_of_steps",
    "fault",
    "unknown_method",
    "bad_args",
    "unknown_contract",
)
MAX_EVENTS = 64
MAX_MESSAGE_BYTES = 1024
MAX_EVENT_NAME_BYTES = 64
MAX_CONTRACT_NAME_BYTES = 64
RECEIPT_LIMITS = Limits(max_bytes=1 << 20, max_depth=12, max_items=4096)


def receipt_message(text: str) -> str:
    """``text`` as a receipt's message can hold it: valid UTF-8 (a lone surrogate becomes
    ``?``), at most ``MAX_MESSAGE_BYTES``, cut at a char boundary. The identity on every
    message that already fits."""
    if len(text) <= MAX_MESSAGE_BYTES and text.isascii():
        return text
    data = text.encode("utf-8", "replace")
    return data[:MAX_MESSAGE_BYTES].decode("utf-8", "ignore")


@dataclass(frozen=True)
class Event:
    contract: str
    name: str
    payload: Value

    def to_value(self) -> tuple[Value, ...]:
        return (self.contract, self.name, to_canonical(self.payload))

    @classmethod
    def from_value(cls, value: Value) -> Event:
        fields = expect_array(value, "event", 3)
        return cls(
            contract=expect_str(fields[0], "event.contract", MAX_CONTRACT_NAME_BYTES),
            name=expect_str(fields[1], "event.name", MAX_EVENT_NAME_BYTES),
            payload=fields[2],
        )


@dataclass(frozen=True)
class Receipt:
    tx_id: bytes
    status: str
    message: str
    steps: int
    value: Value
    events: tuple[Event, ...]

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def to_value(self) -> tuple[Value, ...]:
        return (
            self.tx_id,
            self.status,
            self.message,
            self.steps,
            to_canonical(self.value),
            tuple(e.to_value() for e in self.events),
        )

    def encode(self) -> bytes:
        """The canonical bytes, computed once: a receipt is encoded for the block's
        ``result_root`` and again for storage.

        A receipt of the executor holds canonical values already: if the fields as they are
        pass ``encode``'s check (which refuses unsorted keys), ``to_canonical`` would change
        nothing that encodes, so it is skipped; anything else takes ``to_value`` as before."""
        cached: bytes | None = self.__dict__.get("_encoded")
        if cached is None:
            events = tuple([(e.contract, e.name, e.payload) for e in self.events])
            fields = (self.tx_id, self.status, self.message, self.steps, self.value, events)
            try:
                cached = encode(fields)
            except (ValueError, TypeError):
                cached = encode(self.to_value())
            object.__setattr__(self, "_encoded", cached)
        return cached

    @classmethod
    def from_value(cls, value: Value) -> Receipt:
        fields = expect_array(value, "receipt", 6)
        status = expect_str(fields[1], "receipt.status", 32)
        if status not in STATUSES:
            raise DecodeError(f"receipt.status: unknown status {status!r}")
        return cls(
            tx_id=expect_bytes(fields[0], "receipt.tx_id", 64),
            status=status,
            message=expect_str(fields[2], "receipt.message", MAX_MESSAGE_BYTES, allow_empty=True),
            steps=expect_int(fields[3], "receipt.steps"),
            value=fields[4],
            events=tuple(
                Event.from_value(e) for e in expect_list(fields[5], "receipt.events", MAX_EVENTS)
            ),
        )

    @classmethod
    def decode(cls, data: bytes) -> Receipt:
        return cls.from_value(decode(data, RECEIPT_LIMITS))


def unreadable(receipt: Receipt, *, decode: bool) -> str | None:
    """Why ``receipt`` could not be committed and read back, or ``None`` if it can: it must
    encode (no lone surrogate, nothing outside the value model), fit ``RECEIPT_LIMITS`` and,
    with ``decode``, pass the decoder itself (for values no export walk checked)."""
    try:
        data = receipt.encode()
        if len(data) > RECEIPT_LIMITS.max_bytes:
            return f"a receipt of {len(data)} bytes exceeds {RECEIPT_LIMITS.max_bytes}"
        if decode:
            Receipt.decode(data)
    except (ValueError, TypeError) as e:  # DecodeError is a ValueError
        return f"the receipt would not decode: {e}"
    return None
