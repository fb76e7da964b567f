"""Introduction: ``yulian bench`` — a real network on loopback, loaded through the public API.

One run:

1. measures the signature ceiling of this machine (``machine.signature_ceiling``);
2. creates a network of N validators, one organisation each (at least two), whose genesis
   installs ``evidence`` and the bench contracts, and starts one process per validator
   (``network_up``; ``network_down`` in ``finally``);
3. commits the workload's set-up txs (the transfer accounts), untimed;
4. for ``spike`` and ``stability`` without ``--rate``: a short stress probe measures the
   sustainable rate S;
5. pre-signs every tx of the run (untimed; one client of each organisation in turn);
6. submits them to the nodes in turn through ``POST /v1/txs`` (msgpack envelopes, keep-alive
   HTTP/1.1 on asyncio streams — a few µs per request, so the client takes little of the CPU it
   shares with the nodes) following a load plan of phases:

   * **open loop** ``--rate R``: tx k is due at ``t_phase + k / R`` whatever happened before;
   * **closed loop** ``--clients C``: C clients, each submits one tx and waits until it sees
     it committed before the next;
   * **stress** (the default, and ``--test stress``): submit while the txs in flight
     (submitted, not yet committed nor refused) are fewer than the window, which follows the
     commit rate (``max(500, 1 s × commits per second)``) — send rate ≈ commit rate;

7. follows the committed blocks on node 0 (``GET /v1/blocks/{h}``, every 20 ms until the next
   one exists) and records, per tx id of the run, the first time it is seen committed; a tx id
   seen a second time is a duplicate, an accepted tx never seen is lost;
8. after the load, waits for the accepted txs to commit (bounded), checks that every node has
   the same block hash and state root at a common height, stops the network and reads the
   receipts of the run's blocks from node 0's ledger (read-only) — success = committed once
   with status ``ok``.

CPU seconds per node are the node process's user + system time between the first submit and
the last commit; peak RSS is the kernel's high-water mark (``VmHWM``), RSS is also sampled
every second for the plot and the stability test, with its anonymous part (RSS minus the
file-backed pages, which include LMDB's memory map of the growing ledger).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import math
import os
import random
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgpack
import orjson
import psutil

from yulian.api.app import MAX_BATCH_TXS
from yulian.apps.benchmarks import genesis_contracts
from yulian.bench import report
from yulian.bench.machine import describe, signature_ceiling
from yulian.bench.workloads import (
    WORKLOADS,
    PreparedTx,
    Workload,
    make_workload,
    presign,
    sign_calls,
)
from yulian.ledger import open_ledger
from yulian.node.bootstrap import init_network
from yulian.node.config import MAX_VERIFY_WORKERS, load_config, save_config
from yulian.node.network import network_down, network_up, pid_path, read_pid
from yulian.pki.layout import NetworkLayout, load_layout
from yulian.sdk import Client, Wallet
from yulian.types.genesis import ChainParams, Genesis
from yulian.types.receipt import Receipt

TESTS = ("stress", "spike", "stability")
DEFAULT_TXS = 2000
DEFAULT_VALIDATORS = 4
DEFAULT_STABILITY_S = 60.0
TX_TTL_BLOCKS = 1_000_000  # bench genesis: pre-signed txs stay valid for long runs
ACCEPTED = (200, 202, 409)  # 409 duplicate_tx only follows a client retry: the tx was admitted

STRESS_WORKERS = 32
STRESS_MIN_WINDOW = 500
STRESS_WINDOW_S = 1.0
OPEN_LOOP_MIN_WORKERS = 16
OPEN_LOOP_MAX_WORKERS = 256
FOLLOW_POLL_S = 0.02
RSS_SAMPLE_S = 1.0
PROGRESS_S = 0.25
REQUEST_TIMEOUT_S = 30.0
CLOSED_LOOP_COMMIT_WAIT_S = 60.0
DRAIN_TIMEOUT_S = 180.0  # after the load, wait at most this long for accepted txs to commit
DRAIN_STALL_S = 30.0  # ... or until nothing committed for this long
STALL_S = 30.0  # txs in flight and none committed for this long: the network stalled; stop
PROBE_S = 10.0
SPIKE_FACTOR = 2.0
SPIKE_S = 30.0
SPIKE_BEFORE_S = 10.0
SPIKE_AFTER_S = 60.0
SPIKE_BASE_FRACTION = 0.5  # before and after the spike: half the sustainable rate
STABILITY_FRACTION = 0.2
PRESIGN_CAP = 300_000
SETUP_TIMEOUT_S = 120.0
START_TIMEOUT_S = 90.0

ProgressFn = Callable[[dict[str, Any]], None]


# --- options ----------------------------------------------------------------------------


@dataclass
class BenchOptions:
    validators: int = DEFAULT_VALIDATORS
    workload: str = "evidence"
    txs: int | None = None
    duration: float | None = None
    rate: float | None = None
    clients: int | None = None
    test: str | None = None
    suite: str = "standard"
    block_interval_ms: int | None = None  # None: the genesis default
    max_block_txs: int | None = None  # None: the genesis default
    accounts: int = 10_000
    batches: int = 1_000
    keep: Path | None = None
    json_path: Path | None = None
    plot_path: Path | None = None
    progress: bool = True
    seed: int = 1
    probe_s: float = PROBE_S
    spike_s: float = SPIKE_S
    batch: int = 1  # txs per request: 1 posts to /v1/txs, more to /v1/txs/batch
    verify_workers: int | None = None  # None: auto_verify_workers(validators)

    def check(self) -> None:
        if not 1 <= self.validators <= 64:
            raise ValueError("--validators must be 1..64")
        if self.workload not in WORKLOADS:
            raise ValueError(f"--workload must be one of {', '.join(WORKLOADS)}")
        if self.test is not None and self.test not in TESTS:
            raise ValueError(f"--test must be one of {', '.join(TESTS)}")
        if self.rate is not None and self.clients is not None:
            raise ValueError("give --rate (open loop) or --clients (closed loop), not both")
        if self.rate is not None and self.rate <= 0:
            raise ValueError("--rate must be positive")
        if self.clients is not None and not 1 <= self.clients <= 4096:
            raise ValueError("--clients must be 1..4096")
        if self.txs is not None and not 1 <= self.txs <= PRESIGN_CAP:
            raise ValueError(f"--txs must be 1..{PRESIGN_CAP}")
        if self.duration is not None and not 0 < self.duration <= 7 * 86400:
            raise ValueError("--duration must be positive (seconds)")
        if not 1 <= self.batch <= MAX_BATCH_TXS:
            raise ValueError(f"--batch must be 1..{MAX_BATCH_TXS}")
        if self.verify_workers is not None and not 0 <= self.verify_workers <= MAX_VERIFY_WORKERS:
            raise ValueError(f"--verify-workers must be 0..{MAX_VERIFY_WORKERS}")
        if self.suite not in ("standard", "gm"):
            raise ValueError(f"unknown suite {self.suite!r}: standard or gm")
        if self.test == "stress" and (self.rate is not None or self.clients is not None):
            raise ValueError("--test stress sets its own load; leave out --rate/--clients")
        if self.test in ("spike", "stability") and self.clients is not None:
            raise ValueError(f"--test {self.test} is open loop; give --rate S, not --clients")


@dataclass(frozen=True)
class Segment:
    """One phase of the load plan; it ends after ``duration`` s or ``count`` txs."""

    name: str
    mode: str  # "open" | "closed" | "stress"
    rate: float | None = None
    clients: int | None = None
    duration: float | None = None
    count: int | None = None

    def budget(self, presign_rate: float) -> int:
        """How many txs to pre-sign for this phase."""
        if self.count is not None:
            return self.count
        assert self.duration is not None
        if self.mode == "open":
            assert self.rate is not None
            return math.ceil(self.rate * self.duration) + 1
        return min(PRESIGN_CAP, max(200, math.ceil(presign_rate * self.duration)))


# --- the network ------------------------------------------------------------------------


def free_port_base(count: int, attempts: int = 200) -> int:
    """A port p such that p .. p + count - 1 are all free on 127.0.0.1 right now."""
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(20_000, 60_000 - count)
        socks = []
        try:
            for p in range(base, base + count):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"found no {count} consecutive free ports on 127.0.0.1")


class BenchNetwork:
    """N validator processes on loopback in ``root`` (created by ``create``)."""

    def __init__(
        self,
        root: Path,
        validators: int,
        *,
        suite: str = "standard",
        block_interval_ms: int | None = None,
        max_block_txs: int | None = None,
        verify_workers: int = 0,
    ) -> None:
        self.root = root
        self.validators = validators
        self.verify_workers = verify_workers
        self.suite = suite
        self.block_interval_ms = block_interval_ms
        self.max_block_txs = max_block_txs
        self.layout: NetworkLayout | None = None
        self.urls: list[str] = []
        self.procs: list[psutil.Process] = []

    def create(self) -> NetworkLayout:
        n = self.validators
        base = free_port_base(2 * n)
        params = dataclasses.replace(ChainParams(), max_tx_ttl_blocks=TX_TTL_BLOCKS)
        if self.block_interval_ms is not None:
            params = dataclasses.replace(params, block_interval_ms=self.block_interval_ms)
        if self.max_block_txs is not None:
            params = dataclasses.replace(params, max_block_txs=self.max_block_txs)
        self.layout = init_network(
            self.root,
            orgs=max(2, n),
            validators=n,
            suite_name=self.suite,
            base_api_port=base,
            base_p2p_port=base + n,
            contracts=genesis_contracts(),
            params=params,
        )
        if self.verify_workers:
            for node in self.layout.nodes:
                cfg = load_config(node.config)
                save_config(
                    dataclasses.replace(cfg, verify_workers=self.verify_workers), node.config
                )
        return self.layout

    @property
    def genesis(self) -> Genesis:
        assert self.layout is not None
        return Genesis.load(self.layout.genesis)

    @property
    def node_names(self) -> list[str]:
        assert self.layout is not None
        return [node.name for node in self.layout.nodes]

    def wallets(self) -> list[Wallet]:
        """One client of every organisation."""
        assert self.layout is not None
        return [Wallet.from_network(self.root, org.name, "client1") for org in self.layout.orgs]

    def start(self, timeout_s: float = START_TIMEOUT_S) -> list[str]:
        """Start every node and wait until each is healthy and the chain has a block."""
        layout = self.layout or load_layout(self.root)
        self.layout = layout
        self.urls = network_up(self.root, timeout_s=timeout_s)
        self.procs = []
        for node in layout.nodes:
            pid = read_pid(pid_path(layout, node.name))
            if pid is None:
                raise RuntimeError(f"node {node.name} has no running process")
            self.procs.append(psutil.Process(pid))
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            heights = self.heights()
            if all(h is not None and h >= 1 for h in heights):
                return self.urls
            time.sleep(0.2)
        raise RuntimeError(f"the network made no block within {timeout_s:.0f} s: {heights}")

    def heights(self) -> list[int | None]:
        out: list[int | None] = []
        for url in self.urls:
            try:
                out.append(int(httpx.get(f"{url}/v1/health", timeout=5).json()["height"]))
            except (httpx.HTTPError, ValueError, KeyError):
                out.append(None)
        return out

    def stop(self) -> None:
        if self.layout is not None or (self.root / "genesis.json").exists():
            network_down(self.root)

    def ledger_dir(self, index: int = 0) -> Path:
        assert self.layout is not None
        return load_config(self.layout.nodes[index].config).data_dir / "ledger"


def check_convergence(
    urls: Sequence[str], names: Sequence[str], timeout_s: float = 15.0
) -> dict[str, Any]:
    """Wait (bounded) until every node reports the same height, then compare every node's
    block hash and state root at that height (at the lowest height if they never settle)."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=10) as http:

        def get(url: str) -> Any:
            try:
                r = http.get(url)
                return r.json() if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                return None  # a node that crashed or does not answer

        while True:
            heights = [(get(f"{u}/v1/health") or {}).get("height") for u in urls]
            if len(set(heights)) == 1 or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        height = min((h for h in heights if h is not None), default=0)
        nodes = []
        for name, url in zip(names, urls, strict=True):
            header = (get(f"{url}/v1/blocks/{height}") or {}).get("header") or {}
            nodes.append(
                {"node": name, "hash": header.get("hash"), "state_root": header.get("state_root")}
            )
    hashes = {n["hash"] for n in nodes}
    roots = {n["state_root"] for n in nodes}
    return {
        "height": height,
        "heights": heights,
        "same_height": len(set(heights)) == 1 and None not in heights,
        "hash": nodes[0]["hash"],
        "state_root": nodes[0]["state_root"],
        "agree": len(hashes) == 1 and len(roots) == 1 and None not in hashes | roots,
        "nodes": nodes,
    }


