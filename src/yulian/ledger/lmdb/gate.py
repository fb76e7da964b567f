"""Admission of one process's threads to the LMDB environment, and the read context.

Introduction
------------
py-lmdb serialises every transaction call on one environment mutex, and growing the memory map
must not race a live transaction of this process. ``Gate`` orders readers, the one writer and
the exclusive map-growth/close step; ``Reading`` is the context every read passes through.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import lmdb

from yulian.ledger.lmdb.codec import translate_lmdb_error
from yulian.ledger.validate import LedgerClosed

if TYPE_CHECKING:
    from yulian.ledger.lmdb.ledger import LmdbLedger

Txn = Any  # lmdb.Transaction; Any keeps the generic stub types out of every signature


class Gate:
    """Admission of this process's threads to the LMDB environment.

    * shared — a read transaction. Many at once.
    * writing — the one write transaction (already serialised by the write lock). While it
      runs, new readers wait at the gate. py-lmdb 3 guards every transaction call with one
      environment mutex held across the C call; back-to-back readers on other threads can
      re-take it before a blocked writer wakes and starve a commit for seconds (measured:
      10-60 s with 3 spinning readers). Holding new readers back bounds the writer's wait to
      the reads already in flight.
    * exclusive — ``set_mapsize`` or ``close``: no reader and no writer inside.
    """

    def __init__(self) -> None:
        # the lock is taken directly on the hot paths (a Condition's ``with`` is a Python-level
        # call on top), and waiters are counted so that leaving wakes no one when no one waits
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._shared = 0
        self._writing = 0
        self._exclusive = False
        self._waiting = 0

    def enter_shared(self) -> None:
        with self._lock:
            while self._exclusive or self._writing:
                self._wait()
            self._shared += 1

    def leave_shared(self) -> None:
        with self._lock:
            self._shared -= 1
            if self._shared == 0 and self._waiting:
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._lock:
            while self._exclusive:
                self._wait()
            self._writing += 1
        try:
            yield
        finally:
            with self._lock:
                self._writing -= 1
                if self._waiting:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._lock:
            while self._exclusive:
                self._wait()
            self._exclusive = True
            while self._shared or self._writing:
                self._wait()
        try:
            yield
        finally:
            with self._lock:
                self._exclusive = False
                if self._waiting:
                    self._cond.notify_all()

    def _wait(self) -> None:
        """Wait for a change (the lock held, as ``Condition.wait`` requires)."""
        self._waiting += 1
        try:
            self._cond.wait()
        finally:
            self._waiting -= 1


class Reading:
    """The context of ``LmdbLedger._read``: hold the gate shared and begin a read txn; on the
    way out abort it, release the gate, and turn an LMDB error into a ledger error. A class,
    not a generator: every read passes here, and a generator context costs about a microsecond
    more per read."""

    __slots__ = ("_ledger", "_txn")

    def __init__(self, ledger: LmdbLedger) -> None:
        self._ledger = ledger

    def __enter__(self) -> Txn:
        ledger = self._ledger
        ledger._gate.enter_shared()
        try:
            if ledger._closed:
                raise LedgerClosed(f"ledger {ledger._path} is closed")
            self._txn = ledger._begin_read()
        except lmdb.Error as exc:
            ledger._gate.leave_shared()
            raise translate_lmdb_error(exc) from exc
        except BaseException:
            ledger._gate.leave_shared()
            raise
        return self._txn

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            self._txn.abort()
        except lmdb.Error as abort_error:
            raise translate_lmdb_error(abort_error) from abort_error
        finally:
            self._ledger._gate.leave_shared()
        if isinstance(exc, lmdb.Error):
            raise translate_lmdb_error(exc) from exc
