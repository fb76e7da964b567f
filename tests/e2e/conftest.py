"""Fixtures for end-to-end tests: a real node process per test, on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import RunningNode, make_network, serving


@pytest.fixture
def node(tmp_path: Path) -> Iterator[RunningNode]:
    with serving(make_network(tmp_path)) as running:
        yield running
