"""``check_events`` checks each (contract, name) pair once per block (names repeat from event
to event), yet every event is still checked in full: a bad event after many good ones with the
same names is refused, whatever is wrong with it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from yulian.ledger import InvalidInput
from yulian.ledger.events import MAX_EVENT_NAME_BYTES, EventRecord, check_events

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
