"""Introduction: the replica's bounded buffers of one height.

``Seen`` remembers which votes and proposals of the height were processed already, so a
re-sent one costs a lookup, not a signature check, a WAL append and a step; beyond its limit
the oldest are forgotten (processing one again is only wasted work: each consumer is
idempotent). ``FutureBuffer`` keeps the messages of the next height, from peers that decided
before us, until we start it; beyond its limits (count and bytes) new ones are dropped — peers
re-send their own messages, and block sync catches up a node that fell behind.
"""

from __future__ import annotations

from collections import OrderedDict

from yulian.net.messages import Message

MAX_SEEN = 4096  # votes, and proposals, of one height
MAX_FUTURE_MESSAGES = 2000
MAX_FUTURE_BYTES = 64 * 1024 * 1024


class Seen:
    def __init__(self, limit: int = MAX_SEEN) -> None:
        self._limit = limit
        self._keys: OrderedDict[object, None] = OrderedDict()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def add(self, key: object) -> None:
        self._keys[key] = None
        if len(self._keys) > self._limit:
            self._keys.popitem(last=False)


class FutureBuffer:
    def __init__(
        self, max_messages: int = MAX_FUTURE_MESSAGES, max_bytes: int = MAX_FUTURE_BYTES
    ) -> None:
        self._max_messages = max_messages
        self._max_bytes = max_bytes
        self._messages: list[tuple[str, Message]] = []
        self._bytes = 0

    def add(self, peer: str, msg: Message) -> bool:
        """Keep ``msg`` (a proposal or vote: its payload is bytes) if it fits."""
        size = len(msg.payload)
        if len(self._messages) >= self._max_messages or self._bytes + size > self._max_bytes:
            return False
        self._messages.append((peer, msg))
        self._bytes += size
        return True

    def take(self) -> list[tuple[str, Message]]:
        """Everything kept, in arrival order; the buffer is empty afterwards."""
        taken, self._messages, self._bytes = self._messages, [], 0
        return taken
