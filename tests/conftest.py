"""Fixtures shared by every test directory.

``pg_server``: one real PostgreSQL server per test process (``tests/pgserver.py``), started the
first time a test asks for it and stopped when the process ends.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pgserver import PgServer


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()
