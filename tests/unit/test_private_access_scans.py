"""The private buffer's scans (``execution/private_access.py``): an invocation's buffered
private writes over the overlay, as the state protocols' scans promise — ascending, after the
cursor, within the bound, a buffered delete hiding what is below it, at most ``limit``."""

from __future__ import annotations

from tests.unit.test_state_scans import DictView

from yulian.execution.overlay import Overlay, state_key
from yulian.execution.private_access import _Buffered, _CollectionsState
from yulian.execution.system.private_records import COLLECTIONS_CONTRACT


def key(name: str) -> bytes:
    return state_key(COLLECTIONS_CONTRACT, name)


def buffered() -> _Buffered:
    base = DictView({key(n): n.encode() for n in ("a", "b", "c", "d")} | {b"x\x00a": b"other"})
    overlay = Overlay(base, 2)
    overlay.begin_tx()
    buffer = _Buffered(overlay)
    buffer.writes.update({key("b"): None, key("bb"): b"new", key("d"): b"D", key("e"): b"e"})
    return buffer


def test_scan_prefix_puts_the_buffer_over_the_overlay() -> None:
    buffer = buffered()
    prefix = key("")
    assert buffer.scan_prefix(prefix, 10) == [
        (key("a"), b"a"),
        (key("bb"), b"new"),
        (key("c"), b"c"),
        (key("d"), b"D"),
        (key("e"), b"e"),
    ]
    # the limit counts live keys; a buffered delete does not eat into it
    assert buffer.scan_prefix(prefix, 2) == [(key("a"), b"a"), (key("bb"), b"new")]
    assert buffer.scan_prefix(prefix, 2, key("bb")) == [(key("c"), b"c"), (key("d"), b"D")]


def test_the_collections_state_scans_in_its_namespace_with_bounds_and_cursor() -> None:
    state = _CollectionsState(buffered())
    entries = [(k, v) for k, v, _ in state.scan("", None, None, 8)]
    assert entries == [
        ("a", b"a"),
        ("b", None),  # a delete is seen (and paid for) as such
        ("bb", b"new"),
        ("c", b"c"),
        ("d", b"D"),
        ("e", b"e"),
    ]
    assert [k for k, _, _ in state.scan("b", "d", None, 8)] == ["b", "bb", "c"]
    assert [k for k, _, _ in state.scan("b", "d", "b", 8)] == ["bb", "c"]
    assert [k for k, _, _ in state.scan("a", None, "c", 8)] == ["d", "e"]
