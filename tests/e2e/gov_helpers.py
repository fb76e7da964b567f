"""Helpers for the governance e2e tests: the ``yulian`` CLI as a subprocess, and contracts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

CLI_TIMEOUT_S = 60

COUNTER_V1 = """
def incr(ctx, by):
    ctx.require(isinstance(by, int) and 0 < by <= 1000, "by must be 1..1000")
    value = ctx.state.get("count", 0) + by
    ctx.state.put("count", value)
    return value


def get(ctx):
    return ctx.state.get("count", 0)


def version(ctx):
    return "v1"
"""

COUNTER_V2 = """
def incr(ctx, by):
    ctx.require(isinstance(by, int) and 0 < by <= 1000, "by must be 1..1000")
    value = ctx.state.get("count", 0) + by
    ctx.state.put("count", value)
    ctx.emit("counted", {"value": value})
    return value


def reset(ctx):
    ctx.require(ctx.sender.role == "admin", "only an admin resets")
    ctx.state.put("count", 0)
    return 0


def get(ctx):
    return ctx.state.get("count", 0)


def version(ctx):
    return "v2"
"""


def cli(*args: str | Path | int) -> subprocess.CompletedProcess[str]:
    """Run ``yulian ARGS`` (as ``python -m yulian.cli.main``) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "yulian.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
    )


def cli_json(*args: str | Path | int) -> Any:
    """Run ``yulian ARGS``, require exit 0 and return its JSON output."""
    r = cli(*args)
    assert r.returncode == 0, f"yulian {' '.join(map(str, args))}: {r.returncode}\n{r.stderr}"
    return json.loads(r.stdout)


def as_admin(network: Path, url: str, org: str) -> list[str]:
    """The options that sign as ``org``'s admin through the node at ``url``."""
    return ["--network", str(network), "--url", url, "--org", org]
