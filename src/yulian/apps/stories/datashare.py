"""Introduction: the data-sharing stories (数据共享) — a seed case of ``yulian.apps.datashare``
played by ``yulian.apps.datashare.demo`` (the same story in brief and in full): 一网通办
(``datashare``) and 公积金 / 信盟链 (``datashare-fund``)."""

from __future__ import annotations

from yulian.apps.stories.stage import Stage

TITLE = "数据共享 datashare 一网通办: departments share data on request, every read traced"
FUND_TITLE = "数据共享 datashare-fund 公积金 / 信盟链: a bank reads housing-fund records, traced"


def play(stage: Stage, brief: bool) -> None:
    stage.title(TITLE)
    _play(stage, "yiwangtongban")


def play_fund(stage: Stage, brief: bool) -> None:
    stage.title(FUND_TITLE)
    _play(stage, "housing_fund")


def _play(stage: Stage, case: str) -> None:
    from yulian.apps.datashare import configs
    from yulian.apps.datashare.demo import run_datashare_story  # it imports stage's StoryError

    run_datashare_story(stage.network, stage.urls, stage.say, configs()[case])
