"""Introduction: the data-sharing stories (数据共享) — a seed case of ``yulian.apps.datashare``
played by ``yulian.apps.datashare.demo`` (the same story in brief and in full): 一网通办
(``datashare``) and 公积金 / 信盟链 (``datashare-fund``)."""

from __future__ import annotations

from yulian.apps.datashare import configs
from yulian.apps.datashare.demo import run_datashare_story
from yulian.apps.stories.stage import Stage

TITLE = "数据共享 datashare 一网通办: departments share data on request, every read traced"
FUND_TITLE = "数据共享 datashare-fund 公积金 / 信盟链: a bank reads housing-fund records, traced"


def play(stage: Stage, brief: bool) -> None:
    stage.title(TITLE)
    run_datashare_story(stage.network, stage.urls, stage.say, configs()["yiwangtongban"])


def play_fund(stage: Stage, brief: bool) -> None:
    stage.title(FUND_TITLE)
    run_datashare_story(stage.network, stage.urls, stage.say, configs()["housing_fund"])
