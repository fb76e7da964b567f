"""Introduction: transaction signatures checked in worker processes beside the node.

A node's event loop runs on one core. On a machine with cores to spare (one validator on a
2-core box, say) the loop was the bottleneck while the other core idled, and a signature check
was its largest single cost. With ``[verify] workers = N`` the loop hands each batch of arriving
envelopes to N processes and meanwhile serves other requests.

A worker's answer is only a hint: it names the (tx id, signature) pairs that verify under the key
in the tx's own certificate, and admission then skips that one check for exactly those pairs. It
still decodes every tx and checks chain, expiry, contract, membership, revocation and role
itself, so a wrong or missing answer can cost time but never admits anything.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from yulian.mempool.preverify import preverify

Verified = tuple[bytes, bytes] | None  # (tx id, signature) that verified, or None

MIN_CHUNK = 32  # smaller jobs cost more in hand-off than the work they carry
# a turn of the loop that asks for fewer checks than this verifies in-process: the hand-off
# (pickling, the pool's queue thread, the wake-up) costs the node more than a few checks
MIN_HANDOFF = 16
PARENT_POLL_S = 1.0


class Verifier:
    """Coalesces the batches asked for in one turn of the event loop and spreads them over
    the workers (one job per worker), so a stream of single-tx requests still ships in bulk."""

    def __init__(self, suite_name: str, workers: int) -> None:
        assert workers > 0
        self._suite_name = suite_name
        self._workers = workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )
        self._waiting: list[tuple[Sequence[bytes], asyncio.Future[list[Verified]]]] = []
        self._deliveries: set[asyncio.Task[None]] = set()

    async def verify(self, datas: Sequence[bytes]) -> list[Verified]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Verified]] = loop.create_future()
        if not self._waiting:
            loop.call_soon(self._flush)
        self._waiting.append((datas, future))
        return await future

    def _flush(self) -> None:
        waiting, self._waiting = self._waiting, []
        flat = [data for datas, _ in waiting for data in datas]
        if len(flat) < MIN_HANDOFF:
            for datas, future in waiting:
                if not future.done():
                    future.set_result([None] * len(datas))
            return
        size = max(MIN_CHUNK, -(-len(flat) // self._workers))
        loop = asyncio.get_running_loop()
        jobs = [
            loop.run_in_executor(self._pool, preverify, self._suite_name, flat[i : i + size])
            for i in range(0, len(flat), size)
        ]
        task = asyncio.ensure_future(self._deliver(jobs, waiting))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    @staticmethod
    async def _deliver(
        jobs: list[asyncio.Future[list[Verified]]],
        waiting: list[tuple[Sequence[bytes], asyncio.Future[list[Verified]]]],
    ) -> None:
        try:
            results = [r for chunk in await asyncio.gather(*jobs) for r in chunk]
        except Exception:  # a dead worker: admission verifies in-process instead
            results = [None] * sum(len(datas) for datas, _ in waiting)
        start = 0
        for datas, future in waiting:
            if not future.done():
                future.set_result(results[start : start + len(datas)])
            start += len(datas)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _exit_with_parent(parent: int) -> None:
    """Worker start-up: end this worker when the node that started it is gone (a node killed
    with SIGKILL cannot shut its pool down)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
