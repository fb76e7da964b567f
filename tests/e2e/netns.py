"""Hosts on one machine: a network namespace per host, joined by veth pairs to a bridge in a
switch namespace, with link-down partitions and added latency — made and removed by the test.

Nothing of the machine's own network changes: the bridge lives in its own namespace and every
address is inside the namespaces, so concurrent runs only need distinct namespace names (the
prefix carries the pid). The test process reaches a namespace without an interface of its own:
``Lab.call`` runs a function in a thread that has entered that namespace (``setns``), so the
sockets the function opens (the SDK's HTTP connections) belong to it.

Latency is added per host by a delay line (``tests/e2e/delayline.py``, a TUN device its
outgoing packets to the other hosts are routed through): ``tc netem`` is not built into the
kernel these tests run on.
"""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000
SUBNET = "10.77.0"  # inside the namespaces only
CLIENT_HOST = "client"
DELAY_DEVICE = "dly0"
DELAY_TABLE = "100"
DELAY_RULE_PREF = "100"
READY_TIMEOUT_S = 30.0
_libc = ctypes.CDLL(None, use_errno=True)


class LabError(RuntimeError):
    """The namespaces could not be set up (not root, no ``ip``, ...); names the command."""


def run(*args: str) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise LabError(f"{' '.join(args)}: exit {result.returncode}: {result.stderr.strip()}")


def enter_namespace(namespace: str) -> None:
    """Move the calling *thread* into network namespace ``namespace``."""
    fd = os.open(f"/run/netns/{namespace}", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"setns into {namespace}: {os.strerror(errno)}")
    finally:
        os.close(fd)


@dataclass
class Lab:
    """Hosts ``names`` (plus ``client``, where the test's requests come from) on one bridge."""

    names: list[str]
    prefix: str = field(default_factory=lambda: f"yl{os.getpid()}")
    addresses: dict[str, str] = field(default_factory=dict)
    _ports: dict[str, str] = field(default_factory=dict)
    _executors: dict[str, ThreadPoolExecutor] = field(default_factory=dict)
    _delay_lines: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _created: list[str] = field(default_factory=list)

    def namespace(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    @property
    def switch(self) -> str:
        return f"{self.prefix}-sw"

    def create(self) -> None:
        if os.geteuid() != 0:
            raise LabError("network namespaces need root (the tests run as root here and in CI)")
        self._add_namespace(self.switch)
        run("ip", "-n", self.switch, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", self.switch, "link", "set", "br0", "up")
        for i, host in enumerate([*self.names, CLIENT_HOST], start=1):
            ns, port = self.namespace(host), f"p{i}"
            address = f"{SUBNET}.{10 + i}" if host != CLIENT_HOST else f"{SUBNET}.2"
            self._add_namespace(ns)
            run(
                "ip",
                "-n",
                self.switch,
                "link",
                "add",
                port,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
            )
            run("ip", "-n", self.switch, "link", "set", port, "master", "br0", "up")
            run("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
            run("ip", "-n", ns, "link", "set", "lo", "up")
            self.addresses[host] = address
            self._ports[host] = port

    def destroy(self) -> None:
        """Stop the delay lines and delete every namespace this lab made (their veths go
        with them). The caller stops its own processes in the namespaces first."""
        self.remove_latency()
        for executor in self._executors.values():
            executor.shutdown(wait=False, cancel_futures=True)
        for ns in reversed(self._created):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
        self._created.clear()

    def exec_prefix(self, host: str) -> list[str]:
        """The command prefix that runs a program on ``host``."""
        return ["ip", "netns", "exec", self.namespace(host)]

    def call(self, host: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a thread inside ``host``'s namespace (one thread per host)."""
        executor = self._executors.get(host)
        if executor is None:
            executor = ThreadPoolExecutor(
                1, f"netns-{host}", initializer=enter_namespace, initargs=(self.namespace(host),)
            )
            self._executors[host] = executor
        return executor.submit(fn, *args).result()

    def thread(self, host: str, target: Callable[[], None]) -> threading.Thread:
        """A started daemon thread running ``target`` inside ``host``'s namespace."""

        def body() -> None:
            enter_namespace(self.namespace(host))
            target()

        t = threading.Thread(target=body, name=f"netns-{host}-worker", daemon=True)
        t.start()
        return t

    # --- faults -------------------------------------------------------------------------

    def set_link(self, host: str, up: bool) -> None:
        """Plug or unplug ``host``'s cable at the switch."""
        run("ip", "-n", self.switch, "link", "set", self._ports[host], "up" if up else "down")

    def add_latency(self, delay_ms: int, hosts: list[str] | None = None) -> None:
        """Every packet ``hosts`` send to the subnet leaves ``delay_ms`` late."""
        for host in hosts or self.names:
            ns = self.namespace(host)
            line = subprocess.Popen(
                [
                    *self.exec_prefix(host),
                    sys.executable,
                    str(Path(__file__).with_name("delayline.py")),
                    DELAY_DEVICE,
                    str(delay_ms),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            self._delay_lines.append(line)
            assert line.stdout is not None
            ready = _read_line(line, READY_TIMEOUT_S)
            if ready != b"ready\n":
                raise LabError(f"the delay line in {ns} did not start: {ready!r}")
            run("ip", "-n", ns, "link", "set", DELAY_DEVICE, "up")
            run(
                "ip",
                "netns",
                "exec",
                ns,
                "sysctl",
                "-q",
                "-w",
                "net.ipv4.ip_forward=1",
                "net.ipv4.conf.all.rp_filter=0",
                f"net.ipv4.conf.{DELAY_DEVICE}.rp_filter=0",
                f"net.ipv4.conf.{DELAY_DEVICE}.accept_local=1",
            )
            address = self.addresses[host]
            run(
                "ip",
                "-n",
                ns,
                "route",
                "add",
                f"{SUBNET}.0/24",
                "dev",
                DELAY_DEVICE,
                "src",
                address,
                "table",
                DELAY_TABLE,
            )
            run(
                "ip",
                "-n",
                ns,
                "rule",
                "add",
                "iif",
                "lo",
                "lookup",
                DELAY_TABLE,
                "pref",
                DELAY_RULE_PREF,
            )

    def remove_latency(self) -> None:
        for line in self._delay_lines:
            line.kill()
            line.wait(10)
        for host in self.names if self._delay_lines else ():
            subprocess.run(
                ["ip", "-n", self.namespace(host), "rule", "del", "pref", DELAY_RULE_PREF],
                capture_output=True,
                timeout=30,
            )
        self._delay_lines.clear()

    def _add_namespace(self, ns: str) -> None:
        run("ip", "netns", "add", ns)
        self._created.append(ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")


def connect_ms(host: str, port: int, attempts: int = 5) -> float:
    """The fastest of ``attempts`` TCP connects to ``host:port``: one round trip."""
    import socket

    best = float("inf")
    for _ in range(attempts):
        start = time.monotonic()
        with socket.create_connection((host, port), timeout=10):
            best = min(best, (time.monotonic() - start) * 1000)
    return best


def _read_line(proc: subprocess.Popen[bytes], timeout_s: float) -> bytes:
    box: list[bytes] = []
    reader = threading.Thread(target=lambda: box.append(proc.stdout.readline()))  # type: ignore[union-attr]
    reader.daemon = True
    reader.start()
    reader.join(timeout_s)
    return box[0] if box else b""
