"""The interactive API docs render in a real browser (Debian's Chromium, headless) that can
reach nothing but the node: every hostname but the node's loopback address is unresolvable, as
on an air-gapped consortium network."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import RunningNode

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"  # installed by scripts/system-deps.sh
OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--virtual-time-budget=20000",
]


def render(url: str, profile: Path) -> str:
    """The page's DOM after its scripts ran."""
    done = subprocess.run(
        [CHROMIUM, *OFFLINE, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_browser_reaches_no_cdn(tmp_path: Path) -> None:
    """The control: a page that needs a CDN script does not get it in this browser."""
    page = tmp_path / "cdn.html"
    page.write_text(
        "<html><head><script src='https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
        "swagger-ui-bundle.js'></script></head><body><p id='probe'></p><script>"
        "document.getElementById('probe').textContent = 'bundle:' + typeof SwaggerUIBundle;"
        "</script></body></html>"
    )
    assert "bundle:undefined" in render(page.as_uri(), tmp_path / "profile")


def test_swagger_ui_renders_every_route_offline(node: RunningNode, tmp_path: Path) -> None:
    paths = httpx.get(f"{node.url}/openapi.json", timeout=10).json()["paths"]
    dom = render(f"{node.url}/docs", tmp_path / "profile")
    for path in paths:
        assert f'data-path="{path}"' in dom, path


def test_redoc_renders_offline(node: RunningNode, tmp_path: Path) -> None:
    doc = httpx.get(f"{node.url}/openapi.json", timeout=10).json()
    dom = render(f"{node.url}/redoc", tmp_path / "profile")
    for operations in doc["paths"].values():
        for operation in operations.values():
            assert operation["summary"] in dom, operation["summary"]
