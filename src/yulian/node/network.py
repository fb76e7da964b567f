"""Introduction: a local network's node processes — ``yulian network up / down / status``.

Every node of a network directory runs as its own background process (its own session, so a
terminal's Ctrl-C does not reach it), logging to ``DIR/logs/<node>.log``; its pid is kept in
``DIR/nodes/<node>/node.pid``. ``down`` stops exactly the processes whose pid files it finds.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from yulian.node.config import load_config
from yulian.node.process import NodeProcessError, start_node_process, wait_healthy
from yulian.pki.layout import NetworkLayout, load_layout

PID_FILE = "node.pid"
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class NodeStatus:
    name: str
    url: str
    running: bool
    health: dict[str, object] | None


def pid_path(layout: NetworkLayout, node: str) -> Path:
    return layout.node(node).dir / PID_FILE


def log_path(layout: NetworkLayout, node: str) -> Path:
    return layout.root / "logs" / f"{node}.log"


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; reaps it first if it is our own exited child (a zombie)."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass  # not our child: the kernel answers below
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def network_up(
    root: Path, progress: Callable[[str], None] = lambda _: None, timeout_s: float = 60.0
) -> list[str]:
    """Start every node that is not running; wait until each answers; return the API URLs."""
    layout = load_layout(root)
    urls, started = [], []
    for node in layout.nodes:
        url = load_config(node.config).api_url
        urls.append(url)
        if read_pid(pid_path(layout, node.name)) is not None:
            progress(f"{node.name} already running")
            continue
        proc = start_node_process(node.config, log_path(layout, node.name))
        pid_path(layout, node.name).write_text(f"{proc.pid}\n")
        started.append((node.name, url, proc))
        progress(f"started {node.name} (pid {proc.pid})")
    for name, url, proc in started:
        try:
            wait_healthy(url, proc, log_path(layout, name), timeout_s)
        except NodeProcessError:
            pid_path(layout, name).unlink(missing_ok=True)
            raise
        progress(f"{name} healthy at {url}")
    return urls


def network_down(root: Path, progress: Callable[[str], None] = lambda _: None) -> int:
    """SIGTERM every node with a live pid file, then SIGKILL what is left; returns the count."""
    layout = load_layout(root)
    pids = {}
    for node in layout.nodes:
        path = pid_path(layout, node.name)
        pid = read_pid(path)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            pids[node.name] = pid
            progress(f"stopping {node.name} (pid {pid})")
        path.unlink(missing_ok=True)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while pids and time.monotonic() < deadline:
        for name, pid in list(pids.items()):
            if not alive(pid):
                del pids[name]
        time.sleep(0.1)
    for name, pid in pids.items():
        progress(f"killing {name} (pid {pid})")
        os.kill(pid, signal.SIGKILL)
    return len(layout.nodes)


def network_status(root: Path) -> list[NodeStatus]:
    layout = load_layout(root)
    out = []
    for node in layout.nodes:
        url = load_config(node.config).api_url
        health = None
        try:
            response = httpx.get(f"{url}/v1/health", timeout=2.0)
            if response.status_code == 200:
                health = response.json()
        except httpx.HTTPError:
            pass
        running = read_pid(pid_path(layout, node.name)) is not None or health is not None
        out.append(NodeStatus(node.name, url, running, health))
    return out
