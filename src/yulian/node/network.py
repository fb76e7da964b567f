"""Introduction: a local network's node processes — ``yulian network up / down / status``.

Every node of a network directory runs as its own background process, logging to
``DIR/logs/<node>.log``; its pid is kept in ``DIR/nodes/<node>/node.pid``. Nothing here takes
appearances for the truth:

- ``start_network`` succeeds only when every node of the directory is *its* process, alive,
  and the node answering on its API port is that node of this chain (chain id, genesis hash,
  node name). A port held by any other process is refused before anything starts, naming the
  port; a node that fails later stops the nodes this call started, so a failed ``up`` leaves
  things as they were.
- ``network_status`` reports a node ``up`` only on the same evidence; another network's node
  on its port, or a dead process (a zombie included), is ``down`` with the reason.
- ``network_down`` signals only processes whose command line is that node's, never a pid that
  was reused by something else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from yulian.node.config import load_config
from yulian.node.process import (
    NodeProcessError,
    ProcessState,
    fetch_health,
    port_holder,
    process_state,
    start_node_process,
    stop_node_process,
    wait_healthy,
)
from yulian.pki.chain import ChainIdentity
from yulian.pki.layout import CONFIG_FILE, NetworkLayout, load_layout

PID_FILE = "node.pid"
STOP_TIMEOUT_S = 15.0
PROBE_TIMEOUT_S = 1.0  # a node that does not answer /v1/health this fast is not serving

Progress = Callable[[str], None]


@dataclass(frozen=True)
class NodeStatus:
    name: str
    url: str
    state: str  # "up" | "starting" | "down"
    pid: int | None  # the node's own process, if it runs
    health: dict[str, object] | None  # only when it is this chain's node
    problem: str | None = None  # why it is not up, when something else explains it


@dataclass
class StartedNetwork:
    """What ``start_network`` did: every node's API URL, and the processes it started (the
    caller's children: it must reap them, e.g. with ``Popen.poll``)."""

    urls: list[str]
    started: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)


def pid_path(layout: NetworkLayout, node: str) -> Path:
    return layout.node(node).dir / PID_FILE


def log_path(layout: NetworkLayout, node: str) -> Path:
    return layout.root / "logs" / f"{node}.log"


def read_pid(path: Path, config: Path | None = None) -> int | None:
    """The pid in ``path`` if that process is alive (and, given ``config``, is that node)."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    if config is None:
        config = path.parent / CONFIG_FILE  # the pid file sits beside the node's config
    return pid if process_state(pid, config) is ProcessState.RUNNING else None


def node_pid(layout: NetworkLayout, node: str) -> int | None:
    """The pid of ``node``'s own running process; a stale pid file is removed."""
    path = pid_path(layout, node)
    pid = read_pid(path, layout.node(node).config)
    if pid is None:
        path.unlink(missing_ok=True)
    return pid


def start_network(
    root: Path, progress: Progress = lambda _: None, timeout_s: float = 60.0
) -> StartedNetwork:
    """Start every node that is not running, then wait until each answers as itself."""
    layout = load_layout(root)
    identity = ChainIdentity.load(layout.root)
    configs = {n.name: load_config(n.config) for n in layout.nodes}
    running = {n.name: node_pid(layout, n.name) for n in layout.nodes}
    outside = set()  # this network's nodes someone started by hand (`yulian node start`)
    taken = []
    for node in layout.nodes:
        if running[node.name] is not None:
            continue
        cfg = configs[node.name]
        health = fetch_health(cfg.api_url, PROBE_TIMEOUT_S)
        if health is not None and identity.mismatch(health, node.name) is None:
            outside.add(node.name)
            continue
        for what, host, port in (
            ("API", cfg.api_host, cfg.api_port),
            ("p2p", cfg.p2p_host, cfg.p2p_port),
        ):
            holder = port_holder(host, port)
            if holder is not None:
                taken.append(f"port {port} ({what} of {node.name}) is in use: {holder}")
    if taken:
        raise NodeProcessError(
            "; ".join(taken) + ". Stop that process or give the node another port in "
            f"{layout.root / 'nodes'}/<node>/config.toml; nothing was started"
        )
    result = StartedNetwork([configs[n.name].api_url for n in layout.nodes])
    try:
        for node in layout.nodes:
            if running[node.name] is not None:
                progress(f"{node.name} already running (pid {running[node.name]})")
                continue
            if node.name in outside:
                progress(f"{node.name} already serving (not started by network up)")
                continue
            proc = start_node_process(node.config, log_path(layout, node.name))
            pid_path(layout, node.name).write_text(f"{proc.pid}\n")
            result.started[node.name] = proc
            progress(f"started {node.name} (pid {proc.pid})")
        for node, url in zip(layout.nodes, result.urls, strict=True):
            wait_healthy(
                url,
                result.started.get(node.name),
                log_path(layout, node.name),
                timeout_s,
                identity=identity,
                node=node.name,
            )
            progress(f"{node.name} serving at {url}")
    except BaseException:
        for name, proc in result.started.items():
            stop_node_process(proc)
            pid_path(layout, name).unlink(missing_ok=True)
        raise
    return result


def network_up(
    root: Path, progress: Progress = lambda _: None, timeout_s: float = 60.0
) -> list[str]:
    """``start_network``'s API URLs, for callers that keep no process handles."""
    return start_network(root, progress, timeout_s).urls


def network_down(
    root: Path, progress: Progress = lambda _: None, only: Collection[str] | None = None
) -> int:
    """SIGTERM every node (of ``only``, if given) whose own process runs, SIGKILL what is left
    after ``STOP_TIMEOUT_S``; returns how many were stopped."""
    layout = load_layout(root)
    pids = {}
    for node in layout.nodes:
        if only is not None and node.name not in only:
            continue
        pid = node_pid(layout, node.name)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            pids[node.name] = pid
            progress(f"stopping {node.name} (pid {pid})")
    deadline = time.monotonic() + STOP_TIMEOUT_S
    left = dict(pids)
    while left and time.monotonic() < deadline:
        for name, pid in list(left.items()):
            if process_state(pid) is ProcessState.DEAD:
                del left[name]
        time.sleep(0.1)
    for name, pid in left.items():
        progress(f"killing {name} (pid {pid})")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        until = time.monotonic() + STOP_TIMEOUT_S
        while process_state(pid) is not ProcessState.DEAD and time.monotonic() < until:
            time.sleep(0.05)  # process_state reaps it if it is our child
    for name in pids:
        pid_path(layout, name).unlink(missing_ok=True)
    return len(pids)


def network_status(root: Path) -> list[NodeStatus]:
    layout = load_layout(root)
    identity = ChainIdentity.load(layout.root)
    out = []
    for node in layout.nodes:
        cfg = load_config(node.config)
        pid = node_pid(layout, node.name)
        health = fetch_health(cfg.api_url)
        problem = identity.mismatch(health, node.name) if health is not None else None
        if health is not None and problem is None:
            out.append(NodeStatus(node.name, cfg.api_url, "up", pid, health))
        elif health is not None:
            out.append(
                NodeStatus(
                    node.name, cfg.api_url, "down", pid, None, f"port {cfg.api_port}: {problem}"
                )
            )
        elif pid is not None:
            out.append(NodeStatus(node.name, cfg.api_url, "starting", pid, None))
        else:
            holder = port_holder(cfg.api_host, cfg.api_port)
            reason = f"port {cfg.api_port} is in use: {holder}" if holder else "not running"
            out.append(NodeStatus(node.name, cfg.api_url, "down", None, None, reason))
    return out
