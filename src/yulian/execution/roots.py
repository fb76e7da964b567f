"""Introduction: the three roots a header commits to.

``tx_root`` and ``result_root`` are RFC 6962 Merkle roots over the encoded tx envelopes and
receipts, so a single tx or receipt is provable by an inclusion proof.

``state_root`` commits to **everything execution can read**: not only the current value of
every key but the versions a contract sees through ``ctx.state.history`` (the newest
``MAX_HISTORY`` of each key) and the consortium config's versions that ``config_in_force``
searches (``MAX_CONFIG_HISTORY``). That set — each key's newest ``history_window(key)``
versions, a delete being a version too — is the *state*; the current value of a key is its
newest version. The root is the hash of the state's LtHash (``crypto/lthash.py``), the
homomorphic sum over one element per version. A block moves the sum by its writes alone: each
write puts in its new version and, when the key's window was full, takes out the version
that falls out of it. So the per-block cost is proportional to the block's writes, and anyone
holding a height's versions can recompute that height's root from them alone — which is what
a snapshot is checked against (decision 0050). The root depends on the state only, not on
the way it was reached.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from yulian.contracts.host import MAX_HISTORY
from yulian.crypto.lthash import EMPTY_SUM, SUM_BYTES, lthash
from yulian.crypto.merkle import merkle_root
from yulian.crypto.suite import Suite
from yulian.execution.system.consortium import CONFIG_KEY, MAX_CONFIG_HISTORY
from yulian.types.encoding import encode

__all__ = [
    "EMPTY_STATE_SUM",
    "STATE_DOMAIN",
    "STATE_SUM_BYTES",
    "VersionView",
    "WindowView",
    "empty_state_root",
    "history_window",
    "result_root",
    "state_root",
    "state_sum_after",
    "state_sum_of",
    "tx_root",
    "version_entry",
]

STATE_DOMAIN = "yulian/state/v2"
STATE_SUM_BYTES = SUM_BYTES
#: The LtHash of the empty state: the state at genesis.
EMPTY_STATE_SUM = EMPTY_SUM
_VERSION_HEAD = struct.Struct(">H")
_HEIGHT = struct.Struct(">Q")
_DELETED = b"\x00"
_VALUE = b"\x01"


class VersionView(Protocol):
    """The committed state as ``state_sum_after`` reads it: a key's versions, newest first."""

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]: ...


@runtime_checkable
class WindowView(Protocol):
    """A ``VersionView`` that answers a whole block's question in one read (the ledgers: one
    LMDB read transaction, one SQL query), where ``history`` would cost one read per write."""

    def oldest_in_window(
        self, windows: Sequence[tuple[bytes, int]]
    ) -> list[tuple[int, bytes | None] | None]:
        """For each ``(key, window)``: ``history(key, window)[window - 1]`` when the key has
        ``window`` versions or more (its window is full), else None."""
        ...


def tx_root(suite: Suite, envelopes: Sequence[bytes]) -> bytes:
    return merkle_root(envelopes, suite.hash)


def result_root(suite: Suite, receipts: Sequence[bytes]) -> bytes:
    return merkle_root(receipts, suite.hash)


def history_window(key: bytes) -> int:
    """How many of ``key``'s newest versions execution can read, hence the state holds."""
    return MAX_CONFIG_HISTORY if key == CONFIG_KEY else MAX_HISTORY


def version_entry(key: bytes, height: int, value: bytes | None) -> bytes:
    """The element of one version: ``len(key) (u16 BE) || key || height (u64 BE) || 0x00``
    for a delete, ``... || 0x01 || value`` for a value (lengths and tags keep it unambiguous)."""
    tail = _DELETED if value is None else _VALUE + value
    return _VERSION_HEAD.pack(len(key)) + key + _HEIGHT.pack(height) + tail


def state_root(suite: Suite, state_sum: bytes) -> bytes:
    """``H(encode(("yulian/state/v2", state_sum)))``: the root of the state whose LtHash is
    ``state_sum``."""
    if len(state_sum) != STATE_SUM_BYTES:
        raise ValueError(f"a state sum is {STATE_SUM_BYTES} bytes, got {len(state_sum)}")
    return suite.hash(encode((STATE_DOMAIN, state_sum)))


def empty_state_root(suite: Suite) -> bytes:
    """The root of the empty state (height 0: a chain starts with no versions)."""
    return state_root(suite, EMPTY_STATE_SUM)


def state_sum_after(
    suite: Suite,
    state_sum: bytes,
    view: VersionView,
    height: int,
    writes: Sequence[tuple[bytes, bytes | None]],
) -> bytes:
    """The LtHash of the state after block ``height`` wrote ``writes`` on ``view`` (the state
    before it, whose LtHash is ``state_sum``)."""
    if not writes:
        return state_sum
    added = [version_entry(key, height, value) for key, value in writes]
    windows = [(key, history_window(key)) for key, _ in writes]
    leaving = [
        version_entry(key, *oldest)
        for (key, _), oldest in zip(windows, oldest_in_window(view, windows), strict=True)
        if oldest is not None  # the window is full: its oldest version falls out
    ]
    return lthash(suite, state_sum, added, leaving)


def oldest_in_window(
    view: VersionView, windows: Sequence[tuple[bytes, int]]
) -> list[tuple[int, bytes | None] | None]:
    """``WindowView.oldest_in_window`` of ``view``, or the same answer from ``history`` (one
    read per key) for a view that has no batched read."""
    if isinstance(view, WindowView):
        return view.oldest_in_window(windows)
    out: list[tuple[int, bytes | None] | None] = []
    for key, window in windows:
        versions = view.history(key, window)
        out.append(versions[-1] if len(versions) == window else None)
    return out


def state_sum_of(suite: Suite, versions: Iterable[tuple[bytes, int, bytes | None]]) -> bytes:
    """The LtHash of a state given as all its versions ``(key, height, value or None)``."""
    return lthash(suite, EMPTY_STATE_SUM, (version_entry(k, h, v) for k, h, v in versions))
