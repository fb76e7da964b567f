"""Introduction: the private store — the values a member node holds, sealed, purgeable.

One SQLite database, ``<dir>/store.sqlite`` (decision 0080), beside the node's data key
``<dir>/data.key`` (made on first open, mode 0600). Tables:

- ``items``: one row per version the node keeps — ``pending`` (pushed or submitted, its write
  not yet committed; dropped after ``expires``) or ``held`` (committed; purged at
  ``purge_at``) — with the value sealed by the suite's AEAD (AES-256-GCM / SM4-GCM), the
  digest and collection as associated data.
- ``missing``: committed versions of collections the node is a member of that it does not
  hold yet (the reconciliation task pulls them).
- ``purged``: digests purged here, so no push or pull brings one back.
- ``meta``: the last height whose private-data log the node applied.

``PRAGMA secure_delete = ON`` overwrites deleted rows with zeros and the rollback journal is
deleted after each commit, so a purged value leaves no bytes in the directory. Every change
is one SQLite transaction (``with store.batch():`` groups several). The plaintext is in
memory only while sealed or opened; it is never logged.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from yulian.crypto.aead import Aead, DecryptionError, suite_aead
from yulian.types.encoding import DecodeError, Limits, decode, encode

STORE_FILE = "store.sqlite"
KEY_FILE = "data.key"
PENDING = "pending"
HELD = "held"
MAX_PENDING_ITEMS = 10_000
MAX_PENDING_BYTES = 256 * 1024 * 1024
ITEM_LIMITS = Limits(max_bytes=(1 << 20) + 4096, max_depth=1, max_items=4, max_bin=(1 << 20) + 64)


class PrivateStoreError(RuntimeError):
    """The private store cannot be opened or used (its key, its file); names the path."""


@dataclass(frozen=True)
class PrivateItem:
    """One version of a private value: what travels between member nodes."""

    collection: str
    key: str
    salt: bytes
    value: bytes

    def encode(self) -> bytes:
        return encode((self.collection, self.key, self.salt, self.value))

    @classmethod
    def decode(cls, data: bytes) -> PrivateItem:
        value = decode(data, ITEM_LIMITS)
        if not (
            isinstance(value, tuple)
            and len(value) == 4
            and isinstance(value[0], str)
            and isinstance(value[1], str)
            and isinstance(value[2], bytes)
            and isinstance(value[3], bytes)
        ):
            raise DecodeError("private item: expected [collection, key, salt, value]")
        return cls(*value)


@dataclass(frozen=True)
class Missing:
    """A committed version the node should hold and does not (yet)."""

    digest: bytes
    collection: str
    key: str
    version: int
    height: int
    purge_at: int
    attempts: int


_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    digest BLOB PRIMARY KEY,
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    height INTEGER NOT NULL,
    purge_at INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    size INTEGER NOT NULL,
    sealed BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS items_by_key ON items (collection, key);
CREATE TABLE IF NOT EXISTS missing (
    digest BLOB PRIMARY KEY,
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    height INTEGER NOT NULL,
    purge_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS purged (digest BLOB PRIMARY KEY);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class PrivateStore:
    """The private store of one node (see the module docstring)."""

    def __init__(self, directory: Path, suite_name: str) -> None:
        self.directory = Path(directory)
        self.aead: Aead = suite_aead(suite_name)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)
            self._key = self._load_key()
            self._db = sqlite3.connect(
                self.directory / STORE_FILE, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA secure_delete = ON")
            self._db.execute("PRAGMA journal_mode = DELETE")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise PrivateStoreError(f"private store {self.directory}: {e}") from None
        self._depth = 0

    def _load_key(self) -> bytes:
        path = self.directory / KEY_FILE
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            key = self.aead.generate_key()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
                f.flush()
                os.fsync(f.fileno())
        if len(key) != self.aead.key_size:
            raise PrivateStoreError(f"{path}: not a {self.aead.name} key")
        return key

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Everything inside is one transaction (nested batches join the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    # --- sealing ------------------------------------------------------------------------------
    def _seal(self, digest: bytes, item: PrivateItem) -> bytes:
        return self.aead.encrypt(self._key, item.encode(), _aad(digest, item.collection))

    def _open(self, digest: bytes, collection: str, sealed: bytes) -> PrivateItem:
        try:
            item = PrivateItem.decode(
                self.aead.decrypt(self._key, sealed, _aad(digest, collection))
            )
        except (DecryptionError, DecodeError) as e:
            raise PrivateStoreError(f"a sealed item does not open: {e}") from None
        return item

    # --- items --------------------------------------------------------------------------------
    def add_pending(self, digest: bytes, item: PrivateItem, *, expires: int) -> bool:
        """Keep ``item`` until its write commits or height ``expires``; False if it is known,
        purged, or the pending limits are reached."""
        if self.knows(digest) or self.is_purged(digest):
            return False
        count, size = self._db.execute(
            "SELECT count(*), coalesce(sum(size), 0) FROM items WHERE state = ?", (PENDING,)
        ).fetchone()
        if count >= MAX_PENDING_ITEMS or size + len(item.value) > MAX_PENDING_BYTES:
            return False
        with self.batch():
            self._db.execute(
                "INSERT INTO items VALUES (?, ?, ?, 0, ?, 0, 0, ?, ?, ?)",
                (
                    digest,
                    item.collection,
                    item.key,
                    PENDING,
                    expires,
                    len(item.value),
                    self._seal(digest, item),
                ),
            )
        return True

    def hold(self, digest: bytes, version: int, height: int, purge_at: int) -> bool:
        """A pending version's write committed: keep it (``held``); False if not pending."""
        with self.batch():
            changed = self._db.execute(
                "UPDATE items SET state = ?, version = ?, height = ?, purge_at = ?, expires = 0 "
                "WHERE digest = ? AND state = ?",
                (HELD, version, height, purge_at, digest, PENDING),
            ).rowcount
            if changed:
                self._db.execute("DELETE FROM missing WHERE digest = ?", (digest,))
        return bool(changed)

    def add_held(self, digest: bytes, item: PrivateItem, missing: Missing) -> bool:
        """A missing version arrived (checked against its digest by the caller)."""
        if self.is_purged(digest):
            return False
        with self.batch():
            self._db.execute("DELETE FROM items WHERE digest = ?", (digest,))
            self._db.execute(
                "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    digest,
                    item.collection,
                    item.key,
                    missing.version,
                    HELD,
                    missing.height,
                    missing.purge_at,
                    len(item.value),
                    self._seal(digest, item),
                ),
            )
            self._db.execute("DELETE FROM missing WHERE digest = ?", (digest,))
        return True

    def discard_pending(self, digest: bytes) -> None:
        """Forget a pending version (its tx was refused)."""
        with self.batch():
            self._db.execute("DELETE FROM items WHERE digest = ? AND state = ?", (digest, PENDING))

    def item(self, digest: bytes) -> PrivateItem | None:
        """The value of a held (or pending) version, or None."""
        row = self._db.execute(
            "SELECT collection, sealed FROM items WHERE digest = ?", (digest,)
        ).fetchone()
        return self._open(digest, row[0], row[1]) if row is not None else None

    def state_of(self, digest: bytes) -> str | None:
        row = self._db.execute("SELECT state FROM items WHERE digest = ?", (digest,)).fetchone()
        return str(row[0]) if row is not None else None

    def knows(self, digest: bytes) -> bool:
        return self.state_of(digest) is not None

    def held(self, collection: str | None = None) -> list[tuple[bytes, str, str, int]]:
        """``(digest, collection, key, version)`` of every held version (of ``collection``)."""
        sql = "SELECT digest, collection, key, version FROM items WHERE state = ?"
        args: tuple[object, ...] = (HELD,)
        if collection is not None:
            sql, args = sql + " AND collection = ?", (HELD, collection)
        return [
            (bytes(d), c, k, v) for d, c, k, v in self._db.execute(sql + " ORDER BY digest", args)
        ]

    def pending_count(self) -> int:
        return int(
            self._db.execute("SELECT count(*) FROM items WHERE state = ?", (PENDING,)).fetchone()[0]
        )

    def drop_key(self, collection: str, key: str, *, keep: bytes = b"", purge: bool = False) -> int:
        """Delete every version of ``collection/key`` but ``keep``; remember them as purged
        when ``purge``. Returns how many rows went."""
        with self.batch():
            rows = self._db.execute(
                "SELECT digest FROM items WHERE collection = ? AND key = ? AND digest != ?",
                (collection, key, keep),
            ).fetchall()
            gone = [bytes(r[0]) for r in rows]
            missing = self._db.execute(
                "SELECT digest FROM missing WHERE collection = ? AND key = ? AND digest != ?",
                (collection, key, keep),
            ).fetchall()
            self._delete(gone, purge)
            self._db.executemany("DELETE FROM missing WHERE digest = ?", missing)
            if purge:
                self._remember_purged([bytes(r[0]) for r in missing])
        return len(gone)

    def drop_collection(self, collection: str) -> int:
        """Delete everything of ``collection`` (the node's organisation left it)."""
        with self.batch():
            rows = self._db.execute(
                "SELECT digest FROM items WHERE collection = ?", (collection,)
            ).fetchall()
            self._delete([bytes(r[0]) for r in rows], purge=False)
            self._db.execute("DELETE FROM missing WHERE collection = ?", (collection,))
        return len(rows)

    def purge_due(self, height: int) -> list[bytes]:
        """Delete held versions whose ``purge_at`` is reached; their digests."""
        with self.batch():
            rows = self._db.execute(
                "SELECT digest FROM items WHERE state = ? AND purge_at > 0 AND purge_at <= ?",
                (HELD, height),
            ).fetchall()
            gone = [bytes(r[0]) for r in rows]
            self._delete(gone, purge=True)
            missing = self._db.execute(
                "SELECT digest FROM missing WHERE purge_at > 0 AND purge_at <= ?", (height,)
            ).fetchall()
            self._db.executemany("DELETE FROM missing WHERE digest = ?", missing)
            self._remember_purged([bytes(r[0]) for r in missing])
            self._db.execute("DELETE FROM items WHERE state = ? AND expires < ?", (PENDING, height))
        return gone

    def _delete(self, digests: list[bytes], purge: bool) -> None:
        self._db.executemany("DELETE FROM items WHERE digest = ?", [(d,) for d in digests])
        if purge:
            self._remember_purged(digests)

    def _remember_purged(self, digests: list[bytes]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO purged VALUES (?)", [(d,) for d in digests])

    def is_purged(self, digest: bytes) -> bool:
        return (
            self._db.execute("SELECT 1 FROM purged WHERE digest = ?", (digest,)).fetchone()
            is not None
        )

    # --- missing ------------------------------------------------------------------------------
    def add_missing(self, missing: Missing) -> bool:
        if self.is_purged(missing.digest) or self.state_of(missing.digest) == HELD:
            return False
        with self.batch():
            self._db.execute(
                "INSERT OR IGNORE INTO missing VALUES (?, ?, ?, ?, ?, ?, 0)",
                (
                    missing.digest,
                    missing.collection,
                    missing.key,
                    missing.version,
                    missing.height,
                    missing.purge_at,
                ),
            )
        return True

    def missing(self, limit: int = 1000) -> list[Missing]:
        rows = self._db.execute(
            "SELECT digest, collection, key, version, height, purge_at, attempts FROM missing "
            "ORDER BY attempts, height LIMIT ?",
            (limit,),
        ).fetchall()
        return [Missing(bytes(r[0]), *r[1:]) for r in rows]

    def missing_one(self, digest: bytes) -> Missing | None:
        row = self._db.execute(
            "SELECT digest, collection, key, version, height, purge_at, attempts FROM missing "
            "WHERE digest = ?",
            (digest,),
        ).fetchone()
        return Missing(bytes(row[0]), *row[1:]) if row is not None else None

    def note_attempt(self, digests: list[bytes]) -> None:
        with self.batch():
            self._db.executemany(
                "UPDATE missing SET attempts = attempts + 1 WHERE digest = ?",
                [(d,) for d in digests],
            )

    def missing_count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM missing").fetchone()[0])

    # --- progress -----------------------------------------------------------------------------
    def applied_height(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'applied'").fetchone()
        return int(row[0]) if row is not None else 0

    def set_applied_height(self, height: int) -> None:
        with self.batch():
            self._db.execute(
                "INSERT INTO meta VALUES ('applied', ?) ON CONFLICT(name) DO UPDATE SET value = ?",
                (height, height),
            )

    def member_of(self) -> set[str]:
        """The collections whose data this node last knew itself entitled to."""
        rows = self._db.execute("SELECT name FROM meta WHERE name LIKE 'member:%'").fetchall()
        return {str(r[0]).removeprefix("member:") for r in rows}

    def set_member(self, collection: str, member: bool) -> None:
        with self.batch():
            if member:
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES (?, 1)", (f"member:{collection}",)
                )
            else:
                self._db.execute("DELETE FROM meta WHERE name = ?", (f"member:{collection}",))


def _aad(digest: bytes, collection: str) -> bytes:
    return encode(("yulian/private-store/v1", digest, collection))
