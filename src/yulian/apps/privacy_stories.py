"""Introduction: the privacy stories ``yulian demo emr``, ``yulian demo datashare`` (一网通办)
and ``yulian demo datashare-fund`` (公积金 / 信盟链) play on a running local network (decision
0083): each takes the network directory, the validators' API URLs and a printer, plays every
step through the SDK at the acting organisation's node, and raises ``PrivacyStoryError`` when
an outcome is not as the rules say."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from yulian.apps.privacy_setup import PrivacyStoryError

__all__ = ["PRIVACY_STORIES", "PrivacyStoryError"]


def _emr(network: Path, urls: Sequence[str], say: Callable[[str], None]) -> Any:
    from yulian.apps.emr.demo import run_emr_story

    return run_emr_story(network, urls, say)


def _datashare(case: str) -> Callable[[Path, Sequence[str], Callable[[str], None]], Any]:
    def play(network: Path, urls: Sequence[str], say: Callable[[str], None]) -> Any:
        from yulian.apps.datashare import configs
        from yulian.apps.datashare.demo import run_datashare_story

        return run_datashare_story(network, urls, say, configs()[case])

    return play


PRIVACY_STORIES: dict[str, Callable[[Path, Sequence[str], Callable[[str], None]], Any]] = {
    "emr": _emr,
    "datashare": _datashare("yiwangtongban"),  # 一网通办
    "datashare-fund": _datashare("housing_fund"),  # 公积金 / 信盟链
}
