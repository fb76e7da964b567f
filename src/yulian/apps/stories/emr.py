"""Introduction: the medical-record story (电子病历流转) — private data between two hospitals,
the patient's consent, the regulator's trail (``yulian.apps.emr.demo`` plays it; the same
story in brief and in full)."""

from __future__ import annotations

from yulian.apps.stories.stage import Stage

TITLE = "电子病历流转 emr: a record read with the patient's consent, on the regulator's trail"


def play(stage: Stage, brief: bool) -> None:
    from yulian.apps.emr.demo import run_emr_story  # it imports stage's StoryError

    stage.title(TITLE)
    run_emr_story(stage.network, stage.urls, stage.say)
