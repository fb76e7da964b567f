"""The private store: values sealed at rest under the node's key (AES-256-GCM / SM4-GCM), a
purge that leaves no byte of the sealed value in the directory, pending limits and expiry,
missing versions, and progress that survives a reopen. The private-message codec refuses
every malformed shape."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from yulian.privacy.store import (
    KEY_FILE,
    MAX_PENDING_ITEMS,
    Missing,
    PrivateItem,
    PrivateStore,
    PrivateStoreError,
)
from yulian.privacy.wire import PrivateMessage, Wanted, decode_private, split_items
from yulian.types.encoding import DecodeError, encode


def item(value: bytes, key: str = "k") -> PrivateItem:
    return PrivateItem("c", key, secrets.token_bytes(32), value)


def raw_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


@pytest.mark.parametrize("suite", ["standard", "gm"])
def test_values_are_sealed_and_a_purge_leaves_no_bytes(tmp_path: Path, suite: str) -> None:
    store = PrivateStore(tmp_path / "private", suite)
    secret = b"patient P-001: HIV positive " + secrets.token_bytes(16)
    digest = secrets.token_bytes(32)
    assert store.add_pending(digest, item(secret), expires=100)
    assert store.hold(digest, version=1, height=5, purge_at=10)
    assert store.item(digest) is not None and store.item(digest).value == secret  # type: ignore[union-attr]
    sealed = store._db.execute("SELECT sealed FROM items").fetchone()[0]
    on_disk = raw_bytes(tmp_path)
    assert secret not in on_disk and sealed in on_disk  # encrypted at rest, and really there
    key_size = 32 if suite == "standard" else 16
    assert len((tmp_path / "private" / KEY_FILE).read_bytes()) == key_size
    assert (tmp_path / "private" / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert store.purge_due(9) == []
    assert store.purge_due(10) == [digest]
    assert store.item(digest) is None and store.is_purged(digest)
    assert sealed not in raw_bytes(tmp_path)  # secure_delete: the bytes are gone
    # a purged version never comes back
    assert not store.add_pending(digest, item(secret), expires=100)
    assert not store.add_missing(Missing(digest, "c", "k", 1, 5, 10, 0))
    store.close()


def test_a_store_opens_only_with_its_key_and_keeps_its_progress(tmp_path: Path) -> None:
    store = PrivateStore(tmp_path, "standard")
    digest = secrets.token_bytes(32)
    store.add_pending(digest, item(b"v"), expires=10)
    store.set_applied_height(42)
    store.set_member("c", True)
    store.close()
    again = PrivateStore(tmp_path, "standard")
    assert again.applied_height() == 42 and again.member_of() == {"c"}
    assert again.item(digest) == PrivateItem("c", "k", again.item(digest).salt, b"v")  # type: ignore[union-attr]
    again.close()
    (tmp_path / KEY_FILE).write_bytes(secrets.token_bytes(32))
    other = PrivateStore(tmp_path, "standard")
    with pytest.raises(PrivateStoreError, match="does not open"):
        other.item(digest)
    other.close()
    (tmp_path / KEY_FILE).write_bytes(b"short")
    with pytest.raises(PrivateStoreError, match="not a aes-256-gcm key"):
        PrivateStore(tmp_path, "standard")


def test_pending_versions_are_bounded_expire_and_make_way_for_the_committed_one(
    tmp_path: Path,
) -> None:
    store = PrivateStore(tmp_path, "standard")
    digests = [secrets.token_bytes(32) for _ in range(3)]
    for d in digests:
        assert store.add_pending(d, item(b"v", key=d.hex()[:8]), expires=5)
    assert not store.add_pending(digests[0], item(b"v"), expires=5)  # known already
    store.purge_due(6)  # expired: gone
    assert store.pending_count() == 0
    with store.batch():  # fill the pending table to its limit at once
        store._db.executemany(
            "INSERT INTO items VALUES (?, 'c', 'k', 0, 'pending', 0, 0, 99, 1, x'00')",
            [(secrets.token_bytes(32),) for _ in range(MAX_PENDING_ITEMS)],
        )
    assert not store.add_pending(secrets.token_bytes(32), item(b"v"), expires=99)
    store.close()


def test_missing_versions_and_dropping_a_key(tmp_path: Path) -> None:
    store = PrivateStore(tmp_path, "standard")
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    store.add_pending(old, item(b"old"), expires=50)
    store.hold(old, 1, 3, 0)
    miss = Missing(new, "c", "k", 2, 4, 0, 0)
    assert store.add_missing(miss) and store.missing() == [miss]
    store.note_attempt([new])
    assert store.missing_one(new).attempts == 1  # type: ignore[union-attr]
    assert store.add_held(new, item(b"new"), miss)
    assert store.missing_count() == 0
    assert store.drop_key("c", "k", keep=new) == 1  # the older version goes
    assert [d for d, *_ in store.held()] == [new]
    assert store.drop_key("c", "k", purge=True) == 1 and store.is_purged(new)
    store.close()


def test_the_private_message_codec() -> None:
    items = [item(b"x" * 10, key=f"k{i}") for i in range(300)]
    messages = split_items("push", items)
    assert [len(m.items) for m in messages] == [256, 44]
    for m in messages:
        assert decode_private(m.encode()) == m
    pull = PrivateMessage("pull", wanted=(Wanted("c", "k", b"d" * 32),))
    assert decode_private(pull.encode()) == pull
    for bad in (
        encode(("push",)),
        encode(("fetch", (("c", "k", b"s" * 32, b"v"),))),
        encode(("push", ())),
        encode(("push", (("c", "k", b"short", b"v"),))),
        encode(("push", (("", "k", b"s" * 32, b"v"),))),
        encode(("pull", (("c", "k", b"d" * 31),))),
        encode(("items", (("c", "k", b"s" * 32, "text"),))),
        b"\xc1",
    ):
        with pytest.raises(DecodeError):
            decode_private(bad)