def read_receipts(ledger_dir: Path, heights: Sequence[int]) -> dict[str, str]:
    """tx id (hex) → receipt status for every tx of the blocks at ``heights`` (read-only)."""
    out: dict[str, str] = {}
    ledger = open_ledger(ledger_dir, readonly=True)
    try:
        for h in sorted(set(heights)):
            for raw in ledger.receipts(h) or []:
                r = Receipt.decode(raw)
                out[r.tx_id.hex()] = r.status
    finally:
        ledger.close()
    return out


# --- a minimal HTTP/1.1 client (keep-alive, asyncio streams) ------------------------------


class HttpConnection:
    """One keep-alive HTTP/1.1 connection to a node's API: ``request`` sends one request and
    reads the whole response. A request on a reused connection that the server had closed
    meanwhile is retried once on a new one."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str | None = None
    ) -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Length: {len(body)}\r\n"
            + (f"Content-Type: {content_type}\r\n" if content_type else "")
            + "\r\n"
        ).encode("ascii")
        for attempt in range(2):
            fresh = self._writer is None
            if fresh:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            assert self._reader is not None and self._writer is not None
            try:
                self._writer.write(head + body)
                await self._writer.drain()
                return await asyncio.wait_for(self._read_response(), REQUEST_TIMEOUT_S)
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                self.close()
                if fresh or attempt:
                    raise
        raise AssertionError("unreachable")

    async def _read_response(self) -> tuple[int, bytes]:
        assert self._reader is not None
        reader = self._reader
        line = await reader.readline()
        if not line:
            raise ConnectionResetError("the server closed the connection")
        status = int(line.split()[1])
        length: int | None = None
        chunked = close = False
        while True:
            h = await reader.readline()
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.partition(b":")
            key = name.strip().lower()
            if key == b"content-length":
                length = int(value.strip())
            elif key == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif key == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip(), 16)
                if size == 0:
                    await reader.readline()
                    break
                parts.append(await reader.readexactly(size))
                await reader.readline()
            body = b"".join(parts)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            close = True
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def problem_code(body: bytes) -> str:
    try:
        doc = orjson.loads(body)
        return str(doc.get("code", "http_error")) if isinstance(doc, dict) else "http_error"
    except orjson.JSONDecodeError:
        return "http_error"


# --- the load driver ----------------------------------------------------------------------


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
        self.blocks: list[report.BlockObs] = []
        self.phases: list[report.Phase] = []
        self.rss_samples: list[tuple[float, list[int]]] = []
        self.anon_samples: list[tuple[float, list[int]]] = []
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
                    report.BlockObs(h, int(header["time_ms"]), int(header["tx_count"]), ours, now)
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

    async def sample_rss(self) -> None:
        while True:
            row, anon = [], []
            for p in self.procs:
                try:
                    m = p.memory_info()
                    row.append(m.rss)
                    # Linux: ``shared`` is the file-backed resident part (LMDB's map, code)
                    anon.append(m.rss - getattr(m, "shared", 0))
                except psutil.Error:
                    row.append(0)
                    anon.append(0)
            now = self.clock()
            self.rss_samples.append((now, row))
            self.anon_samples.append((now, anon))
            await asyncio.sleep(RSS_SAMPLE_S)

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

    async def run(self, segments: Sequence[Segment]) -> report.RunRecord:
        self.commit_event = asyncio.Event()
        me = psutil.Process()
        cpu0 = [_cpu(p) for p in self.procs]
        client0 = _cpu(me)
        self.t0 = time.perf_counter()
        planned_s = (
            sum(s.duration for s in segments if s.duration is not None)
            if all(s.duration is not None for s in segments)
            else None
        )
        helpers = [asyncio.create_task(self.sample_rss()), asyncio.create_task(self.watchdog())]
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
                    report.Phase(seg.name, seg.mode, begin, self.clock(), seg.rate, seg.clients)
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
        cpu = [max(0.0, _cpu(p) - c) for p, c in zip(self.procs, cpu0, strict=True)]
        crashed = [
            name for name, p in zip(self.node_names, self.procs, strict=True) if not _alive(p)
        ]
        return report.RunRecord(
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
            node_peak_rss=[_peak_rss(p) for p in self.procs],
            rss_samples=self.rss_samples,
            anon_samples=self.anon_samples,
            crashed=crashed,
            client_cpu_s=_cpu(me) - client0,
            max_send_lag_s=self.max_lag,
            exhausted=self.exhausted,
            stalled=self.stalled,
        )


def _cpu(p: psutil.Process) -> float:
    try:
        t = p.cpu_times()
        return float(t.user + t.system)
    except psutil.Error:
        return 0.0


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _peak_rss(p: psutil.Process) -> int:
    """The kernel's RSS high-water mark of the process (``VmHWM``), else its current RSS."""
    try:
        with open(f"/proc/{p.pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    try:
        return int(p.memory_info().rss)
    except psutil.Error:
        return 0


# --- one bench session: a network, set-up, one or more loads --------------------------------


class BenchSession:
    """A started bench network and what is needed to load it; a context manager that always
    stops the network."""

    def __init__(
        self,
        root: Path,
        validators: int,
        workload: Workload,
        *,
        suite: str = "standard",
        block_interval_ms: int | None = None,
        max_block_txs: int | None = None,
        progress: ProgressFn | None = None,
        batch: int = 1,
        verify_workers: int = 0,
    ) -> None:
        self.net = BenchNetwork(
            root,
            validators,
            suite=suite,
            block_interval_ms=block_interval_ms,
            max_block_txs=max_block_txs,
            verify_workers=verify_workers,
        )
        self.batch = batch
        self.workload = workload
        self.progress = progress
        self.next_index = 0
        self.setup_s = 0.0
        self.ledger_heights: list[int] = []
        self.runs: list[report.RunRecord] = []

    def __enter__(self) -> BenchSession:
        self.net.create()
        try:
            self.net.start()
            self.genesis = self.net.genesis
            self.wallets = self.net.wallets()
            self.setup()
        except BaseException:
            self.net.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.net.stop()

    def head(self) -> int:
        return int(httpx.get(f"{self.net.urls[0]}/v1/health", timeout=10).json()["height"])

    def setup(self) -> None:
        """Commit the workload's set-up txs one by one (untimed)."""
        calls = self.workload.setup_calls()
        if not calls:
            return
        started = time.perf_counter()
        expires = self.head() + TX_TTL_BLOCKS - 100
        txs = sign_calls(
            self.wallets[0],
            self.genesis.chain_id,
            self.workload.contract,
            calls,
            expires_at=expires,
        )
        with Client(self.net.urls[0], timeout_s=SETUP_TIMEOUT_S) as client:
            for k, tx in enumerate(txs):
                if self.progress is not None:
                    self.progress({"phase": f"set-up {k + 1}/{len(txs)}", "setup": True})
                result = client.submit_envelope(tx.envelope, wait=True, timeout_s=SETUP_TIMEOUT_S)
                receipt = result.get("receipt") or {}
                if result.get("status") != "committed" or receipt.get("status") != "ok":
                    raise RuntimeError(f"set-up tx {k} did not commit ok: {result}")
        self.setup_s = time.perf_counter() - started

    def load(
        self, segments: Sequence[Segment], label: str, presign_rate: float
    ) -> report.RunRecord:
        """Pre-sign for ``segments``, run them, and fill in the receipts' statuses later."""
        count = sum(s.budget(presign_rate) for s in segments)
        start_height = self.head()
        if self.progress is not None:
            self.progress({"phase": f"signing {count:,} txs", "setup": True})
        txs = presign(
            self.workload,
            self.wallets,
            self.genesis.chain_id,
            self.next_index,
            count,
            expires_at=start_height + TX_TTL_BLOCKS - 100,
        )
        self.next_index += count
        driver = LoadDriver(
            self.net.urls,
            txs,
            start_height,
            self.net.procs,
            label=label,
            workload=self.workload.name,
            node_names=self.net.node_names,
            progress=self.progress,
            batch=self.batch,
        )
        record = asyncio.run(driver.run(segments))
        self.ledger_heights.extend(h for h in record.heights if h)
        self.runs.append(record)
        return record

    def convergence(self) -> dict[str, Any]:
        return check_convergence(self.net.urls, self.net.node_names)

    def fill_receipts(self) -> None:
        """After the network stopped: every run's receipt statuses, from node 0's ledger."""
        statuses = read_receipts(self.net.ledger_dir(0), self.ledger_heights)
        for record in self.runs:
            record.receipt = [
                statuses.get(tx_id) if h else None
                for tx_id, h in zip(record.tx_ids, record.heights, strict=True)
            ]


# --- plans, one run, the command ------------------------------------------------------------


def steady_rate(record: report.RunRecord) -> float:
    """The sustainable rate a stress probe found: commits per second over the second half of
    the probe (steady state), else its commit TPS."""
    if record.phases:
        p = record.phases[0]
        lo, hi = p.start + (p.end - p.start) / 2, p.end
        n = sum(1 for c in record.committed if not math.isnan(c) and lo <= c < hi)
        if n and hi > lo:
            return n / (hi - lo)
    done = [c for c in record.committed if not math.isnan(c)]
    return len(done) / max(done) if done else 0.0


def plan(opts: BenchOptions, sustainable: float | None) -> tuple[list[Segment], str]:
    """The load plan of a run and its one-line description."""
    if opts.test == "spike":
        assert sustainable is not None
        base, peak = SPIKE_BASE_FRACTION * sustainable, SPIKE_FACTOR * sustainable
        return (
            [
                Segment("before", "open", rate=base, duration=SPIKE_BEFORE_S),
                Segment("spike", "open", rate=peak, duration=opts.spike_s),
                Segment("after", "open", rate=base, duration=SPIKE_AFTER_S),
            ],
            f"open loop {base:,.0f} tx/s for {SPIKE_BEFORE_S:.0f} s → {peak:,.0f} tx/s "
            f"(2 × S) for {opts.spike_s:.0f} s → {base:,.0f} tx/s for {SPIKE_AFTER_S:.0f} s",
        )
    if opts.test == "stability":
        assert sustainable is not None
        r = STABILITY_FRACTION * sustainable
        d = opts.duration or DEFAULT_STABILITY_S
        return (
            [Segment("steady", "open", rate=r, duration=d)],
            f"open loop {r:,.1f} tx/s (20 % of S) for {d:.0f} s",
        )
    count = opts.txs if opts.txs is not None else (None if opts.duration else DEFAULT_TXS)
    span = f"{count:,} txs" if count is not None else ""
    if opts.duration is not None:
        span = (span + ", " if span else "") + f"{opts.duration:.0f} s"
    if opts.rate is not None:
        return (
            [Segment("load", "open", rate=opts.rate, duration=opts.duration, count=count)],
            f"open loop {opts.rate:,.0f} tx/s, {span}",
        )
    if opts.clients is not None:
        return (
            [Segment("load", "closed", clients=opts.clients, duration=opts.duration, count=count)],
            f"closed loop, {opts.clients} clients, {span}",
        )
    return (
        [Segment("load", "stress", duration=opts.duration, count=count)],
        f"stress: in flight ≤ max({STRESS_MIN_WINDOW}, {STRESS_WINDOW_S:.0f} s × commit rate), "
        f"{span}",
    )


def auto_verify_workers(validators: int, cores: int | None = None) -> int:
    """Verifier processes per node for a bench network: one when the machine has a core to
    spare beyond one per validator process (1 validator on 2 cores), else none — on a machine
    the nodes already fill, another process only adds hand-off work."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return 1 if cores >= 2 * validators else 0


def network_text(validators: int, session: BenchSession) -> str:
    g = session.genesis
    workers = session.net.verify_workers
    return (
        f"{validators} validator process(es), {len(g.organisations)} organisations, "
        f"{g.suite} suite, block interval {g.params.block_interval_ms} ms, "
        f"≤ {g.params.max_block_txs} txs per block, loopback"
        + (f", {workers} verifier process(es) per node" if workers else "")
    )


def submission_text(batch: int) -> str:
    return (
        "1 tx per request (POST /v1/txs)"
        if batch == 1
        else (f"{batch} txs per request (POST /v1/txs/batch)")
    )


def run_bench(
    opts: BenchOptions, progress: ProgressFn | None = None
) -> tuple[dict[str, Any], report.RunRecord]:
    """One ``yulian bench`` run; returns the report (the ``--json`` document) and the record."""
    opts.check()
    machine = describe()
    ceiling = signature_ceiling(opts.validators, opts.suite)
    presign_rate = max(1000.0, min(ceiling.tps, 5000.0))
    workload = make_workload(
        opts.workload,
        accounts=opts.accounts,
        batches=opts.batches,
        seed=opts.seed,
        tag=f"{os.getpid()}-{time.time_ns()}",
    )
    with contextlib.ExitStack() as stack:
        if opts.keep is not None:
            base = Path(opts.keep)
            base.mkdir(parents=True, exist_ok=True)
        else:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="yulian-bench-")))
        session = BenchSession(
            base / "network",
            opts.validators,
            workload,
            suite=opts.suite,
            block_interval_ms=opts.block_interval_ms,
            max_block_txs=opts.max_block_txs,
            progress=progress,
            batch=opts.batch,
            verify_workers=(
                opts.verify_workers
                if opts.verify_workers is not None
                else auto_verify_workers(opts.validators)
            ),
        )
        probe: dict[str, Any] | None = None
        with session:
            sustainable: float | None = None
            if opts.test in ("spike", "stability"):
                if opts.rate is not None:
                    sustainable = opts.rate
                    probe = {"rate": sustainable, "source": "given with --rate"}
                else:
                    rec = session.load(
                        [Segment("probe", "stress", duration=opts.probe_s)], "probe", presign_rate
                    )
                    sustainable = max(1.0, steady_rate(rec))
                    probe = {
                        "rate": sustainable,
                        "source": f"{opts.probe_s:.0f} s stress probe",
                        "probe_txs": sum(1 for c in rec.committed if not math.isnan(c)),
                    }
            segments, load_text = plan(opts, sustainable)
            label = f"{opts.workload}, {opts.validators} validators, {opts.test or 'run'}"
            record = session.load(segments, label, presign_rate)
            convergence = session.convergence()
        session.fill_receipts()
        summary = report.summarise(
            record,
            ceiling=ceiling.to_dict(),
            machine=machine,
            test=opts.test,
            extra={
                "network_text": network_text(opts.validators, session),
                "load_text": load_text + "; " + submission_text(opts.batch),
                "batch": opts.batch,
                "verify_workers": session.net.verify_workers,
                "convergence": convergence,
                "probe": probe,
                "setup_s": round(session.setup_s, 2),
                "state_keys": workload.state_keys(),
                "suite": opts.suite,
                "kept": str(base) if opts.keep is not None else None,
            },
        )
        summary["verdict"]["checks"]["nodes_agree"] = bool(convergence["agree"])
        summary["verdict"]["passed"] = all(summary["verdict"]["checks"].values())
    return summary, record


class RichProgress:
    """A rich progress bar fed by the driver's progress reports (on stderr)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.progress.add_task("starting", total=None, info="")

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def __call__(self, s: dict[str, Any]) -> None:
        if s.get("setup"):
            self.progress.update(self.task, description=s["phase"], total=None, info="")
            return
        if s.get("planned_s"):
            total, done = float(s["planned_s"]), min(float(s["elapsed"]), float(s["planned_s"]))
        else:
            total, done = float(s["planned_txs"]), float(s["committed"])
        self.progress.update(
            self.task,
            description=f"bench: {s['phase']}",
            total=total,
            completed=done,
            info=f"sent {s['submitted']:,} committed {s['committed']:,} ({s['tps']:,.0f} tx/s)",
        )


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit`` while a run lasts, so that ``finally`` stops the
    network's processes also when the bench itself is terminated."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_command(
    *,
    validators: int = DEFAULT_VALIDATORS,
    workload: str = "evidence",
    txs: int | None = None,
    duration: float | None = None,
    rate: float | None = None,
    clients: int | None = None,
    test: str | None = None,
    suite: str = "standard",
    json_path: Path | None = None,
    plot_path: Path | None = None,
    micro: bool = False,
    scale: str | None = None,
    keep: Path | None = None,
    accounts: int = 10_000,
    block_interval_ms: int | None = None,
    max_block_txs: int | None = None,
    full: bool = False,
    progress: bool = True,
    batch: int = 1,
    verify_workers: int | None = None,
) -> int:
    """What ``yulian bench`` does with its options; returns the exit code (1 on a failed
    verdict or a bad option)."""
    from rich.console import Console

    console = Console() if sys.stdout.isatty() else Console(width=120)
    err = Console(stderr=True)
    try:
        if micro:
            from yulian.bench import micro as micro_mod

            results = micro_mod.run_micro(
                workloads=[workload] if workload != "all" else list(WORKLOADS),
                txs=txs or micro_mod.DEFAULT_TXS,
            )
            micro_mod.render(results, console)
            if json_path is not None:
                report.write_json(results, json_path)
            return 0
        if scale is not None:
            from yulian.bench import scale as scale_mod

            sizes = scale_mod.FULL if full else scale_mod.DEFAULTS
            sizes = dataclasses.replace(
                sizes,
                validators=validators,
                max_block_txs=max_block_txs,
                block_interval_ms=block_interval_ms,
                batch=batch,
                verify_workers=verify_workers,
            )
            if txs is not None:
                sizes = dataclasses.replace(sizes, txs_per_point=txs)
            if duration is not None:
                sizes = dataclasses.replace(sizes, load_point_s=duration)
            return scale_mod.run_scale(
                scale,
                workload=workload,
                json_path=json_path,
                plot_path=plot_path,
                progress=progress,
                console=console,
                sizes=sizes,
                keep=keep,
            )
        opts = BenchOptions(
            validators=validators,
            workload=workload,
            txs=txs,
            duration=duration,
            rate=rate,
            clients=clients,
            test=test,
            suite=suite,
            block_interval_ms=block_interval_ms,
            max_block_txs=max_block_txs,
            accounts=accounts,
            keep=keep,
            json_path=json_path,
            plot_path=plot_path,
            progress=progress,
            batch=batch,
            verify_workers=verify_workers,
        )
        opts.check()
    except ValueError as e:
        err.print(f"[bold red]error:[/] {e}", highlight=False)
        return 2
    use_bar = progress and sys.stderr.isatty()
    with contextlib.ExitStack() as stack:
        stack.enter_context(sigterm_as_exit())
        bar = stack.enter_context(RichProgress()) if use_bar else None
        summary, _ = run_bench(opts, bar)
    report.render(summary, console)
    if json_path is not None:
        report.write_json(summary, json_path)
        console.print(f"report written to {json_path}")
    if plot_path is not None:
        report.plot([summary], plot_path)
        console.print(f"plot written to {plot_path}")
    return 0 if summary["verdict"]["passed"] else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="yulian bench",
        description="Benchmark a real Yulian network on loopback (see docs/benchmarks.md).",
    )
    p.add_argument("--validators", type=int, default=DEFAULT_VALIDATORS)
    p.add_argument("--workload", default="evidence", choices=[*WORKLOADS, "all"])
    p.add_argument("--txs", type=int)
    p.add_argument("--duration", type=float, help="seconds")
    load = p.add_mutually_exclusive_group()
    load.add_argument("--rate", type=float, help="open loop: offered tx/s")
    load.add_argument("--clients", type=int, help="closed loop: concurrent clients")
    p.add_argument("--test", choices=TESTS)
    p.add_argument("--suite", default="standard")
    p.add_argument("--json", dest="json_path", type=Path)
    p.add_argument("--plot", dest="plot_path", type=Path)
    p.add_argument("--micro", action="store_true", help="per-node micro-benchmarks only")
    p.add_argument("--scale", choices=["validators", "load", "state", "all"])
    p.add_argument("--full", action="store_true", help="--scale: the full sizes (1M keys, ...)")
    p.add_argument("--keep", type=Path, help="keep the network (and logs) under this directory")
    p.add_argument("--accounts", type=int, default=10_000, help="transfer: accounts (keys)")
    p.add_argument("--block-interval-ms", type=int, help="genesis block interval")
    p.add_argument("--max-block-txs", type=int, help="genesis: most txs per block")
    p.add_argument(
        "--batch", type=int, default=1, help="txs per request (more than 1: POST /v1/txs/batch)"
    )
    p.add_argument(
        "--verify-workers",
        type=int,
        help="signature-checking processes per node (default: 1 if the machine has 2 cores "
        "per validator, else 0)",
    )
    p.add_argument("--no-progress", dest="progress", action="store_false")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m yulian.bench`` / ``bench/*.py``: the same options as ``yulian bench``."""
    args = build_parser().parse_args(argv)
    return run_command(**vars(args))
