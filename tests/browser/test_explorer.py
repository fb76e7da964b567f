"""The explorer in a real browser against a real 4-organisation network with real activity:
each page renders that activity, live updates arrive, the zh/en switch changes the texts, the
pages work at phone width and by keyboard, the downloaded receipt is the CLI's byte for byte,
and the verify page accepts genuine documents and refuses tampered ones — offline too."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.chain import Chain, register, start_chain
from tests.browser.codec_vectors import accepted, python_accepts, refused
from tests.browser.conftest import PHONE, TIMEOUT_MS
from tests.browser.vectors import (
    Vector,
    certificate_vectors,
    checked,
    receipt_vectors,
    wrapped_vectors,
)
from yulian.crypto.suite import get_suite

pytestmark = pytest.mark.e2e

RUN_VECTORS_JS = """
async ({vectors, genesisText}) => {
  const v = await import("/explorer/js/verify/verify.js");
  const { parseGenesis } = await import("/explorer/js/verify/types.js");
  const { parseJson } = await import("/explorer/js/verify/jsonvalue.js");
  const { base64ToBytes } = await import("/explorer/js/verify/bytes.js");
  const genesis = parseGenesis(genesisText);
  const out = [];
  for (const x of vectors) {
    try {
      const doc = parseJson(x.document);
      if (x.kind === "certificate") await v.verifyEvidence(base64ToBytes(x.file_b64), doc, genesis);
      else await v.verifyReceipt(doc, genesis);
      out.push({ name: x.name, ok: true, error: "", reason: "" });
    } catch (e) {
      out.push({ name: x.name, ok: false, error: e.constructor.name, reason: String(e.message) });
    }
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    running = start_chain(tmp_path_factory.mktemp("explorer"))
    try:
        yield running
    finally:
        running.cluster.stop()


def open_page(page: Page, chain: Chain, route: str = "") -> None:
    page.goto(f"{chain.url}/explorer/#/{route}")
    expect(page.locator("main .page")).to_have_attribute("aria-busy", "false")


def run_vectors(page: Page, vectors: list[Vector], genesis_text: str) -> list[dict[str, Any]]:
    payload = [v.__dict__ for v in vectors]
    result: list[dict[str, Any]] = page.evaluate(
        RUN_VECTORS_JS, {"vectors": payload, "genesisText": genesis_text}
    )
    return result


LIBRARY_DETAIL = ("malformed msgpack: ", "malformed_certificate: ")


def same_reason(python: str, browser: str) -> bool:
    """The same reason, word for word — except the detail after "malformed msgpack:" or the
    membership code "malformed_certificate:": there Python's decoders (msgpack, the Rust
    ASN.1 parser of ``cryptography``) and the browser's word the same fault differently, and
    may meet a corrupt certificate at another of its fields first."""
    if python == browser:
        return True
    for marker in LIBRARY_DETAIL:
        if marker in python:
            return browser.startswith(python[: python.index(marker) + len(marker)])
    return False


def assert_same_verdicts(vectors: list[Vector], results: list[dict[str, Any]]) -> None:
    wrong = [
        (v.name, r["reason"]) for v, r in zip(vectors, results, strict=True) if r["ok"] != v.genuine
    ]
    assert not wrong, f"the browser's verdict differs from the label: {wrong}"
    odd = [(r["name"], r["error"], r["reason"]) for r in results if not r["ok"]]
    assert all(e == "VerificationError" for _, e, _ in odd), odd
    differ = [
        (v.name, v.reason, r["reason"])
        for v, r in zip(vectors, results, strict=True)
        if not same_reason(v.reason, r["reason"])
    ]
    assert not differ, f"the browser refuses for another reason than Python: {differ}"


# --- pages ------------------------------------------------------------------------------------


def test_root_redirects_to_the_explorer(page: Page, chain: Chain) -> None:
    page.goto(f"{chain.url}/")
    assert page.url.startswith(f"{chain.url}/explorer/")
    expect(page.locator("h1")).to_have_text("链概览")


def test_overview_shows_head_validators_organisations_and_charts(page: Page, chain: Chain) -> None:
    open_page(page, chain)
    last = chain.activity.registrations[-1].height
    height = int(page.locator("#head-height").inner_text())
    assert height >= last
    rows = page.locator("#validators tbody tr")
    expect(rows).to_have_count(4)
    names = [rows.nth(i).locator("td").nth(0).inner_text() for i in range(4)]
    orgs = [rows.nth(i).locator("td").nth(1).inner_text() for i in range(4)]
    assert names == [f"org{i}-node0" for i in range(1, 5)]
    assert orgs == [f"org{i}" for i in range(1, 5)]
    signed = [rows.nth(i).locator("td").nth(3).inner_text() for i in range(4)]
    assert sum(s.isdigit() and int(s) >= height - 30 for s in signed) >= 3  # a quorum signs
    org_rows = page.locator("#organisations tbody tr")
    expect(org_rows).to_have_count(4)
    expect(org_rows.nth(0)).to_contain_text("ca.org1")
    expect(org_rows.nth(0)).to_contain_text("有效")
    assert page.locator("#mempool-size").inner_text().isdigit()
    expect(page.locator("figure.chart canvas")).to_have_count(2)
    expect(page.locator(".chart-summary").first).to_contain_text("毫秒")


def test_blocks_list_and_block_page_show_txs_and_commit_signers(page: Page, chain: Chain) -> None:
    reg = chain.activity.registrations[0]
    open_page(page, chain, "blocks")
    expect(page.locator("#blocks tbody tr").first).to_be_visible()
    page.goto(f"{chain.url}/explorer/#/blocks?before={reg.height + 1}")
    row = page.locator(f'#blocks tbody tr[data-height="{reg.height}"]')
    expect(row).to_contain_text("1")
    row.locator("a").first.click()
    expect(page.locator("h1")).to_have_text(f"区块 {reg.height}")
    tx_row = page.locator("#block-txs tbody tr").first
    expect(tx_row).to_contain_text("evidence.register")
    expect(tx_row).to_contain_text(f"client1@{reg.org}")
    signers = page.locator("#commit-signers tbody tr")
    assert signers.count() >= 3
    for i in range(signers.count()):
        name = signers.nth(i).locator("td").nth(0).inner_text()
        org = signers.nth(i).locator("td").nth(1).inner_text()
        assert name == f"{org}-node0"
    with chain.client() as client:
        block = client.block(reg.height)
    expect(page.locator("main")).to_contain_text(block["header"]["hash"])


def test_tx_page_and_its_download_is_the_cli_export(
    page: Page, chain: Chain, tmp_path: Path
) -> None:
    reg = chain.activity.registrations[1]
    open_page(page, chain, f"tx/{reg.tx_id}")
    expect(page.locator("#tx-status")).to_have_text("ok")
    expect(page.locator("#tx-sender")).to_have_text("client1 (client)")
    expect(page.locator("#tx-org")).to_have_text("org2")
    expect(page.locator("#tx-contract")).to_have_text("evidence")
    expect(page.locator("#tx-method")).to_have_text("register")
    expect(page.locator("main")).to_contain_text(reg.digest)
    events = page.locator("#tx-events tbody tr")
    expect(events).to_have_count(1)
    expect(events.first).to_contain_text("registered")
    with page.expect_download() as info:
        page.locator("#download-receipt").click()
    downloaded = Path(info.value.path()).read_bytes()
    exported = tmp_path / "cli.json"
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "yulian.cli.main",
            "receipt",
            "export",
            reg.tx_id,
            "--url",
            chain.url,
            "--out",
            str(exported),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert downloaded == exported.read_bytes()
    # a registration's page also offers its evidence certificate, as `evidence register`
    # writes it (apps.evidence.make_certificate, indented JSON)
    with page.expect_download() as info:
        page.locator("#download-certificate").click()
    assert Path(info.value.path()).read_bytes() == reg.certificate.read_bytes()
    open_page(page, chain, f"tx/{chain.activity.transfer_tx}")
    expect(page.locator("#tx-method")).to_have_text("transfer")
    expect(page.locator("#download-certificate")).to_have_count(0)


def test_state_browser_shows_value_and_history(page: Page, chain: Chain) -> None:
    reg = chain.activity.registrations[0]  # registered by org1, then transferred to org2
    open_page(page, chain, f"state?contract=evidence&key=doc/{reg.digest}")
    expect(page.locator("#state-value")).to_contain_text('"owner_org": "org2"')
    rows = page.locator("#state-history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text('"owner_org": "org2"')
    expect(rows.nth(1)).to_contain_text('"owner_org": "org1"')
    expect(rows.nth(1).locator("td").nth(0)).to_have_text(str(reg.height))


def test_config_page_before_and_after_the_governance_change(page: Page, chain: Chain) -> None:
    changed = chain.activity.governance_height
    open_page(page, chain, f"config?height={changed - 1}")
    expect(page.locator("#config-source")).to_have_text("该配置来自创世文件（此前没有治理变更）。")
    expect(page.locator("main")).to_contain_text("block_interval_ms100")
    expect(page.locator("#config-orgs tbody tr")).to_have_count(4)
    expect(page.locator("#config-validators tbody tr")).to_have_count(4)
    page.goto(f"{chain.url}/explorer/#/config?height={changed}")
    expect(page.locator("#config-source")).to_contain_text(f"区块 {changed}")
    expect(page.locator("main")).to_contain_text("block_interval_ms120")
    expect(page.locator("#config-changes li")).to_have_count(1)


def test_search_finds_heights_txs_block_hashes_and_keys(page: Page, chain: Chain) -> None:
    reg = chain.activity.registrations[0]
    with chain.client() as client:  # a recent block: hashes are looked up among the last 200
        recent = client.block("latest")["header"]
    open_page(page, chain)
    box = page.locator("#search-input")
    for query, heading in (
        (str(reg.height), f"区块 {reg.height}"),
        (reg.tx_id, "交易"),
        (recent["hash"], f"区块 {recent['height']}"),
        (f"evidence/doc/{reg.digest}", "状态浏览"),
    ):
        box.fill(query)
        box.press("Enter")
        expect(page.locator("h1")).to_have_text(heading)
    box.fill("not-a-thing")
    box.press("Enter")
    expect(page.locator("#search-result")).to_contain_text("没有找到")


def test_contracts_page_lists_active_versions_and_shows_code(page: Page, chain: Chain) -> None:
    open_page(page, chain, "contracts")
    rows = page.locator("#contracts tbody tr")
    expect(rows.filter(has_text="consortium")).to_contain_text("系统合约")
    evidence = rows.filter(has_text="evidence")
    expect(evidence).to_contain_text("创世合约")
    evidence.locator("a").first.click()
    expect(page.locator("h1")).to_have_text("合约 evidence")
    expect(page.locator("#contract-versions tbody tr")).to_have_count(1)
    expect(page.locator("#contract-code")).to_contain_text("def register(ctx")
    page.goto(f"{chain.url}/explorer/#/contract/consortium")
    expect(page.locator("#contract-code")).to_contain_text("系统合约")


def test_governance_page_shows_approvals_by_organisation_and_the_change(
    page: Page, chain: Chain
) -> None:
    proposal = chain.activity.proposal
    open_page(page, chain, "governance")
    row = page.locator("#proposals tbody tr").filter(has_text="set_params")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("已生效")
    approvals = row.locator("ul.approvals li")
    expect(approvals).to_have_count(len(proposal["approvals"]))
    for i, org in enumerate(proposal["approvals"]):
        expect(approvals.nth(i)).to_contain_text(org)
    expect(row.locator("ul.changes")).to_contain_text("params.block_interval_ms: 100 → 120")
    expect(row).to_contain_text(str(chain.activity.governance_height))
    page.locator("#gov-status").select_option("open")
    page.locator("#governance-form button").click()
    expect(page.locator("#proposals")).to_have_text("没有符合条件的提案。")


def test_events_page_filters_and_follows_new_events(page: Page, chain: Chain) -> None:
    open_page(page, chain, "events?contract=evidence&name=registered")
    rows = page.locator("#events tbody tr")
    assert rows.count() >= len(chain.activity.registrations)
    first = chain.activity.registrations[0]
    expect(rows.first).to_contain_text(first.digest)
    expect(rows.first.locator("td").first).to_have_text(str(first.height))
    page.locator("#events-name").fill("transferred")
    page.locator("#events-form button").click()
    expect(page.locator("#events tbody tr")).to_have_count(1)
    expect(page.locator("#events tbody tr")).to_contain_text("org2")
    page.goto(f"{chain.url}/explorer/#/events?contract=evidence&name=registered")
    expect(page.locator("main .page")).to_have_attribute("aria-busy", "false")
    before = page.locator("#events tbody tr").count()
    client = chain.client("org2")
    try:
        reg = register(chain.files, client, "standard", "events.txt", "an event to follow\n")
    finally:
        client.close()
    expect(page.locator("#events tbody tr")).to_have_count(before + 1, timeout=30_000)
    expect(page.locator("#events tbody tr").last).to_contain_text(reg.digest)


def test_tx_page_shows_the_state_writes(page: Page, chain: Chain) -> None:
    reg = chain.activity.registrations[0]
    open_page(page, chain, f"tx/{chain.activity.transfer_tx}")
    writes = page.locator("#tx-writes tbody tr")
    expect(writes).to_have_count(1)
    expect(writes).to_contain_text(f"doc/{reg.digest}")
    expect(writes).to_contain_text('"owner_org": "org2"')
    writes.locator("a").click()
    expect(page.locator("#state-value")).to_contain_text('"owner_org": "org2"')


def test_live_updates_arrive_without_reload(page: Page, chain: Chain) -> None:
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    open_page(page, chain, "blocks")
    page.evaluate("window.__sameDocument = true")
    client = chain.client("org3")
    try:
        reg = register(chain.files, client, "standard", "live.txt", "a live registration\n")
    finally:
        client.close()
    row = page.locator(f'#blocks tbody tr[data-height="{reg.height}"]')
    expect(row).to_be_visible(timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True
    expect(page.locator("#live-status")).to_contain_text("实时")
    # through the event stream, not by polling: one socket, held
    assert [u for u in sockets if u.endswith("/v1/events/stream")] == sockets and sockets


def test_language_switch_changes_the_texts(page: Page, chain: Chain) -> None:
    open_page(page, chain)
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("nav a[data-route=blocks]")).to_have_text("区块")
    page.locator("#lang-switch").click()
    expect(page.locator("h1")).to_have_text("Chain overview")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("nav a[data-route=blocks]")).to_have_text("Blocks")
    expect(page.locator("#search-input")).to_have_attribute(
        "placeholder", "Tx id, height, block hash or contract/key"
    )
    expect(page.locator("#validators caption")).to_contain_text("Validators and their signatures")
    expect(page.locator("#live-status")).to_contain_text("Live · height")
    page.reload()
    expect(page.locator("h1")).to_have_text("Chain overview")  # the choice is kept
    page.locator("#lang-switch").click()
    expect(page.locator("h1")).to_have_text("链概览")


def test_the_navigation_leads_to_the_privacy_and_trace_pages(page: Page, chain: Chain) -> None:
    open_page(page, chain)
    privacy, trace = (
        page.locator("nav a[data-page=privacy]"),
        page.locator("nav a[data-page=trace]"),
    )
    expect(privacy).to_have_text("隐私与留痕")
    expect(trace).to_have_text("产品溯源")
    page.locator("#lang-switch").click()
    expect(privacy).to_have_text("Private data & access trail")
    expect(trace).to_have_text("Product trace")
    page.locator("#lang-switch").click()
    expect(privacy).to_have_text("隐私与留痕")
    trace.click()
    expect(page.locator("#batch-input")).to_be_visible()  # the trace page's batch search
    assert page.url.split("?")[0].endswith("/trace.html")
    page.go_back()
    privacy.click()
    expect(page.locator("h1")).to_contain_text("隐私数据与访问留痕")
    assert page.url.endswith("/privacy.html")


def test_pages_fit_a_phone(browser: Browser, chain: Chain) -> None:
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        reg = chain.activity.registrations[0]
        for route in ("", "blocks", f"block/{reg.height}", f"tx/{reg.tx_id}", "config", "verify"):
            open_page(page, chain, route)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"#/{route} is {width} px wide on a 375 px phone"
            expect(page.locator("nav a[data-route=verify]")).to_be_visible()
    finally:
        context.close()


def test_keyboard_reaches_everything_with_a_visible_focus(page: Page, chain: Chain) -> None:
    open_page(page, chain)
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("跳到正文")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("渝链浏览器")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("概览")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")
    for text in ("区块", "状态", "合约", "治理", "事件", "联盟配置", "验证"):
        page.keyboard.press("Tab")
        expect(page.locator(":focus")).to_have_text(text)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("离线验证")
    for label in page.locator("main input").all():
        ident = label.get_attribute("id")
        assert page.locator(f'label[for="{ident}"]').count() == 1, ident


# --- the verify page ----------------------------------------------------------------------------


def choose_files(page: Page, genesis: Path, document: Path, original: Path | None = None) -> None:
    page.locator("#genesis-file").set_input_files(str(genesis))
    expect(page.locator("#genesis-hash")).to_be_visible()
    page.locator("#document-file").set_input_files(str(document))
    if original is not None:
        expect(page.locator("#evidence-row")).to_be_visible()
        page.locator("#evidence-file").set_input_files(str(original))


def test_verify_page_accepts_a_genuine_certificate_offline(page: Page, chain: Chain) -> None:
    reg = chain.activity.registrations[-1]  # its proof walks the governance change
    assert json.loads(reg.certificate.read_text())["receipt"]["proof"]["transitions"]
    open_page(page, chain, "verify")
    page.context.route("**/*", lambda route: route.abort())  # the network is unplugged
    choose_files(page, chain.genesis_file, reg.certificate, reg.file)
    page.locator("#verify-button").click()
    result = page.locator("#verify-result")
    expect(result).to_have_attribute("data-verdict", "ok")
    expect(result).to_contain_text("验证通过")
    checks = page.locator("#verify-checks li")
    expect(checks.first).to_contain_text("治理变更")
    expect(checks.last).to_contain_text(reg.digest)
    reach = "fetch('/v1/health').then(() => 'reached', () => 'blocked')"
    assert page.evaluate(reach) == "blocked"  # the verdict came without the node


def test_verify_page_rejects_a_tampered_certificate(
    page: Page, chain: Chain, tmp_path: Path
) -> None:
    reg = chain.activity.registrations[0]
    doc = json.loads(reg.certificate.read_text())
    doc["receipt"]["summary"]["signer"]["org"] = "org3"
    tampered = tmp_path / "tampered.evidence.json"
    tampered.write_text(json.dumps(doc, ensure_ascii=False))
    open_page(page, chain, "verify")
    choose_files(page, chain.genesis_file, tampered, reg.file)
    page.locator("#verify-button").click()
    expect(page.locator("#verify-result")).to_have_attribute("data-verdict", "fail")
    expect(page.locator("#verify-reason")).to_have_text(
        "summary field 'signer' does not match the proven bytes"
    )
    other = tmp_path / "other.txt"
    other.write_text("not the registered document")
    page.locator("#document-file").set_input_files(str(reg.certificate))
    page.locator("#evidence-file").set_input_files(str(other))
    page.locator("#verify-button").click()
    expect(page.locator("#verify-reason")).to_have_text(
        "the file's digest differs from the registered digest"
    )


def test_verify_page_with_the_node_genesis_and_a_receipt_from_the_tx_page(
    page: Page, chain: Chain
) -> None:
    reg = chain.activity.registrations[1]
    open_page(page, chain, f"tx/{reg.tx_id}")
    page.locator("#verify-receipt").click()
    expect(page.locator("h1")).to_have_text("离线验证")
    expect(page.locator("#document-info")).to_contain_text("回执文件")
    page.locator("#use-node-genesis").click()
    genesis = chain.cluster.genesis
    expected = get_suite(genesis.suite).hash(genesis.encode()).hex()
    expect(page.locator("#genesis-hash")).to_have_text(expected)
    page.locator("#verify-button").click()
    expect(page.locator("#verify-result")).to_have_attribute("data-verdict", "ok")


def test_shared_vectors_exactly_the_genuine_ones_verify(
    page: Page, chain: Chain, tmp_path: Path
) -> None:
    genesis = chain.cluster.genesis
    regs = chain.activity.registrations
    with chain.client() as client:
        transfer_doc = client.export_receipt(chain.activity.transfer_tx)
    vectors = [
        *receipt_vectors("before governance", regs[0].receipt_doc),
        *receipt_vectors("after governance", regs[-1].receipt_doc),
        *certificate_vectors("certificate", regs[1].certificate, regs[1].file),
        *wrapped_vectors("transfer", transfer_doc, regs[0].file, regs[0].digest),
    ]
    vectors = checked(vectors, genesis, tmp_path)
    assert sum(v.genuine for v in vectors) == 5 and len(vectors) > 150
    open_page(page, chain, "verify")
    page.context.route("**/*", lambda route: route.abort())
    results = run_vectors(page, vectors, genesis.to_json())
    assert_same_verdicts(vectors, results)


CODEC_JS = """
async (vectors) => {
  const { decode, encode } = await import("/explorer/js/verify/msgpack.js");
  const { bytesToHex, hexToBytes } = await import("/explorer/js/verify/bytes.js");
  return vectors.map((hex) => {
    try {
      return { accepted: true, again: bytesToHex(encode(decode(hexToBytes(hex)))) };
    } catch (e) {
      return { accepted: false, error: e.constructor.name };
    }
  });
}
"""


def test_the_browser_codec_accepts_exactly_what_python_accepts(page: Page, chain: Chain) -> None:
    vectors = [*accepted(), *refused()]
    verdicts = [python_accepts(v) for v in vectors]
    assert verdicts == [True] * len(accepted()) + [False] * len(refused())
    open_page(page, chain, "verify")
    results = page.evaluate(CODEC_JS, [v.hex() for v in vectors])
    for data, python, browser in zip(vectors, verdicts, results, strict=True):
        assert browser["accepted"] == python, (data[:40].hex(), browser)
        if python:
            assert browser["again"] == data.hex(), data[:40].hex()
        else:
            assert browser["error"] == "DecodeError", (data[:40].hex(), browser)


def test_the_standard_suite_verifies_without_webcrypto_too(
    browser: Browser, chain: Chain, tmp_path: Path
) -> None:
    """Over plain HTTP to a host name that is not loopback the page is not a secure context:
    WebCrypto is missing and the vendored noble implementations take over."""
    port = chain.url.rsplit(":", 1)[1]
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        page.route(
            "http://explorer.test/**",
            lambda r: r.continue_(url=r.request.url.replace("explorer.test", f"127.0.0.1:{port}")),
        )
        page.goto("http://explorer.test/explorer/#/verify")
        expect(page.locator("h1")).to_have_text("离线验证")
        assert page.evaluate("isSecureContext") is False
        reg = chain.activity.registrations[-1]
        vectors = checked(
            [*certificate_vectors("certificate", reg.certificate, reg.file)],
            chain.cluster.genesis,
            tmp_path,
        )
        assert_same_verdicts(vectors, run_vectors(page, vectors, chain.cluster.genesis.to_json()))
        engine = page.evaluate(
            'import("/explorer/js/verify/suite.js").then(m => m.standardEngine())'
        )
        assert engine == "noble"
    finally:
        context.close()
