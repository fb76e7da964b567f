"""The public trace page, as a consumer reaches it: a tea batch traced on a real node (created,
harvested, handed over, processed, split, one lot certified), the QR code of the lot made by
``yulian trace qr`` and read back by an independent decoder (zxing-cpp) as a phone would, and
the URL it holds opened in Debian's Chromium: the lot, its events and the batch it came from,
in Chinese first and in English, at phone width; an unknown batch is said to be unknown."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE
from tests.e2e.harness import RunningNode, free_port, serving
from yulian.apps.deploy import deploy_with_local_admins
from yulian.apps.trace import CONTRACT_NAME, TRACE_VERSION, TraceApp, contract_source
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.sdk import Client, Wallet
from yulian.types.genesis import ChainParams

pytestmark = pytest.mark.e2e

BATCH, LOT_A, LOT_B = "PE-QR-1", "PE-QR-1-A", "PE-QR-1-B"
PRODUCT = "勐海生普洱 Menghai raw Pu'er"
YULIAN = [sys.executable, "-m", "yulian.cli.main"]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """One validator of three organisations with a tea batch traced from garden to lots."""
    tmp = tmp_path_factory.mktemp("trace-page")
    layout = init_network(
        tmp / "network",
        orgs=3,
        validators=1,
        base_api_port=free_port(),
        base_p2p_port=free_port(),
        params=ChainParams(block_interval_ms=50),
    )
    running = RunningNode(
        layout=layout, url=load_config(layout.nodes[0].config).api_url, log=tmp / "node.log"
    )
    with serving(running):
        roles = {"grower": ["org1"], "processor": ["org2"], "inspector": ["org3"]}
        deploy_with_local_admins(
            layout.root,
            [running.url],
            CONTRACT_NAME,
            TRACE_VERSION,
            contract_source(("org1",), roles),
        )

        def app(org: str, user: str = "client1") -> TraceApp:
            client = Client(running.url, Wallet.from_network(layout.root, org, user))
            running.clients.append(client)
            return TraceApp(client)

        app("org1", "admin").install_templates(["tea"])
        grower, processor, inspector = app("org1"), app("org2"), app("org3")
        grower.create(BATCH, "tea", PRODUCT, 1200, "kg", {"garden": "Banzhang 班章"})
        grower.record(BATCH, "harvested", {"pickers": 14})
        grower.hand_over(BATCH, "org2")
        processor.take_over(BATCH)
        processor.record(BATCH, "processed", {"method": "sun-dried 晒青"})
        processor.split(BATCH, {LOT_A: 800, LOT_B: 400})
        inspector.record(LOT_A, "certified", {"standard": "GB/T 22111"})
        yield running


def scan(label: Path) -> str:
    """What a phone reads from the label: the text of the one QR code in the image."""
    found = zxingcpp.read_barcodes(Image.open(label))
    assert len(found) == 1, found
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


def test_the_qr_code_opens_the_lots_public_page(
    node: RunningNode, page: Page, tmp_path: Path
) -> None:
    label = tmp_path / "label.png"
    made = subprocess.run(
        [*YULIAN, "trace", "qr", LOT_A, "--out", label, "--network", node.layout.root],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    url = scan(label)
    assert url == f"{node.url}/explorer/trace.html?batch={LOT_A}"

    page.goto(url)
    main = page.locator("main")
    expect(main).to_have_attribute("aria-busy", "false")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    lot = page.locator(f'section.batch-card[data-batch="{LOT_A}"]')
    expect(lot.locator("h1")).to_have_text(f"批次 {LOT_A}")
    expect(lot.locator(".product")).to_have_text(PRODUCT)
    expect(lot.locator(".custodian")).to_have_text("org2")
    expect(lot.locator(".badge")).to_have_text("有效")
    expect(lot.locator("ol.timeline > li .event-kind")).to_have_text(["拆分自", "认证"])
    expect(lot.locator('li[data-kind="certified"] .event-meta')).to_contain_text(
        "org3（inspector）"
    )
    expect(lot.locator('li[data-kind="certified"] dd')).to_have_text("GB/T 22111")

    origin = page.locator(f'section.origins section.batch-card[data-batch="{BATCH}"]')
    expect(origin.locator(".badge")).to_have_text("已拆分")
    expect(origin.locator("ol.timeline > li .event-kind")).to_have_text(
        ["建立批次", "采摘", "移交保管", "接收保管", "加工", "拆分"]
    )
    expect(origin.locator("ol.timeline > li .event-meta").first).to_contain_text("org1（grower）")
    expect(origin.locator('li[data-kind="created"] dd')).to_have_text("Banzhang 班章")

    page.locator("#lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(lot.locator("h1")).to_have_text(f"Batch {LOT_A}")
    expect(lot.locator("ol.timeline > li .event-kind")).to_have_text(["Split from", "Certified"])
    expect(page.locator("#origins-title")).to_have_text("Where it came from")
    expect(origin.locator(".badge")).to_have_text("split")


def test_another_batch_by_number_an_unknown_one_and_a_phone(node: RunningNode, page: Page) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{node.url}/explorer/trace.html")
    expect(page.locator(".trace-status")).to_have_text(
        "输入产品标签上的批次编号，或扫描标签上的二维码。"
    )
    page.locator("#batch-input").fill(LOT_B)
    page.locator("#batch-input").press("Enter")
    expect(page.locator("h1")).to_have_text(f"批次 {LOT_B}")
    assert page.url.endswith(f"?batch={LOT_B}")
    expect(page.locator("section.batch-card").first.locator(".event-kind")).to_have_text(["拆分自"])
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width

    page.goto(f"{node.url}/explorer/trace.html?batch=NO-SUCH-BATCH")
    status = page.locator(".trace-status")
    expect(status).to_have_text("链上没有批次 NO-SUCH-BATCH。")
    expect(status).to_have_attribute("data-state", "error")
