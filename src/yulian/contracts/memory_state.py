"""Introduction: ``MemoryState`` — a dict-backed ``ContractState`` with per-key history, for
tests and local tools (the execution layer's is ``execution.overlay.ContractStateAdapter``)."""

from __future__ import annotations

from collections.abc import Iterator

from yulian.contracts.ranges import Entry


class MemoryState:
    """A dict-backed ``ContractState`` with per-key history, for tests and local tools."""

    def __init__(self, height: int = 0) -> None:
        self.height = height  # the height recorded with each write
        self.values: dict[str, bytes] = {}
        self.versions: dict[str, list[tuple[int, bytes | None]]] = {}

    def get(self, key: str) -> bytes | None:
        return self.values.get(key)

    def put(self, key: str, value: bytes) -> None:
        self.values[key] = value
        self.versions.setdefault(key, []).append((self.height, value))

    def delete(self, key: str) -> None:
        self.values.pop(key, None)
        self.versions.setdefault(key, []).append((self.height, None))

    def history(self, key: str, limit: int) -> list[tuple[int, bytes | None]]:
        return list(reversed(self.versions.get(key, [])))[:limit]

    def scan(
        self, start: str, end: str | None, after: str | None, chunk: int
    ) -> Iterator[Entry[str]]:
        for key in sorted(self.values):  # for tests: a sort per scan
            if key >= start and (end is None or key < end) and (after is None or key > after):
                yield key, self.values[key], len(self.values[key])
