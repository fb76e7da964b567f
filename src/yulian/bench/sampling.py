"""Introduction: what the node processes cost — CPU seconds, memory samples, peak RSS.

CPU seconds are a process's user + system time (the load driver takes the difference over
the run); peak RSS is the kernel's high-water mark (``VmHWM``); ``MemorySampler`` samples every
node's RSS and its anonymous part (RSS minus the file-backed pages, which include LMDB's map
of the growing ledger) every ``RSS_SAMPLE_S`` seconds for the plot and the stability test.
A process that has gone reads as 0 rather than failing the run: the driver reports it as
crashed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import psutil

RSS_SAMPLE_S = 1.0

Samples = list[tuple[float, list[int]]]  # (seconds since t0, one value per node)


def cpu_seconds(p: psutil.Process) -> float:
    try:
        t = p.cpu_times()
        return float(t.user + t.system)
    except psutil.Error:
        return 0.0


def alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def peak_rss(p: psutil.Process) -> int:
    """The kernel's RSS high-water mark of the process (``VmHWM``), else its current RSS."""
    try:
        with open(f"/proc/{p.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return int(p.memory_info().rss)
    except psutil.Error:
        return 0


class MemorySampler:
    """RSS and anonymous memory of every process, sampled until cancelled."""

    def __init__(self, procs: Sequence[psutil.Process], clock: Callable[[], float]) -> None:
        self.procs = list(procs)
        self.clock = clock
        self.rss: Samples = []
        self.anon: Samples = []

    async def run(self) -> None:
        while True:
            row, anon = [], []
            for p in self.procs:
                try:
                    m = p.memory_info()
                    row.append(m.rss)
                    # Linux: ``shared`` is the file-backed resident part (LMDB's map, code)
                    anon.append(m.rss - getattr(m, "shared", 0))
                except psutil.Error:
                    row.append(0)
                    anon.append(0)
            now = self.clock()
            self.rss.append((now, row))
            self.anon.append((now, anon))
            await asyncio.sleep(RSS_SAMPLE_S)
