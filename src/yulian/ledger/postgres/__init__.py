"""The PostgreSQL ledger backend: ``ledger.py`` is the ``Ledger``, ``schema.py`` its tables,
``queries.py`` its SQL, ``views.py`` the views operators read, ``writer.py`` its one writing
session (and how it reconnects)."""

from __future__ import annotations

from yulian.ledger.postgres.ledger import DEFAULT_SCHEMA, PostgresLedger, check_schema
from yulian.ledger.postgres.views import VIEWS, grant_reader_sql
from yulian.ledger.postgres.writer import DEFAULT_RECONNECT_S, MAX_RECONNECT_S

__all__ = [
    "DEFAULT_RECONNECT_S",
    "DEFAULT_SCHEMA",
    "MAX_RECONNECT_S",
    "VIEWS",
    "PostgresLedger",
    "check_schema",
    "grant_reader_sql",
]
