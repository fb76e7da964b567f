"""The explorer on a node that was archived and pruned (real node process, Debian's Chromium):
the block list ends at the node's floor with a row per range below it — the archive file that
holds heights 1..9, the heights 10..19 no archive holds — in Chinese and in English, also when
the page asked for lies wholly below the floor; the events page starts at the floor and says
so."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect
from typer.testing import CliRunner

from tests.e2e.harness import RunningNode, free_port, serving
from yulian.cli.main import app
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.types.genesis import ChainParams

pytestmark = pytest.mark.e2e

ARCHIVED_BELOW = 10
FLOOR = 20


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def pruned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A solo node archived below 10 and pruned below 20: its URL and the archive file."""
    tmp = tmp_path_factory.mktemp("floor")
    layout = init_network(
        tmp / "network",
        orgs=1,
        validators=1,
        base_api_port=free_port(),
        base_p2p_port=free_port(),
        params=ChainParams(block_interval_ms=20, max_tx_ttl_blocks=5),
    )
    config = layout.nodes[0].config
    url = load_config(config).api_url
    node = RunningNode(layout=layout, url=url, log=tmp / "node.log")
    with serving(node):
        while httpx.get(f"{url}/v1/health", timeout=5).json()["height"] < FLOOR + 10:
            time.sleep(0.05)
    run("ledger", "archive", "--config", str(config), "--below", str(ARCHIVED_BELOW), "--to",
        str(tmp / "archive"))  # fmt: skip
    run("ledger", "prune", "--config", str(config), "--below", str(FLOOR), "--without-archive")
    file = json.loads(run("ledger", "info", "--config", str(config)))["archives"][0]["file"]
    with serving(node):
        yield url, file


def open_blocks(page: Page, url: str, before: int) -> None:
    page.goto(f"{url}/explorer/#/blocks?before={before}")
    expect(page.locator("main .page")).to_have_attribute("aria-busy", "false")


def test_the_block_list_says_where_the_blocks_below_the_floor_are(
    page: Page, pruned: tuple[str, str]
) -> None:
    url, file = pruned
    open_blocks(page, url, FLOOR + 3)
    heights = page.locator("#blocks tbody tr:not(.gone)")
    expect(heights).to_have_count(3)
    gone = page.locator("#blocks tbody tr.gone")
    expect(gone).to_have_count(2)
    expect(gone.nth(0)).to_have_attribute("data-gone", "not_held")
    expect(gone.nth(0)).to_contain_text(f"区块 {ARCHIVED_BELOW}–{FLOOR - 1}：本节点未保存")
    expect(gone.nth(0)).to_contain_text(f"高度 {FLOOR} 起")
    expect(gone.nth(1)).to_have_attribute("data-gone", "archived")
    expect(gone.nth(1)).to_contain_text(f"区块 1–{ARCHIVED_BELOW - 1}：已归档于 {file}")
    expect(page.locator("nav.pager a", has_text="更早")).to_have_count(0)

    page.locator("#lang-switch").click()
    expect(gone.nth(1)).to_contain_text(f"Blocks 1–{ARCHIVED_BELOW - 1}: archived in {file}")
    expect(gone.nth(0)).to_contain_text(
        f"not held by this node (it holds blocks from height {FLOOR}"
    )

    # a page wholly below the floor (the API answers 410) shows the ranges under it
    open_blocks(page, url, 5)
    expect(page.locator("#blocks tbody tr:not(.gone)")).to_have_count(0)
    expect(page.locator("#blocks tbody tr.gone")).to_have_count(1)
    expect(page.locator("#blocks tbody tr.gone")).to_have_attribute("data-gone", "archived")


def test_the_events_page_starts_at_the_floor(page: Page, pruned: tuple[str, str]) -> None:
    url, _ = pruned
    page.goto(f"{url}/explorer/#/events")
    expect(page.locator("main .page")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#events-floor")).to_contain_text(f"本节点保存自区块 {FLOOR} 起的事件")
