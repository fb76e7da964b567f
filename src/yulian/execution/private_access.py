"""Introduction: the execution side of ``ctx.private`` — one ``PrivateAccess`` per invocation.

It gives a user contract's invocation the ``PrivateData`` of ``contracts/private.py`` over the
block's overlay: ``put`` runs ``private_records.write_version`` (the rules ``collections.put``
obeys too) on a buffer of the ``collections`` namespace, which the invocation reads through
(a second put of a key in the same call sees the first), and ``flush`` — called by the host
only when the invocation ends ``ok`` — moves the buffer into the overlay's open tx. The
record names the calling contract (``via``) and the tx's signer as its writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from yulian.contracts import Sender
from yulian.contracts.private import PrivateRefusal
from yulian.contracts.ranges import Entry, merge_entries
from yulian.execution.overlay import ContractStateAdapter, Overlay, StateView, state_key
from yulian.execution.system.private_records import (
    COLLECTIONS_CONTRACT,
    PrivateWriteRefused,
    Write,
    read_grant,
    read_record,
    write_version,
)


class _Buffered:
    """The overlay with this invocation's private writes on top (bytes keys), and the
    ``collections`` namespace of it as a ``ContractState`` (str keys)."""

    def __init__(self, overlay: Overlay) -> None:
        self.overlay = overlay
        self.writes: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            return self.writes[key]
        return self.overlay.get(key)

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        return self.overlay.history(key, limit)

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        def wanted(key: bytes) -> bool:
            return key.startswith(prefix) and (start_after is None or key > start_after)

        mine = {k: v for k, v in self.writes.items() if wanted(k)}
        # each buffered key hides at most one of the overlay's: ask for that many more
        merged: dict[bytes, bytes | None] = dict(
            self.overlay.scan_prefix(prefix, limit + len(mine), start_after)
        )
        merged.update(mine)
        live = sorted((k, v) for k, v in merged.items() if v is not None)
        return live[:limit]


class _CollectionsState:
    __slots__ = ("_buffer",)

    def __init__(self, buffer: _Buffered) -> None:
        self._buffer = buffer

    def get(self, key: str) -> bytes | None:
        return self._buffer.get(state_key(COLLECTIONS_CONTRACT, key))

    def put(self, key: str, value: bytes) -> None:
        self._buffer.writes[state_key(COLLECTIONS_CONTRACT, key)] = value

    def delete(self, key: str) -> None:
        self._buffer.writes[state_key(COLLECTIONS_CONTRACT, key)] = None

    def history(self, key: str, limit: int) -> list[tuple[int, bytes | None]]:
        return self._buffer.history(state_key(COLLECTIONS_CONTRACT, key), limit)

    def scan(
        self, start: str, end: str | None, after: str | None, chunk: int
    ) -> Iterator[Entry[str]]:
        """The overlay's ``collections`` keys with this invocation's writes on top."""
        committed = ContractStateAdapter(self._buffer.overlay, COLLECTIONS_CONTRACT).scan(
            start, end, after, chunk
        )
        low, inclusive = (start, True) if after is None or after < start else (after, False)
        namespace = state_key(COLLECTIONS_CONTRACT, "")
        mine = sorted(
            (key[len(namespace) :].decode("utf-8"), value)
            for key, value in self._buffer.writes.items()
            if key.startswith(namespace)
        )
        written = (
            (key, value, 0 if value is None else len(value))
            for key, value in mine
            if (key >= low if inclusive else key > low) and (end is None or key < end)
        )
        return merge_entries(written, committed)


class PrivateAccess:
    """``PrivateData`` for one invocation of ``contract`` in a tx (or a read-only call)."""

    def __init__(
        self,
        overlay: Overlay,
        contract: str,
        sender: Sender,
        *,
        height: int,
        time_ms: int,
        tx_id: bytes,
    ) -> None:
        self._overlay = overlay
        self._contract = contract
        self._sender = sender
        self._height = height
        self._time_ms = time_ms
        self._tx_id = tx_id
        self._buffer = _Buffered(overlay)

    @property
    def view(self) -> StateView:
        return self._buffer

    def put(self, collection: str, key: str, digest: bytes, size: int, subject: str) -> Any:
        try:
            record = write_version(
                _CollectionsState(self._buffer),
                self._buffer,
                Write(collection, key, digest, size, subject),
                self._sender,
                height=self._height,
                tx_id=self._tx_id,
                via=self._contract,
            )
        except PrivateWriteRefused as e:
            raise PrivateRefusal(str(e)) from None
        return record.view(self._height)

    def get(self, collection: str, key: str) -> Any:
        record = read_record(self._buffer, collection, key)
        return record.view(self._height) if record is not None else None

    def grant(self, grant_id: int) -> Any:
        grant = read_grant(self._buffer, grant_id) if grant_id > 0 else None
        return grant.view(self._time_ms) if grant is not None else None

    def flush(self) -> None:
        for key, value in self._buffer.writes.items():
            if value is None:
                self._overlay.delete(key)
            else:
                self._overlay.put(key, value)
        self._buffer.writes.clear()
