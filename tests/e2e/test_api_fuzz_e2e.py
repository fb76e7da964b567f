"""An independent OpenAPI-driven tester (schemathesis) against a live node: generated requests
for every route — in range, at the boundaries and beyond them, undeclared methods — find no
5xx, no answer outside the documented statuses, media types and schemas, no accepted invalid
input, and the node's memory stays flat.

The test suite runs a bounded sample (fixed seeds). The longer run, with a time budget and a
random seed, is a command (``docs/api.md``)::

    .venv/bin/python -m tests.e2e.test_api_fuzz_e2e --max-time 600
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.e2e.harness import RunningNode, make_network, serving

pytestmark = pytest.mark.e2e

CONFIG = Path(__file__).with_name("schemathesis.toml")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
MAX_RSS_GROWTH_MIB = 16  # after a warm-up run; a leak of 20 KiB per request would exceed it


@dataclass(frozen=True)
class FuzzRun:
    returncode: int
    generated: int
    passed: int
    output: str


def run_schemathesis(
    url: str, *, seed: int, max_examples: int, max_time_s: int | None, workdir: Path
) -> FuzzRun:
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--request-timeout",
        "30",
    ]
    if max_time_s is not None:
        command += ["--max-time", str(max_time_s)]
    timeout = (max_time_s or 300) + 300
    done = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = done.stdout + done.stderr
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    generated, passed = (int(counts[1]), int(counts[2])) if counts else (0, 0)
    return FuzzRun(done.returncode, generated, passed, output)


def rss_mib(pid: int) -> float:
    return float(psutil.Process(pid).memory_info().rss) / (1 << 20)


def seed_chain(running: RunningNode) -> None:
    """Real data to read: a few committed txs, so blocks, txs, state and history exist."""
    client = running.client()
    for i in range(3):
        client.submit("evidence", "register", [f"{i:02x}" * 32, "fuzz", {}])


def test_generated_requests_find_no_fault(tmp_path: Path) -> None:
    with serving(make_network(tmp_path)) as running:
        assert running.proc is not None
        seed_chain(running)
        warm = run_schemathesis(
            running.url, seed=1, max_examples=5, max_time_s=None, workdir=tmp_path
        )
        assert warm.returncode == 0, warm.output[-5000:]
        before = rss_mib(running.proc.pid)
        run = run_schemathesis(
            running.url, seed=2, max_examples=25, max_time_s=None, workdir=tmp_path
        )
        after = rss_mib(running.proc.pid)
        assert run.returncode == 0, run.output[-5000:]
        assert run.generated >= 300 and run.passed == run.generated, run.output[-3000:]
        assert after - before < MAX_RSS_GROWTH_MIB, (before, after)
        assert running.proc.poll() is None  # the node is still up


def main(argv: list[str] | None = None) -> int:
    """The longer run: a fresh network, a time budget, a random (printed) seed."""
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.test_api_fuzz_e2e")
    parser.add_argument("--max-time", type=int, default=600, help="seconds of generation")
    parser.add_argument("--max-examples", type=int, default=10_000, help="per operation")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    with tempfile.TemporaryDirectory() as tmp, serving(make_network(Path(tmp))) as running:
        assert running.proc is not None
        seed_chain(running)
        before = rss_mib(running.proc.pid)
        run = run_schemathesis(
            running.url,
            seed=seed,
            max_examples=args.max_examples,
            max_time_s=args.max_time,
            workdir=Path(tmp),
        )
        after = rss_mib(running.proc.pid)
        alive = running.proc.poll() is None
    print(run.output[-4000:])
    print(
        f"seed {seed}: {run.generated} requests, {run.passed} passed, exit {run.returncode}; "
        f"node RSS {before:.1f} -> {after:.1f} MiB; node {'alive' if alive else 'DEAD'}"
    )
    return 0 if run.returncode == 0 and alive else 1


if __name__ == "__main__":
    sys.exit(main())
