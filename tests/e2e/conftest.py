"""Fixtures for end-to-end tests: a real node process per test, on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import RunningNode, make_network


@pytest.fixture
def node(tmp_path: Path) -> Iterator[RunningNode]:
    running = make_network(tmp_path)
    running.start()
    try:
        yield running
    finally:
        for c in running.clients:
            c.close()
        running.stop()
