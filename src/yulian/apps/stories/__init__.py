"""Introduction: the demo stories — each application told in a few steps on a local network.

``yulian demo NAME`` plays one story in full; ``yulian demo`` (``make run``) plays every story
in brief, so that the chain it leaves running carries a little of each for the explorer to
show. A story is a module here with ``play(stage, brief)``; ``STORIES`` lists them in the order
``make run`` plays them (``stage.Stage`` is what they play on).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from yulian.apps.stories import (
    credentials,
    datashare,
    emr,
    evidence,
    finance,
    governance,
    trace,
    trading,
)
from yulian.apps.stories.stage import Stage, StoryError

__all__ = ["STORIES", "Stage", "Story", "StoryError"]


@dataclass(frozen=True)
class Story:
    name: str
    title: str
    play: Callable[[Stage, bool], None]


STORIES: dict[str, Story] = {
    s.name: s
    for s in (
        Story("evidence", evidence.TITLE, evidence.play),
        Story("governance", governance.TITLE, governance.play),
        Story("trace", trace.TITLE, trace.play),
        Story("finance", finance.TITLE, finance.play),
        Story("credentials", credentials.TITLE, credentials.play),
        Story("trading", trading.TITLE, trading.play),
        Story("emr", emr.TITLE, emr.play),
        Story("datashare", datashare.TITLE, datashare.play),
        Story("datashare-fund", datashare.FUND_TITLE, datashare.play_fund),
    )
}
