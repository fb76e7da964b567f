"""Introduction: the clients — what transactions the simulated run submits.

A ``Workload`` draws, from the cluster's seeded client stream, the next client submission: one
or more signed evidence registrations, each sent to a live node's mempool (admission as the
API does it, then gossip). The workloads (``SimConfig.workload``):

- ``small``: one registration of a few hundred bytes every ``tx_interval_ms`` on average;
- ``large``: registrations whose envelope is near ``max_tx_bytes`` (a metadata blob fills it:
  between ``LARGE_MIN`` and all of the room), and now and then a burst — many large txs, so
  the pool holds more than a block's ``max_block_bytes``, or many small ones, more than a
  block's ``max_block_txs`` — submitted at once;
- ``mixed``: small or large per submission, bursts included.

So blocks are built at the byte limit, at the count limit and at the tx limit, the gossip of a
burst is split into several messages, and a node that was down syncs full blocks, in parts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from yulian.apps.evidence import CONTRACT_NAME
from yulian.sdk.wallet import Wallet
from yulian.types.genesis import ChainParams
from yulian.types.tx import SignedTx

LARGE_MIN = 0.6  # a large tx's envelope takes at least this share of max_tx_bytes
BURST = 0.08  # chance that a submission of the large workloads is a burst
ENVELOPE_SLACK = 256  # bytes left free under max_tx_bytes (the blob is sized before signing)


@dataclass(frozen=True)
class Submission:
    envelopes: tuple[bytes, ...]
    label: str  # "tx", "large", "burst-large" or "burst-small" (in the trace)


class Workload:
    def __init__(self, name: str, chain_id: str, params: ChainParams) -> None:
        self.name = name
        self.chain_id = chain_id
        self.params = params
        self._base_size: dict[bytes, int] = {}  # a wallet's certificate -> a small tx's size

    def next(self, rng: random.Random, wallets: tuple[Wallet, ...], expires_at: int) -> Submission:
        """The next submission, every choice drawn from ``rng`` (the client stream)."""
        wallet = rng.choice(wallets)
        large = self.name == "large" or (self.name == "mixed" and rng.random() < 0.5)
        if self.name != "small" and rng.random() < BURST:
            if rng.random() < 0.5:
                count = self.params.max_block_bytes // self.params.max_tx_bytes + rng.randint(1, 4)
                envelopes = [self._large(rng, wallet, expires_at) for _ in range(count)]
                return Submission(tuple(envelopes), "burst-large")
            count = self.params.max_block_txs + rng.randint(1, 8)
            envelopes = [self._small(rng, wallet, expires_at) for _ in range(count)]
            return Submission(tuple(envelopes), "burst-small")
        if large:
            return Submission((self._large(rng, wallet, expires_at),), "large")
        return Submission((self._small(rng, wallet, expires_at),), "tx")

    def _small(self, rng: random.Random, wallet: Wallet, expires_at: int) -> bytes:
        return self._register(rng, wallet, expires_at, {})

    def _large(self, rng: random.Random, wallet: Wallet, expires_at: int) -> bytes:
        base = self._base_size.get(wallet.cert)
        if base is None:
            base = len(self._register(random.Random(0), wallet, expires_at, {"blob": ""}))
            self._base_size[wallet.cert] = base
        room = self.params.max_tx_bytes - ENVELOPE_SLACK - base
        size = rng.randint(int(room * LARGE_MIN), room)
        return self._register(rng, wallet, expires_at, {"blob": "x" * size})

    def _register(
        self, rng: random.Random, wallet: Wallet, expires_at: int, metadata: dict[str, str]
    ) -> bytes:
        digest = f"{rng.getrandbits(256):064x}"
        tx: SignedTx = wallet.sign_tx(
            self.chain_id,
            CONTRACT_NAME,
            "register",
            [digest, f"doc {digest[:8]}", metadata],
            expires_at=expires_at,
            nonce=rng.getrandbits(62),
        )
        data = tx.encode()
        assert len(data) <= self.params.max_tx_bytes, (len(data), self.params.max_tx_bytes)
        return data
