"""Listening ports for tests, from below the kernel's ephemeral range.

A port that ``bind(0)`` hands out, then closes, is one the kernel may give next to an outgoing
connection (a client, a peer's dial) before the test's server binds it; a dial to a port nobody
listens on yet can even connect to itself. Ports below the ephemeral range (32768-60999 here)
are never handed to outgoing connections.
"""

from __future__ import annotations

import os
import random
import socket
import time

LISTEN_PORTS = range(20000, 32000)
_ports = random.Random(os.getpid() ^ time.monotonic_ns())  # test set-up, not the chain


def free_port() -> int:
    """A port outside the ephemeral range that nothing is bound to now (bounded search)."""
    for _ in range(500):
        port = _ports.randrange(LISTEN_PORTS.start, LISTEN_PORTS.stop)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port below the ephemeral range")


def free_port_block(n: int) -> int:
    """A base port with ``n`` consecutive free ports (bounded search)."""
    for _ in range(200):
        base = free_port()
        if base + n > LISTEN_PORTS.stop:
            continue
        ok = True
        for p in range(base, base + n):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no block of free ports")


def free_ports(n: int) -> list[int]:
    """``n`` distinct free ports (see ``free_port``)."""
    ports: list[int] = []
    for _ in range(50 * n):
        port = free_port()
        if port not in ports:
            ports.append(port)
        if len(ports) == n:
            return ports
    raise RuntimeError(f"no {n} distinct free ports below the ephemeral range")
