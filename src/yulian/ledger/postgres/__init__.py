"""The PostgreSQL ledger backend: ``ledger.py`` is the ``Ledger``, ``schema.py`` its tables,
``queries.py`` its SQL, ``views.py`` the views operators read."""

from __future__ import annotations

from yulian.ledger.postgres.ledger import DEFAULT_SCHEMA, PostgresLedger, check_schema
from yulian.ledger.postgres.views import VIEWS, grant_reader_sql

__all__ = ["DEFAULT_SCHEMA", "VIEWS", "PostgresLedger", "check_schema", "grant_reader_sql"]
