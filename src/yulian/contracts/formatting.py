"""Introduction: one ``{value!s:spec}`` field of an f-string, deterministic and bounded.

Only the format spec grammar below is accepted, with presentation types per value type: no
``n`` (locale-dependent) and no float presentations for ints (they go through float). Width and
precision have at most three digits, so no spec can ask for an unbounded result.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from yulian.contracts.aborts import ForbiddenOperation, LimitExceeded
from yulian.contracts.costs import (
    BYTES_PER_STEP,
    FORMAT_SPEC_STEPS,
    MAX_FORMAT_WIDTH,
    conversion_steps,
)
from yulian.contracts.meter import Meter
from yulian.contracts.values import is_wide, to_text

_FORMAT_SPEC = re.compile(
    r"(?:(?P<fill>[^{}])?(?P<align>[<>=^]))?(?P<sign>[-+ ])?(?P<alt>\#)?(?P<zero>0)?"
    r"(?P<width>\d+)?(?P<grouping>[,_])?(?:\.(?P<precision>\d+))?(?P<type>[a-zA-Z%])?",
    re.ASCII,
)
_FORMAT_TYPES: dict[type, str] = {
    str: "s",
    int: "bcdoxX",
    bool: "bcdoxX",
    Decimal: "eEfFgG%",
}


def format_value(meter: Meter, value: Any, spec: str, conversion: str) -> str:
    """One ``{value!conversion:spec}`` field of an f-string."""
    if conversion == "s" or not spec:
        text = to_text(meter, value)
        if type(value) is str:  # returned as it is; the f-string copies it
            meter.charge_chars(len(text), is_wide(text))
        if not spec:
            return text
        value = text
    meter.charge(FORMAT_SPEC_STEPS)
    match = _FORMAT_SPEC.fullmatch(spec)
    kind = type(value)
    allowed = _FORMAT_TYPES.get(kind)
    if match is None or allowed is None:
        raise ForbiddenOperation(f"format spec {spec!r} is not allowed for this value")
    for group in ("width", "precision"):
        digits = match.group(group)
        if digits is not None and (len(digits) > 3 or int(digits) > MAX_FORMAT_WIDTH):
            raise LimitExceeded(f"format {group} larger than {MAX_FORMAT_WIDTH}")
    presentation = match.group("type")
    if presentation is not None and presentation not in allowed:
        raise ForbiddenOperation(f"format spec {spec!r} is not allowed for this value")
    if kind is str:
        meter.charge(len(value) // BYTES_PER_STEP)
    elif kind is int:
        meter.charge(conversion_steps(value.bit_length()))
    out = format(value, spec)
    meter.charge_chars(len(out), is_wide(out))
    return out
