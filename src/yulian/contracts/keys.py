"""Introduction: composite keys — several parts in one state key, split back unambiguously.

``ctx.key("order", org, order_id)`` is ``"order\\0org1\\0o-7\\0"``: every part followed by
NUL, the code point no part may hold (the layout of Hyperledger Fabric's composite keys). So
the key splits back into exactly its parts (``ctx.split_key``), the key of the first parts is
a prefix of the keys that extend them and of no other (``ctx.state.scan(ctx.key("order",
org))`` lists that organisation's orders, never those of ``org10``), and keys sort as their
tuples of parts do (NUL sorts before every char).
"""

from __future__ import annotations

from typing import Any

from yulian.contracts.aborts import InvalidValue
from yulian.contracts.costs import BYTES_PER_STEP, KEY_PART_STEPS, text_units
from yulian.contracts.meter import Meter

SEPARATOR = "\x00"
MAX_KEY_PARTS = 32


def compose_key(meter: Meter, parts: tuple[Any, ...]) -> str:
    """The composite key of ``parts``: str parts without NUL, at least one."""
    if not 1 <= len(parts) <= MAX_KEY_PARTS:
        raise InvalidValue(f"a composite key has 1..{MAX_KEY_PARTS} parts")
    chars = len(parts)
    wide = False
    for part in parts:
        if type(part) is not str:
            raise InvalidValue("composite key parts are str")
        chars += len(part)
        wide = wide or not part.isascii()
    meter.charge(KEY_PART_STEPS * len(parts))
    meter.charge_chars(chars, wide)  # the parts searched for NUL, the key made, the cap on text
    if any(SEPARATOR in part for part in parts):
        raise InvalidValue("composite key parts cannot hold NUL ('\\x00')")
    return SEPARATOR.join(parts) + SEPARATOR


def split_key(meter: Meter, key: Any) -> list[str]:
    """The parts of a composite key (``compose_key``'s inverse)."""
    if type(key) is not str or not key.endswith(SEPARATOR):
        raise InvalidValue("not a composite key: it must end with NUL ('\\x00')")
    units = text_units(len(key), not key.isascii())
    meter.charge(1 + 2 * units // BYTES_PER_STEP)  # scanned for separators; the parts made
    meter.charge(KEY_PART_STEPS * key.count(SEPARATOR))
    return key[:-1].split(SEPARATOR)
