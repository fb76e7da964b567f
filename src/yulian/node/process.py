"""Introduction: node processes — start, watch, stop (for the CLI, the demo, bench and tests).

A node runs as its own OS process (``python -m yulian.cli.main node start --config C``),
logging to a file. Three questions are answered here without trusting appearances:

- *Is that process our node?* ``process_state`` reaps it if it is our exited child, counts a
  zombie as dead (``kill(pid, 0)`` succeeds on one), and checks the command line, so a pid
  reused by an unrelated process is never taken for the node — nor signalled.
- *Is the port free?* ``port_holder`` binds it as the node would and, when it cannot, names
  the process that holds it where the operating system says.
- *Is the node answering ours?* ``wait_healthy`` polls ``/v1/health`` with a bounded number of
  attempts and, given the chain's identity, accepts only the expected node of that chain.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from enum import Enum
from pathlib import Path

import httpx
import psutil

from yulian.pki.chain import ChainIdentity

HEALTH_POLL_S = 0.1
HEALTH_TIMEOUT_S = 2.0
MAX_COMMAND_CHARS = 300  # of another process's command line, in a message


class NodeProcessError(RuntimeError):
    """A node process that exited, never became healthy, or could not start; the message names
    the node, the port or the log tail."""


class ProcessState(Enum):
    RUNNING = "running"  # alive, and the command line is that node's
    DEAD = "dead"  # gone, or a zombie
    OTHER = "other"  # alive, but another program (the pid was reused)


def node_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "yulian.cli.main", "node", "start", "--config", str(config)]


def start_node_process(
    config: Path,
    log_file: Path,
    *,
    env: dict[str, str] | None = None,
    wrapper: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """The node of ``config`` as a child process logging to ``log_file``. ``wrapper`` is a
    command that execs the node in another context (``ip netns exec NS``, ``systemd-run``):
    it must exec, not fork, so the child's pid stays the node's."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            [*wrapper, *node_command(Path(os.path.abspath(config)))],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # a terminal's Ctrl-C reaches the caller, not the node
        )


def process_state(pid: int, config: Path | None = None) -> ProcessState:
    """Whether ``pid`` is alive, and (given ``config``) the node of that config."""
    with contextlib.suppress(ChildProcessError):  # not our child: ask the kernel below
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return ProcessState.DEAD
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return ProcessState.DEAD  # exited; its parent has not reaped it yet
        if config is None:
            return ProcessState.RUNNING
        return ProcessState.RUNNING if _runs_config(proc, config) else ProcessState.OTHER
    except psutil.NoSuchProcess:
        return ProcessState.DEAD
    except psutil.AccessDenied:
        return ProcessState.OTHER  # not ours to look at, so not ours to signal


def _runs_config(proc: psutil.Process, config: Path) -> bool:
    args = proc.cmdline()
    if "node" not in args or "start" not in args or "--config" not in args[:-1]:
        return False
    given = Path(args[args.index("--config") + 1])
    if not given.is_absolute():
        given = Path(proc.cwd()) / given
    return os.path.abspath(given) == os.path.abspath(config)


def port_holder(host: str, port: int) -> str | None:
    """``None`` if a node could listen on ``host:port`` now; otherwise who holds it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the node's servers do
        try:
            s.bind((host, port))
            return None
        except OSError as e:
            reason = e.strerror or str(e)
    return _listener(port) or f"cannot listen there: {reason}"


def _listener(port: int) -> str | None:
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return None
    for c in connections:
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
            try:
                command = " ".join(" ".join(psutil.Process(c.pid).cmdline()).split()) or "?"
            except psutil.Error:
                command = "?"
            if len(command) > MAX_COMMAND_CHARS:
                command = command[: MAX_COMMAND_CHARS - 1] + "…"
            return f"held by pid {c.pid} ({command})"
    return None


def log_tail(log_file: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def fetch_health(url: str, timeout_s: float = HEALTH_TIMEOUT_S) -> dict[str, object] | None:
    """``/v1/health`` of the node at ``url``, or ``None`` if nothing answers it.

    A probe of liveness and identity: over HTTPS the node certificate is not checked here
    (the caller compares the chain and node in the answer); clients that exchange data
    verify it (``sdk/tls.py``)."""
    try:
        response = httpx.get(
            f"{url}/v1/health", timeout=timeout_s, verify=not url.startswith("https:")
        )
        if response.status_code == 200:
            result = response.json()
            return result if isinstance(result, dict) else None
    except (httpx.HTTPError, ValueError):
        pass
    return None


def wait_healthy(
    url: str,
    proc: subprocess.Popen[bytes] | None,
    log_file: Path | None,
    timeout_s: float = 30.0,
    *,
    identity: ChainIdentity | None = None,
    node: str | None = None,
) -> dict[str, object]:
    """Poll until the node at ``url`` answers; raise ``NodeProcessError`` if ``proc`` exits
    first, the time runs out, or (given ``identity``) the answer is not node ``node`` of
    that chain — another process holds the port."""
    deadline = time.monotonic() + timeout_s
    who = node or url
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log_tail(log_file) if log_file else ""
            raise NodeProcessError(f"node {who} exited with code {proc.returncode}\n{tail}")
        health = fetch_health(url, timeout_s=1.0)
        if health is not None:
            problem = identity.mismatch(health, node) if identity is not None else None
            if problem is not None:
                raise NodeProcessError(f"{url} does not answer as node {who}: {problem}")
            return health
        time.sleep(HEALTH_POLL_S)
    tail = log_tail(log_file) if log_file else ""
    raise NodeProcessError(f"node {who} at {url} not healthy after {timeout_s} s\n{tail}")


def stop_node_process(proc: subprocess.Popen[bytes], timeout_s: float = 10.0) -> int:
    """SIGTERM, then SIGKILL after ``timeout_s``; returns the exit code (the child is reaped)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)
    return proc.returncode
