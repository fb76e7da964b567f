"""``block_events`` builds a block's records; ``check_events`` checks each (contract, name)
pair once per block (names repeat from event to event), yet every event is still checked in
full: a bad event after many good ones with the same names is refused, whatever is wrong."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import pytest

from yulian.ledger import InvalidInput
from yulian.ledger.events import MAX_EVENT_NAME_BYTES, EventRecord, block_events, check_events
from yulian.types.encoding import encode
from yulian.types.receipt import Event, Receipt

GOOD = tuple(EventRecord(i, 0, "evidence", "registered", b"k%d" % i, b"\xc0") for i in range(5))


def test_a_block_of_repeated_names_passes() -> None:
    check_events(GOOD, len(GOOD), 1024)
    check_events((*GOOD, replace(GOOD[-1], event_index=1, name="other")), len(GOOD), 1024)


@pytest.mark.parametrize(
    "bad",
    [
        replace(GOOD[-1], event_index=1, name="n" * (MAX_EVENT_NAME_BYTES + 1)),
        replace(GOOD[-1], event_index=1, contract=""),
        replace(GOOD[-1], event_index=1, name=b"registered"),  # type: ignore[arg-type]
        replace(GOOD[-1], event_index=1, key="k"),  # type: ignore[arg-type]
        replace(GOOD[-1], event_index=1, payload=b"p" * 1025),
        replace(GOOD[-1], event_index=2),
        replace(GOOD[-1], tx_index=5, event_index=0),
    ],
)
def test_a_bad_event_after_good_ones_with_the_same_names_is_refused(bad: EventRecord) -> None:
    with pytest.raises(InvalidInput):
        check_events((*GOOD, bad), len(GOOD), 1024)


def test_block_events_makes_the_records_the_constructor_makes() -> None:
    """``block_events`` fills the frozen records' slots directly: equal, hashed and printed
    alike, still frozen, and accepted by ``check_events``."""
    receipts = [
        Receipt(
            b"t%d" % i,
            "ok",
            "",
            1,
            None,
            tuple(Event("c", f"e{k}", {"key": k}) for k in range(i)),
        )
        for i in range(4)
    ]
    records = block_events(receipts)
    expected = tuple(
        EventRecord(i, k, "c", f"e{k}", b"", encode({"key": k})) for i in range(4) for k in range(i)
    )
    assert records == expected
    assert [repr(r) for r in records] == [repr(r) for r in expected]
    assert {hash(r) for r in records} == {hash(r) for r in expected}
    check_events(records, len(receipts), 1024)
    with pytest.raises(FrozenInstanceError):
        records[0].name = "other"  # type: ignore[misc]
