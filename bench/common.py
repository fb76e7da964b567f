"""Shared helpers of the benchmark scripts: the machine description and table printing."""

from __future__ import annotations

import os
import platform
import sys


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores, {model}, Python {sys.version.split()[0]} "
        f"({platform.python_implementation()}), {platform.system()}"
    )


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}")
    print("-" * (width + 30))
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    print(f"{'machine'.ljust(width)}  {machine()}")
