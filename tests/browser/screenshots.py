"""Regenerate the explorer screenshots in ``docs/img/`` from a fresh network with activity.

    .venv/bin/python -m tests.browser.screenshots [docs/img]

Starts the same network as the browser tests (4 organisations, evidence registrations, a
governance change), photographs each page with Debian's Chromium, and stops it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.chain import Chain, start_chain
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE


def shoot(page: Page, chain: Chain, route: str, out: Path) -> None:
    page.goto(f"{chain.url}/explorer/#/{route}")
    expect(page.locator("main .page")).to_have_attribute("aria-busy", "false")
    page.wait_for_timeout(500)
    page.screenshot(path=str(out), full_page=True)


def main(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="yulian-shots-") as tmp:
        chain = start_chain(Path(tmp))
        try:
            regs = chain.activity.registrations
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport=DESKTOP)
                page.wait_for_timeout(3000)  # a few empty blocks for the charts
                shoot(page, chain, "", target / "explorer-overview.png")
                shoot(page, chain, "blocks", target / "explorer-blocks.png")
                shoot(page, chain, f"block/{regs[0].height}", target / "explorer-block.png")
                shoot(page, chain, f"tx/{regs[-1].tx_id}", target / "explorer-tx.png")
                shoot(
                    page,
                    chain,
                    f"state?contract=evidence&key=doc/{regs[0].digest}",
                    target / "explorer-state.png",
                )
                shoot(
                    page,
                    chain,
                    f"config?height={chain.activity.governance_height}",
                    target / "explorer-config.png",
                )
                shoot(page, chain, "contract/evidence", target / "explorer-contracts.png")
                shoot(page, chain, "governance", target / "explorer-governance.png")
                shoot(
                    page,
                    chain,
                    "events?contract=evidence&name=registered",
                    target / "explorer-events.png",
                )
                shoot(page, chain, "verify", target / "explorer-verify.png")
                page.locator("#genesis-file").set_input_files(str(chain.genesis_file))
                page.locator("#document-file").set_input_files(str(regs[-1].certificate))
                page.locator("#evidence-file").set_input_files(str(regs[-1].file))
                page.locator("#verify-button").click()
                expect(page.locator("#verify-result")).to_have_attribute("data-verdict", "ok")
                page.screenshot(path=str(target / "explorer-verify.png"), full_page=True)
                page.locator("#lang-switch").click()
                shoot(page, chain, "", target / "explorer-overview-en.png")
                phone = browser.new_page(viewport=PHONE)
                shoot(phone, chain, f"tx/{regs[0].tx_id}", target / "explorer-phone-tx.png")
                browser.close()
        finally:
            chain.cluster.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img"))
