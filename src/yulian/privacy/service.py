"""Introduction: dissemination and reconciliation of private values (decision 0081).

``PrivateDataService`` runs inside a member node. It never decides who may read — the
``access`` contract does — only which node keeps which value:

- **Submission** (``submit``): a client's signed tx plus the values it commits to. The node
  refuses values of collections its organisation is not a member of, values whose salted
  digest the tx does not carry, values over the collection's limit; keeps the rest pending,
  admits the tx, and pushes the values to the connected nodes of member organisations.
- **After each committed block** (``on_commit``): the block's private-data log (state
  ``collections/log/<height>``, written only by the host API and the ``collections`` contract)
  says which versions were written, purged, or which definitions changed. A written version
  is held if it was pending, else *missing*; older versions of the key are dropped; a purge
  deletes every version; leaving a collection deletes its values, joining it makes its
  current versions missing. Versions past ``purge_at`` are deleted.
- **Reconciliation** (``reconcile``, every ``RECONCILE_INTERVAL_S``): missing versions are
  asked of connected member nodes; an answer is kept only if it hashes to the digest that
  the chain committed.

Who a peer is comes from the certificate of the live connection to it at the moment of
sending or receiving (``PeerLinks.certificate``), never from its name. Values are never
logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from yulian.crypto.suite import Suite
from yulian.crypto.x509 import CertificateError, parse_certificate
from yulian.execution.overlay import StateView
from yulian.execution.system.private_records import (
    LOG_DEFINE,
    LOG_PURGE,
    LOG_PUT,
    PrivateWriteRefused,
    check_private_key,
    decode_log_entry,
    key_at,
    key_count,
    read_definition,
    read_log,
    read_record,
)
from yulian.net.messages import Message
from yulian.privacy.store import HELD, Missing, PrivateItem, PrivateStore
from yulian.privacy.wire import (
    ITEMS,
    MAX_ENTRIES,
    PULL,
    PUSH,
    PrivateMessage,
    Wanted,
    decode_private,
    split_items,
)
from yulian.types.encoding import DecodeError
from yulian.types.privacy import SALT_BYTES, CollectionDef, private_digest
from yulian.types.tx import SignedTx

log = logging.getLogger("yulian.privacy")

PENDING_TTL_BLOCKS = 1000  # a private write's tx must expire within this many blocks
RECONCILE_INTERVAL_S = 2.0
MAX_MISSING_PER_ROUND = 1024
BACKOFF_ATTEMPTS = 10  # after this many rounds a version is asked for every 10th round only
MAX_ITEMS_PER_WRITE = 64


class PrivateDataRefused(Exception):
    """A private write or read the node refuses: ``code`` (stable) and HTTP ``status``."""

    def __init__(self, code: str, status: int, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.status = status
        self.detail = detail


class PeerLinks(Protocol):
    """The node's peer connections, as much as this service needs of them."""

    def connected(self) -> list[str]: ...

    def send(self, peer: str, msg: Message) -> bool: ...

    def certificate(self, peer: str) -> bytes | None: ...


class CommittedState(StateView, Protocol):
    def height(self) -> int: ...


@dataclass(frozen=True)
class Holding:
    """What this node has of one version: ``held``, ``pending``, ``missing``, ``purged`` or
    ``none`` (and whether its organisation may hold it at all)."""

    state: str
    member: bool


