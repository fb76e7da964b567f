"""Introduction: the machine a benchmark ran on, and the signature ceiling measured on it.

``describe()`` returns cores, CPU model, memory, Python and OS as a dict (for the JSON report);
``machine()`` the same as one line. ``signature_ceiling`` times Ed25519 verification on one
core through the chain's own suite (``get_suite(name).verify``) for a short, bounded loop:
a network of n validators verifies every tx n times, so on c cores the signature ceiling of
the run is ``c × verify_rate / n`` tx/s (BENCHMARK.md). Commit TPS is reported as a fraction
of it, which moves much less between runs and machines than the absolute figure.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import psutil

from yulian.crypto.suite import get_suite


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cores() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def describe() -> dict[str, Any]:
    return {
        "cores": cores(),
        "cpu_model": cpu_model(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def machine() -> str:
    d = describe()
    return (
        f"{d['cores']} cores, {d['cpu_model']}, {d['memory_gib']} GiB, Python {d['python']} "
        f"({d['implementation']}), {d['os'].split()[0]}"
    )


@dataclass(frozen=True)
class SignatureCeiling:
    suite: str
    verify_per_s: float  # one core, median of the rounds
    cores: int
    validators: int

    @property
    def tps(self) -> float:
        """Every validator verifies every tx once: ``cores × verify_per_s / validators``."""
        return self.cores * self.verify_per_s / max(1, self.validators)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ceiling_tps": self.tps}


def verify_rate(suite_name: str = "standard", seconds: float = 0.6, rounds: int = 3) -> float:
    """Signature verifications per second on one core: the median of ``rounds`` timed loops
    of about ``seconds / rounds`` each (bounded: at most 200,000 verifications per round)."""
    suite = get_suite(suite_name)
    key = suite.generate_key()
    public = key.public_key()
    message = b"yulian bench signature ceiling" * 4
    signature = key.sign(message)
    results = []
    for _ in range(max(1, rounds)):
        n = 0
        started = time.perf_counter()
        deadline = started + seconds / max(1, rounds)
        while n < 200_000:
            for _ in range(100):
                if not suite.verify(public, message, signature):
                    raise RuntimeError("the suite failed to verify its own signature")
            n += 100
            if time.perf_counter() >= deadline:
                break
        results.append(n / (time.perf_counter() - started))
    results.sort()
    return results[len(results) // 2]


def signature_ceiling(
    validators: int, suite_name: str = "standard", seconds: float = 0.6
) -> SignatureCeiling:
    return SignatureCeiling(suite_name, verify_rate(suite_name, seconds), cores(), validators)
