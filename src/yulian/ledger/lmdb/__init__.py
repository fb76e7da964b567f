"""The LMDB ledger backend (the embedded default): ``ledger.py`` is the ``Ledger``, ``codec.py``
the on-disk record layout, ``gate.py`` thread admission, ``queries.py`` range reads and
``integrity.py`` the full consistency check."""

from __future__ import annotations

from yulian.ledger.lmdb.ledger import DEFAULT_MAP_BYTES, MAX_MAP_BYTES, LmdbLedger

__all__ = ["DEFAULT_MAP_BYTES", "MAX_MAP_BYTES", "LmdbLedger"]
