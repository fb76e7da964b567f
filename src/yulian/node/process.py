"""Introduction: starting and stopping node processes (for the CLI, the demo and e2e tests).

A node runs as its own OS process (``python -m yulian.cli.main node start``), logging to a file;
``wait_healthy`` polls ``/v1/health`` with a bounded number of attempts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

HEALTH_POLL_S = 0.1


class NodeProcessError(RuntimeError):
    """A node process that exited or never became healthy; the message has its log tail."""


def start_node_process(
    config: Path, log_file: Path, *, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "yulian.cli.main", "node", "start", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )


def log_tail(log_file: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_healthy(
    url: str, proc: subprocess.Popen[bytes] | None, log_file: Path | None, timeout_s: float = 30.0
) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log_tail(log_file) if log_file else ""
            raise NodeProcessError(f"node exited with code {proc.returncode}\n{tail}")
        try:
            response = httpx.get(f"{url}/v1/health", timeout=1.0)
            if response.status_code == 200:
                result: dict[str, object] = response.json()
                return result
        except httpx.HTTPError:
            pass
        time.sleep(HEALTH_POLL_S)
    tail = log_tail(log_file) if log_file else ""
    raise NodeProcessError(f"node at {url} not healthy after {timeout_s} s\n{tail}")


def stop_node_process(proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> int:
    """SIGTERM, then SIGKILL after ``timeout_s``; returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)
    return proc.returncode
