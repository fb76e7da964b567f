"""Shared helpers of the benchmark scripts; the machine description lives in
``yulian.bench.machine`` (re-exported here for old callers)."""

from __future__ import annotations

from yulian.bench.machine import describe, machine

__all__ = ["describe", "machine", "print_table"]


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}")
    print("-" * (width + 30))
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    print(f"{'machine'.ljust(width)}  {machine()}")
