"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, headless.

The browser is the system's ``/usr/bin/chromium`` (``scripts/system-deps.sh`` installs it);
Playwright never downloads one. A missing browser fails the tests: it is not a reason to skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = os.environ.get("YULIAN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
# generous: the machine the tests share may be loaded many times over (pages wait on the API)
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)
PHONE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/system-deps.sh"
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (own storage: the language starts at zh-CN) that fails the test on any
    script error."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(TIMEOUT_MS)
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"script errors in the page: {errors}"