class PrivateDataService:
    def __init__(
        self,
        store: PrivateStore,
        *,
        ledger: CommittedState,
        suite: Suite,
        chain_id: str,
        org: str,
        submit: Callable[[bytes], Awaitable[bytes]],
        peers: Callable[[], PeerLinks | None],
    ) -> None:
        self.store = store
        self.org = org
        self._ledger = ledger
        self._suite = suite
        self._chain_id = chain_id
        self._submit = submit
        self._peers = peers
        self._orgs: dict[bytes, str] = {}  # certificate -> organisation
        self._round = 0

    def digest(self, item: PrivateItem) -> bytes:
        return private_digest(
            self._suite.hash, self._chain_id, item.collection, item.key, item.salt, item.value
        )

    def definition(self, collection: str) -> CollectionDef | None:
        return read_definition(self._ledger, collection)

    # --- submission ---------------------------------------------------------------------------
    async def submit(self, envelope: bytes, items: Sequence[PrivateItem]) -> bytes:
        """Admit a private write: keep ``items`` pending, admit the tx, push to members; the
        tx id. Raises ``PrivateDataRefused`` (or the admission's error)."""
        try:
            tx = SignedTx.decode(envelope).tx
        except DecodeError as e:
            raise PrivateDataRefused(
                "malformed_tx", 400, f"the envelope does not decode: {e}"
            ) from None
        if not 1 <= len(items) <= MAX_ITEMS_PER_WRITE:
            raise PrivateDataRefused(
                "malformed_request", 400, f"a private write carries 1..{MAX_ITEMS_PER_WRITE} values"
            )
        head = self._ledger.height()
        if tx.expires_at > head + PENDING_TTL_BLOCKS:
            raise PrivateDataRefused(
                "private_ttl_too_long",
                400,
                f"a private write's tx expires within {PENDING_TTL_BLOCKS} blocks "
                f"(at most height {head + PENDING_TTL_BLOCKS}, asked {tx.expires_at})",
            )
        referenced = set(_bytes_in(tx.args))
        digests = [self._check_item(item, referenced) for item in items]
        added = []
        try:
            for digest, item in zip(digests, items, strict=True):
                if self.store.add_pending(digest, item, expires=tx.expires_at):
                    added.append(digest)
                elif not self.store.knows(digest):
                    raise PrivateDataRefused(
                        "private_store_full", 503, "this node holds too many pending values"
                    )
            tx_id = await self._submit(envelope)
        except BaseException:
            for digest in added:
                self.store.discard_pending(digest)
            raise
        self._push(list(items))
        return tx_id

    def _check_item(self, item: PrivateItem, referenced: set[bytes]) -> bytes:
        definition = self.definition(item.collection)
        if definition is None:
            raise PrivateDataRefused(
                "unknown_collection", 404, f"no collection named {item.collection!r}"
            )
        if self.org not in definition.members:
            raise PrivateDataRefused(
                "not_a_member",
                403,
                f"this node's organisation {self.org!r} is not a member of collection "
                f"{item.collection!r}; send its values to a member's node",
            )
        try:
            check_private_key(item.key)
        except PrivateWriteRefused as e:
            raise PrivateDataRefused("malformed_request", 400, str(e)) from None
        if len(item.salt) != SALT_BYTES:
            raise PrivateDataRefused("malformed_request", 400, f"a salt is {SALT_BYTES} bytes")
        if len(item.value) > definition.max_value_bytes:
            raise PrivateDataRefused(
                "value_too_large",
                413,
                f"{len(item.value)} bytes exceed the {definition.max_value_bytes} a value of "
                f"{item.collection!r} may have",
            )
        digest = self.digest(item)
        if digest not in referenced:
            raise PrivateDataRefused(
                "digest_not_in_tx",
                400,
                f"the tx does not carry the digest of {item.collection}/{item.key} "
                f"({digest.hex()})",
            )
        return digest

    def _push(self, items: list[PrivateItem]) -> None:
        links = self._peers()
        if links is None:
            return
        for peer in links.connected():
            org = self._peer_org(links, peer)
            mine = [i for i in items if org is not None and self._both_members(i.collection, org)]
            for msg in split_items(PUSH, mine):
                links.send(peer, Message("private", msg.encode()))

    # --- the chain ------------------------------------------------------------------------------
    def on_commit(self, height: int) -> None:
        """Apply the private-data logs of every block up to ``height`` not yet applied."""
        for h in range(self.store.applied_height() + 1, height + 1):
            with self.store.batch():
                for entry in read_log(self._ledger, h):
                    self._apply(h, entry)
                purged = self.store.purge_due(h)
                self.store.set_applied_height(h)
            if purged:
                log.info("purged %d private values at height %d", len(purged), h)

    def _apply(self, height: int, entry: tuple[Any, ...]) -> None:
        try:
            kind, collection, key, version, digest = decode_log_entry(entry)
        except DecodeError as e:
            log.error("skipping a private-data log entry at height %d: %s", height, e)
            return
        definition = self.definition(collection)
        member = definition is not None and self.org in definition.members
        if kind == LOG_DEFINE:
            self._membership(collection, definition)
        elif kind == LOG_PURGE:
            self.store.drop_key(collection, key, purge=True)
        elif kind == LOG_PUT:
            if not member:
                self.store.drop_key(collection, key)
                return
            self._expect(collection, key, version, digest, height)

    def _expect(self, collection: str, key: str, version: int, digest: bytes, height: int) -> None:
        """Version ``version`` of ``collection/key`` was written at ``height``: hold it."""
        record = read_record(self._ledger, collection, key)
        head = self._ledger.height()
        if record is None or record.version != version or record.purged(head):
            return  # a later version (or a purge) is in a later block's log
        held = self.store.hold(digest, version, height, record.purge_at)
        if not held and self.store.state_of(digest) != HELD:
            self.store.add_missing(
                Missing(digest, collection, key, version, height, record.purge_at, 0)
            )
        self.store.drop_key(collection, key, keep=digest)

    def _membership(self, collection: str, definition: CollectionDef | None) -> None:
        was = collection in self.store.member_of()
        now = definition is not None and self.org in definition.members
        if was and not now:
            dropped = self.store.drop_collection(collection)
            self.store.set_member(collection, False)
            log.info("left collection %s: dropped %d values", collection, dropped)
        elif now and not was:
            self.store.set_member(collection, True)
            for n in range(key_count(self._ledger, collection)):
                key = key_at(self._ledger, collection, n)
                record = read_record(self._ledger, collection, key) if key else None
                if record is not None and not record.purged(self._ledger.height()):
                    self._expect(
                        collection, record.key, record.version, record.digest, record.height
                    )

    def catch_up(self) -> None:
        """At start: apply what was committed while the service was not running."""
        self.on_commit(self._ledger.height())

    # --- peers ------------------------------------------------------------------------------------
    def on_message(self, peer: str, payload: bytes) -> None:
        links = self._peers()
        org = self._peer_org(links, peer) if links is not None else None
        if links is None or org is None:
            return
        try:
            msg = decode_private(payload)
        except DecodeError as e:
            log.warning("dropping a private message from %s: %s", peer, e)
            return
        if msg.kind == PULL:
            self._serve(links, peer, org, msg.wanted)
            return
        accepted = 0
        with self.store.batch():
            for item in msg.items:
                accepted += self._accept(org, item, pushed=msg.kind == PUSH)
        if accepted:
            log.info("kept %d private values from %s (%s)", accepted, peer, msg.kind)

    def _accept(self, org: str, item: PrivateItem, *, pushed: bool) -> int:
        if not self._both_members(item.collection, org):
            return 0
        definition = self.definition(item.collection)
        if definition is None or len(item.value) > definition.max_value_bytes:
            return 0
        digest = self.digest(item)
        if self.store.is_purged(digest) or self.store.state_of(digest) == HELD:
            return 0
        missing = self.store.missing_one(digest)
        if (
            missing is not None
            and missing.collection == item.collection
            and missing.key == item.key
        ):
            return int(self.store.add_held(digest, item, missing))
        if pushed and not self.store.knows(digest):
            expires = self._ledger.height() + PENDING_TTL_BLOCKS
            return int(self.store.add_pending(digest, item, expires=expires))
        return 0

    def _serve(self, links: PeerLinks, peer: str, org: str, wanted: Sequence[Wanted]) -> None:
        head = self._ledger.height()
        found: list[PrivateItem] = []
        for w in wanted:
            if not self._both_members(w.collection, org):
                continue
            record = read_record(self._ledger, w.collection, w.key)
            if record is None or record.digest != w.digest or record.purged(head):
                continue
            if self.store.state_of(w.digest) != HELD:
                continue
            item = self.store.item(w.digest)
            if item is not None and (item.collection, item.key) == (w.collection, w.key):
                found.append(item)
        for msg in split_items(ITEMS, found):
            links.send(peer, Message("private", msg.encode()))

    def _both_members(self, collection: str, org: str) -> bool:
        definition = self.definition(collection)
        return definition is not None and {self.org, org} <= set(definition.members)

    def _peer_org(self, links: PeerLinks, peer: str) -> str | None:
        cert = links.certificate(peer)
        if cert is None:
            return None
        org = self._orgs.get(cert)
        if org is None:
            try:
                org = parse_certificate(cert).org
            except CertificateError:
                return None
            if len(self._orgs) > 1024:
                self._orgs.clear()
            self._orgs[cert] = org
        return org

    # --- reconciliation ------------------------------------------------------------------------
    def reconcile(self) -> int:
        """Ask connected member nodes for missing versions; how many were asked for."""
        links = self._peers()
        if links is None:
            return 0
        self._round += 1
        wanted = [
            m
            for m in self.store.missing(MAX_MISSING_PER_ROUND)
            if m.attempts < BACKOFF_ATTEMPTS or self._round % BACKOFF_ATTEMPTS == 0
        ]
        if not wanted:
            return 0
        asked: set[bytes] = set()
        for peer in links.connected():
            org = self._peer_org(links, peer)
            if org is None:
                continue
            mine = [m for m in wanted if self._both_members(m.collection, org)]
            for chunk in _chunks(mine, MAX_ENTRIES):
                msg = PrivateMessage(
                    PULL, wanted=tuple(Wanted(m.collection, m.key, m.digest) for m in chunk)
                )
                if links.send(peer, Message("private", msg.encode())):
                    asked.update(m.digest for m in chunk)
        self.store.note_attempt(sorted(asked))
        return len(asked)

    async def run(self) -> None:
        """Reconcile every ``RECONCILE_INTERVAL_S`` until cancelled."""
        while True:
            await asyncio.sleep(RECONCILE_INTERVAL_S)
            try:
                self.reconcile()
            except Exception:
                log.exception("private data reconciliation failed; retrying")

    # --- what the API asks ---------------------------------------------------------------------
    def holding(self, collection: str, digest: bytes) -> Holding:
        definition = self.definition(collection)
        member = definition is not None and self.org in definition.members
        if self.store.is_purged(digest):
            return Holding("purged", member)
        state = self.store.state_of(digest)
        if state is not None:
            return Holding(state, member)
        if self.store.missing_one(digest) is not None:
            return Holding("missing", member)
        return Holding("none", member)

    def value(self, collection: str, key: str, digest: bytes) -> PrivateItem | None:
        """The held value of that version, or None."""
        if self.store.state_of(digest) != HELD:
            return None
        item = self.store.item(digest)
        if item is None or (item.collection, item.key) != (collection, key):
            return None
        return item

    def status(self) -> dict[str, Any]:
        held: dict[str, int] = {}
        for _, collection, _, _ in self.store.held():
            held[collection] = held.get(collection, 0) + 1
        return {
            "org": self.org,
            "applied_height": self.store.applied_height(),
            "held": held,
            "pending": self.store.pending_count(),
            "missing": self.store.missing_count(),
        }


def _bytes_in(value: Any) -> Iterator[bytes]:
    """Every bytes value inside a tx's args (nested lists and maps)."""
    if isinstance(value, bytes):
        yield value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _bytes_in(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _bytes_in(v)


def _chunks(items: list[Missing], size: int) -> Iterator[list[Missing]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
