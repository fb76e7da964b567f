"""Introduction: the load driver — pre-signed txs submitted by a load plan, commits followed.

One asyncio loop in the bench process runs the phases of the plan (``plan.Segment``) against
the nodes in turn — open loop, closed loop or stress, one tx per ``POST /v1/txs`` or ``batch``
per ``POST /v1/txs/batch`` — while it follows the committed blocks on node 0
(``GET /v1/blocks/{h}``, every ``FOLLOW_POLL_S`` until the next exists) and records, per tx of
the run, the first time it is seen committed: a tx id seen again is a duplicate, an accepted
tx never seen is lost. A watchdog stops a run whose txs in flight have not committed for
``STALL_S``; after the phases the driver waits (bounded) for the accepted txs to commit.
CPU seconds per node are taken between the first submit and the end of that wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from typing import Any

import msgpack
import orjson
import psutil

from yulian.bench.http_client import HttpConnection, problem_code
from yulian.bench.observations import ACCEPTED, BlockObs, Phase, RunRecord
from yulian.bench.plan import STRESS_MIN_WINDOW, STRESS_WINDOW_S, Segment
from yulian.bench.sampling import MemorySampler, alive, cpu_seconds, peak_rss
from yulian.bench.workloads import PreparedTx

STRESS_WORKERS = 32
OPEN_LOOP_MIN_WORKERS = 16
OPEN_LOOP_MAX_WORKERS = 256
FOLLOW_POLL_S = 0.02
PROGRESS_S = 0.25
CLOSED_LOOP_COMMIT_WAIT_S = 60.0
DRAIN_TIMEOUT_S = 180.0  # after the load, wait at most this long for accepted txs to commit
DRAIN_STALL_S = 30.0  # ... or until nothing committed for this long
STALL_S = 30.0  # txs in flight and none committed for this long: the network stalled; stop

ProgressFn = Callable[[dict[str, Any]], None]


class LoadDriver:
    """Submits pre-signed txs following a load plan and follows the commits (one asyncio
    loop in the bench process)."""

    def __init__(
        self,
        urls: Sequence[str],
        txs: Sequence[PreparedTx],
        start_height: int,
        procs: Sequence[psutil.Process],
        *,
        label: str,
        workload: str,
        node_names: Sequence[str],
        progress: ProgressFn | None = None,
        batch: int = 1,
    ) -> None:
        self.urls = list(urls)
        self.batch = batch
        self.txs = list(txs)
        self.start_height = start_height
        self.procs = list(procs)
        self.label = label
        self.workload = workload
        self.node_names = list(node_names)
        self.progress = progress
        n = len(self.txs)
        self.index = {t.tx_id.hex(): i for i, t in enumerate(self.txs)}
        self.sent = [math.nan] * n
        self.status = [0] * n
        self.committed = [math.nan] * n
        self.heights = [0] * n
        self.duplicates = 0
        self.rejects: Counter[str] = Counter()
        self.blocks: list[BlockObs] = []
        self.phases: list[Phase] = []
        self.memory = MemorySampler(self.procs, self.clock)
        self.next = 0
        self.taken = 0
        self.accepted = 0
        self.refused = 0
        self.committed_count = 0
        self.max_lag = 0.0
        self.exhausted = False
        self.t0 = 0.0
        self.phase_name = ""
        self.recent: deque[tuple[float, int]] = deque()
        self.waiters: dict[int, asyncio.Future[None]] = {}
        self.commit_event: asyncio.Event | None = None
        self.stop_follow = False
        self.stalled = False
        self.last_progress = 0.0

    def clock(self) -> float:
        return time.perf_counter() - self.t0

    # --- taking, sending ------------------------------------------------------------------
    def take(self, limit: int | None) -> int | None:
        if self.stalled or (limit is not None and self.next >= limit):
            return None
        if self.next >= len(self.txs):
            self.exhausted = True  # a duration phase ran out of pre-signed txs
            return None
        i = self.next
        self.next += 1
        self.taken += 1
        return i

    async def post(self, conn: HttpConnection, i: int) -> bool:
        try:
            status, body = await conn.request(
                "POST", "/v1/txs", self.txs[i].envelope, "application/msgpack"
            )
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            status, body = 0, b""
        self.status[i] = status
        if status in ACCEPTED:
            self.accepted += 1
            return True
        self.refused += 1
        self.rejects["connection_error" if status == 0 else problem_code(body)] += 1
        return False

    def take_many(self, limit: int | None, most: int) -> list[int]:
        out: list[int] = []
        while len(out) < most and (i := self.take(limit)) is not None:
            out.append(i)
        return out

    async def post_many(self, conn: HttpConnection, idxs: Sequence[int]) -> int:
        """Post ``idxs`` (to ``/v1/txs`` one by one when the batch size is 1); returns how
        many were accepted."""
        if self.batch == 1:
            return sum([await self.post(conn, i) for i in idxs])
        body = msgpack.packb([self.txs[i].envelope for i in idxs])
        try:
            status, answer = await conn.request(
                "POST", "/v1/txs/batch", body, "application/msgpack"
            )
            results = orjson.loads(answer)["results"] if status == 200 else None
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError, KeyError):
            status, answer, results = 0, b"", None
        if results is None or len(results) != len(idxs):
            code = "connection_error" if status == 0 else problem_code(answer)
            for i in idxs:
                self.status[i] = status
            self.refused += len(idxs)
            self.rejects[code] += len(idxs)
            return 0
        accepted = 0
        for i, r in zip(idxs, results, strict=True):
            if r["status"] == "pending":
                self.status[i] = 202
                accepted += 1
            else:
                self.status[i] = int(r["http_status"])
                self.rejects[str(r["code"])] += 1
        self.accepted += accepted
        self.refused += len(idxs) - accepted
        return accepted

    def outstanding(self) -> int:
        return self.taken - self.committed_count - self.refused

    def commit_rate(self, window_s: float = 2.0) -> float:
        now = self.clock()
        while self.recent and self.recent[0][0] < now - window_s:
            self.recent.popleft()
        return sum(n for _, n in self.recent) / window_s

    # --- following commits ----------------------------------------------------------------
    async def follow(self) -> None:
        conn = HttpConnection(self.urls[0])
        h = self.start_height
        try:
            while not self.stop_follow:
                try:
                    status, body = await conn.request("GET", f"/v1/blocks/{h + 1}")
                except (OSError, asyncio.IncompleteReadError, TimeoutError):
                    await asyncio.sleep(FOLLOW_POLL_S)
                    continue
                if status != 200:
                    await asyncio.sleep(FOLLOW_POLL_S)
                    continue
                now = self.clock()
                doc = orjson.loads(body)
                h += 1
                ours = 0
                for hex_id in doc["tx_ids"]:
                    i = self.index.get(hex_id)
                    if i is None:
                        continue
                    if not math.isnan(self.committed[i]):
                        self.duplicates += 1
                        continue
                    self.committed[i] = now
                    self.heights[i] = h
                    ours += 1
                    fut = self.waiters.pop(i, None)
                    if fut is not None and not fut.done():
                        fut.set_result(None)
                self.committed_count += ours
                if ours:
                    self.last_progress = now
                header = doc["header"]
                self.blocks.append(
                    BlockObs(h, int(header["time_ms"]), int(header["tx_count"]), ours, now)
                )
                if ours:
                    self.recent.append((now, ours))
                    assert self.commit_event is not None
                    self.commit_event.set()
        finally:
            conn.close()

    async def watchdog(self) -> None:
        """Flag a stall: txs in flight and none committed for ``STALL_S`` seconds."""
        while True:
            now = self.clock()
            if self.outstanding() <= 0:
                self.last_progress = now
            elif now - self.last_progress > STALL_S:
                self.stalled = True
                assert self.commit_event is not None
                self.commit_event.set()
                for fut in self.waiters.values():
                    if not fut.done():
                        fut.set_result(None)
                return
            await asyncio.sleep(0.25)

    async def report_progress(self, planned_s: float | None, planned_txs: int) -> None:
        assert self.progress is not None
        while True:
            self.progress(
                {
                    "phase": self.phase_name,
                    "elapsed": self.clock(),
                    "planned_s": planned_s,
                    "planned_txs": planned_txs,
                    "submitted": self.taken,
                    "committed": self.committed_count,
                    "tps": self.commit_rate(),
                }
            )
            await asyncio.sleep(PROGRESS_S)

    # --- load phases ----------------------------------------------------------------------
    def _conn(self, k: int, conns: list[HttpConnection]) -> HttpConnection:
        conn = HttpConnection(self.urls[k % len(self.urls)])
        conns.append(conn)
        return conn

    async def run_open(self, seg: Segment, limit: int | None) -> None:
        assert seg.rate is not None
        rate = seg.rate
        workers = max(OPEN_LOOP_MIN_WORKERS, min(OPEN_LOOP_MAX_WORKERS, int(rate / 10)))
        queue: asyncio.Queue[int | None] = asyncio.Queue()
        conns: list[HttpConnection] = []

        async def worker(conn: HttpConnection) -> None:
            done = False
            while not done:
                first = await queue.get()
                if first is None:
                    return
                idxs = [first]
                while len(idxs) < self.batch and not queue.empty():
                    i = queue.get_nowait()
                    if i is None:
                        done = True
                        break
                    idxs.append(i)
                self.max_lag = max(self.max_lag, self.clock() - self.sent[first])
                await self.post_many(conn, idxs)

        tasks = [asyncio.create_task(worker(self._conn(k, conns))) for k in range(workers)]
        start = self.clock()
        k = 0
        try:
            while not self.stalled:
                now = self.clock()
                if seg.duration is not None and now - start >= seg.duration:
                    break
                due = int((now - start) * rate) + 1
                if seg.duration is not None:
                    due = min(due, math.ceil(seg.duration * rate))
                while k < due:
                    i = self.take(limit)
                    if i is None:
                        break
                    self.sent[i] = start + k / rate  # the scheduled time (no coordinated omission)
                    queue.put_nowait(i)
                    k += 1
                if k < due:  # the plan ran out of txs
                    break
                await asyncio.sleep(max(0.0005, start + k / rate - self.clock()))
        finally:
            for _ in tasks:
                queue.put_nowait(None)
            await asyncio.gather(*tasks)
            for c in conns:
                c.close()

    async def run_closed(self, seg: Segment, limit: int | None) -> None:
        assert seg.clients is not None
        start = self.clock()
        loop = asyncio.get_running_loop()
        conns: list[HttpConnection] = []

        async def client(conn: HttpConnection) -> None:
            while not self.stalled and (
                seg.duration is None or self.clock() - start < seg.duration
            ):
                idxs = self.take_many(limit, self.batch)
                if not idxs:
                    return
                futs: list[asyncio.Future[None]] = []
                now = self.clock()
                for i in idxs:
                    futs.append(loop.create_future())
                    self.waiters[i] = futs[-1]
                    self.sent[i] = now
                await self.post_many(conn, idxs)
                waiting = []
                for i, fut in zip(idxs, futs, strict=True):
                    if self.status[i] in ACCEPTED:
                        waiting.append(fut)
                    else:
                        self.waiters.pop(i, None)
                if waiting:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.gather(*waiting), CLOSED_LOOP_COMMIT_WAIT_S)
                if len(waiting) < len(idxs):
                    await asyncio.sleep(0.05)

        try:
            await asyncio.gather(*(client(self._conn(k, conns)) for k in range(seg.clients)))
        finally:
            for c in conns:
                c.close()

    async def run_stress(self, seg: Segment, limit: int | None) -> None:
        start = self.clock()
        assert self.commit_event is not None
        event = self.commit_event
        conns: list[HttpConnection] = []

        def window() -> int:
            return max(STRESS_MIN_WINDOW, int(STRESS_WINDOW_S * self.commit_rate()))

        def time_left() -> bool:
            return not self.stalled and (
                seg.duration is None or self.clock() - start < seg.duration
            )

        async def sender(conn: HttpConnection) -> None:
            while time_left():
                while self.outstanding() >= window() and time_left():
                    event.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), 0.05)
                if not time_left():
                    return
                idxs = self.take_many(limit, max(1, min(self.batch, window() - self.outstanding())))
                if not idxs:
                    return
                now = self.clock()
                for i in idxs:
                    self.sent[i] = now
                await self.post_many(conn, idxs)

        try:
            await asyncio.gather(*(sender(self._conn(k, conns)) for k in range(STRESS_WORKERS)))
        finally:
            for c in conns:
                c.close()

    async def drain(self) -> None:
        """Wait until every accepted tx is committed (bounded by time and by progress)."""
        deadline = self.clock() + DRAIN_TIMEOUT_S
        last_count, last_change = self.committed_count, self.clock()
        while self.committed_count < self.accepted and self.clock() < deadline and not self.stalled:
            if self.committed_count != last_count:
                last_count, last_change = self.committed_count, self.clock()
            elif self.clock() - last_change > DRAIN_STALL_S:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a duplicate in a following block would show up here

    async def run(self, segments: Sequence[Segment]) -> RunRecord:
        self.commit_event = asyncio.Event()
        me = psutil.Process()
        cpu0 = [cpu_seconds(p) for p in self.procs]
        client0 = cpu_seconds(me)
        self.t0 = time.perf_counter()
        planned_s = (
            sum(s.duration for s in segments if s.duration is not None)
            if all(s.duration is not None for s in segments)
            else None
        )
        helpers = [asyncio.create_task(self.memory.run()), asyncio.create_task(self.watchdog())]
        if self.progress is not None:
            helpers.append(asyncio.create_task(self.report_progress(planned_s, len(self.txs))))
        follower = asyncio.create_task(self.follow())
        try:
            limit = 0
            for seg in segments:
                limit = limit + seg.count if seg.count is not None else len(self.txs)
                self.phase_name = seg.name
                begin = self.clock()
                if seg.mode == "open":
                    await self.run_open(seg, limit)
                elif seg.mode == "closed":
                    await self.run_closed(seg, limit)
                else:
                    await self.run_stress(seg, limit)
                self.phases.append(
                    Phase(seg.name, seg.mode, begin, self.clock(), seg.rate, seg.clients)
                )
                limit = self.next
            self.phase_name = "draining"
            await self.drain()
        finally:
            self.stop_follow = True
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(follower, 15)
            for t in helpers:
                t.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
        # CPU over [first submit, drain end]; the drain's idle tail adds almost nothing
        cpu = [max(0.0, cpu_seconds(p) - c) for p, c in zip(self.procs, cpu0, strict=True)]
        crashed = [
            name for name, p in zip(self.node_names, self.procs, strict=True) if not alive(p)
        ]
        return RunRecord(
            label=self.label,
            tx_ids=[t.tx_id.hex() for t in self.txs[: self.next]],
            workload=self.workload,
            validators=len(self.urls),
            sent=self.sent[: self.next],
            status=self.status[: self.next],
            committed=self.committed[: self.next],
            heights=self.heights[: self.next],
            duplicates=self.duplicates,
            rejects=dict(self.rejects),
            blocks=self.blocks,
            phases=self.phases,
            node_names=self.node_names,
            node_cpu_s=cpu,
            node_peak_rss=[peak_rss(p) for p in self.procs],
            rss_samples=self.memory.rss,
            anon_samples=self.memory.anon,
            crashed=crashed,
            client_cpu_s=cpu_seconds(me) - client0,
            max_send_lag_s=self.max_lag,
            exhausted=self.exhausted,
            stalled=self.stalled,
        )
