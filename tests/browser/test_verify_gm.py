"""A gm (SM2/SM3) chain whose root CAs expire in 20 days: the overview warns of them; the
shared vectors — genuine and tampered receipt documents and evidence certificates, one with a
governance path — get exactly the Python verifier's verdicts in the browser, and the verify
page accepts a genuine SM2 certificate and refuses it against another chain's genesis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.chain import Chain, start_chain
from tests.browser.test_explorer import assert_same_verdicts, choose_files, open_page, run_vectors
from tests.browser.vectors import certificate_vectors, checked, receipt_vectors

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def gm_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    # certificates valid for 2 days, so the root CAs (10 x as long) expire within 30 days
    running = start_chain(
        tmp_path_factory.mktemp("explorer-gm"), orgs=2, suite="gm", validity_days=2
    )
    try:
        yield running
    finally:
        running.cluster.stop()


def test_gm_shared_vectors_exactly_the_genuine_ones_verify(
    page: Page, gm_chain: Chain, tmp_path: Path
) -> None:
    genesis = gm_chain.cluster.genesis
    assert genesis.suite == "gm"
    regs = gm_chain.activity.registrations
    assert regs[-1].receipt_doc["proof"]["transitions"], "the last proof walks a governance change"
    vectors = checked(
        [
            *receipt_vectors("gm before governance", regs[0].receipt_doc),
            *receipt_vectors("gm after governance", regs[-1].receipt_doc),
            *certificate_vectors("gm certificate", regs[-1].certificate, regs[-1].file),
        ],
        genesis,
        tmp_path,
    )
    assert sum(v.genuine for v in vectors) == 5
    open_page(page, gm_chain, "verify")
    page.context.route("**/*", lambda route: route.abort())
    assert_same_verdicts(vectors, run_vectors(page, vectors, genesis.to_json()))


def test_overview_warns_of_root_cas_that_expire_soon(page: Page, gm_chain: Chain) -> None:
    open_page(page, gm_chain)
    rows = page.locator("#organisations tbody tr")
    expect(rows).to_have_count(2)
    for i in range(2):
        expect(rows.nth(i).locator(".badge.warn")).to_have_text("20 天后过期")


def test_gm_certificate_on_the_verify_page(page: Page, gm_chain: Chain, tmp_path: Path) -> None:
    reg = gm_chain.activity.registrations[0]
    open_page(page, gm_chain, "verify")
    choose_files(page, gm_chain.genesis_file, reg.certificate, reg.file)
    expect(page.locator("#genesis-info")).to_contain_text("SM2/SM3")
    page.locator("#verify-button").click()
    expect(page.locator("#verify-result")).to_have_attribute("data-verdict", "ok")
    expect(page.locator("#verify-result")).to_contain_text(reg.digest)
    other = json.loads(gm_chain.genesis_file.read_text(encoding="utf-8"))
    other["chain_id"] = "another-chain"
    other_genesis = tmp_path / "other-genesis.json"
    other_genesis.write_text(json.dumps(other), encoding="utf-8")
    page.locator("#genesis-file").set_input_files(str(other_genesis))
    expect(page.locator("#genesis-info")).to_contain_text("another-chain")
    page.locator("#verify-button").click()
    expect(page.locator("#verify-result")).to_have_attribute("data-verdict", "fail")
    expect(page.locator("#verify-reason")).to_contain_text("genesis is 'another-chain'")
