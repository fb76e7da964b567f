"""The tests' PostgreSQL server: ``yulian.ledger.postgres.tempserver`` (Debian's binaries, a
temporary cluster on a unix socket, run as the ``postgres`` user when the tests run as root),
started once per test process by the ``pg_server`` fixture in ``tests/conftest.py``."""

from __future__ import annotations

from yulian.ledger.postgres.tempserver import PgServer, PgServerError, find_bin_dir

__all__ = ["PgServer", "PgServerError", "find_bin_dir"]
