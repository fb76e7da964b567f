"""Introduction: ``python -m yulian.sim`` — run a seeded campaign, print a summary, replay seeds.

Examples::

    python -m yulian.sim --validators 4 --seeds 10000 --heights 100 --jobs 2
    python -m yulian.sim --validators 7 --seeds 200 --byzantine 2
    python -m yulian.sim --validators 4 --seeds 1000 --heights 20 --workload mixed --byzantine 1
    python -m yulian.sim --governance --validators 4 --seeds 10000 --heights 20 --jobs 2
    python -m yulian.sim --validators 4 --start-seed 13 --seeds 1 --heights 20 --trace
    python -m yulian.sim --regressions src/yulian/sim/regressions.txt

Every run prints its seed and trace hash (``--quiet``: failures only); every failing seed prints
the command that replays it. The exit status is 1 when any seed violated an invariant, 0
otherwise. ``--jobs`` runs seeds in worker processes (each seed is independent).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shlex
import statistics
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from yulian.sim.cluster import run_job
from yulian.sim.config import BYZANTINE_MODES, FAULTS, WORKLOADS, RunResult, SimConfig
from yulian.sim.coverage import Coverage
from yulian.sim.invariants import SAFETY
from yulian.sim.planted import PLANTED_BUGS, REPLICA_BUGS
from yulian.sim.scenarios import SCENARIOS

REGRESSIONS = Path(__file__).with_name("regressions.txt")
MAX_SEEDS = 10_000_000
PLANTED = PLANTED_BUGS


def _names(text: str, known: Sequence[str], what: str) -> frozenset[str]:
    if text == "all":
        return frozenset(known)
    if text in ("none", ""):
        return frozenset()
    chosen = frozenset(x.strip() for x in text.split(",") if x.strip())
    unknown = sorted(chosen - set(known))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {what} {unknown}; known: {sorted(known)}")
    return chosen


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m yulian.sim",
        description="Run the real replicas under seeded faults and check the invariants.",
    )
    p.add_argument("--validators", type=int, default=4)
    p.add_argument("--seeds", type=int, default=100, help="how many seeds to run")
    p.add_argument("--start-seed", type=int, default=0)
    p.add_argument("--heights", type=int, default=100, help="every honest node reaches this")
    p.add_argument("--faults", default="all", help=f"all, none or a list of {','.join(FAULTS)}")
    p.add_argument("--byzantine", type=int, default=0, help="Byzantine validators")
    p.add_argument("--byzantine-modes", default="all", help=",".join(BYZANTINE_MODES))
    p.add_argument("--scenario", default="chaos", choices=sorted(SCENARIOS))
    p.add_argument(
        "--workload",
        default="small",
        choices=WORKLOADS,
        help="the clients' txs: small ones, large ones (near max_tx_bytes, bursts that fill "
        "blocks to their byte and count limits), or a mix",
    )
    p.add_argument(
        "--governance",
        action="store_true",
        help="the governance scenario: chaos while org admins add a spare node to the "
        "validator set, change powers and remove it (--scenario governance --spares 1)",
    )
    p.add_argument(
        "--spares",
        type=int,
        default=None,
        help="member nodes outside the genesis validator set (default: 1 with --governance)",
    )
    p.add_argument(
        "--planted",
        default="none",
        help=f"planted bugs to switch on: {','.join(sorted(PLANTED))}",
    )
    p.add_argument("--max-sim-ms", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="worker processes")
    p.add_argument("--quiet", action="store_true", help="print failing seeds and the summary")
    p.add_argument("--trace", action="store_true", help="print the trace of each seed")
    p.add_argument(
        "--regressions",
        type=Path,
        nargs="?",
        const=REGRESSIONS,
        default=None,
        help="run the pinned seeds of this file instead (default: the shipped list)",
    )
    return p


def config_from(args: argparse.Namespace) -> SimConfig:
    bugs = _names(args.planted, sorted(PLANTED), "planted bugs")
    scenario = "governance" if args.governance else args.scenario
    spares = args.spares if args.spares is not None else int(scenario == "governance")
    if scenario == "governance" and spares < 1:
        raise argparse.ArgumentTypeError("the governance scenario needs --spares >= 1")
    if len(bugs & REPLICA_BUGS) > 1:
        raise argparse.ArgumentTypeError(f"at most one of {sorted(REPLICA_BUGS)}")
    return SimConfig(
        validators=args.validators,
        heights=args.heights,
        faults=_names(args.faults, FAULTS, "faults"),
        byzantine=args.byzantine,
        byzantine_modes=tuple(sorted(_names(args.byzantine_modes, BYZANTINE_MODES, "modes"))),
        scenario=scenario,
        planted=bugs,
        workload=args.workload,
        spares=spares,
        max_sim_ms=args.max_sim_ms,
    )


@dataclass(frozen=True)
class Pinned:
    config: SimConfig
    seed: int
    why: str
    known: bool  # an open bug: the seed must still fail
    line: int


def load_regressions(path: Path = REGRESSIONS) -> list[Pinned]:
    """The pinned seeds: one replay command's arguments per line, ``#`` starts a comment, a
    ``known:`` prefix marks an open bug (see the file's header)."""
    pinned = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        text, _, why = raw.partition("#")
        text = text.strip()
        if not text:
            continue
        known = text.startswith("known:")
        args = parser().parse_args(shlex.split(text.removeprefix("known:")))
        if args.seeds != 1:
            raise ValueError(f"{path}:{number}: a pinned line names one seed (--seeds 1)")
        pinned.append(Pinned(config_from(args), args.start_seed, why.strip(), known, number))
    return pinned


def _traced(job: tuple[SimConfig, int]) -> tuple[RunResult, list[str]]:
    from yulian.sim.cluster import Cluster

    cluster = Cluster(job[0], job[1], keep_trace=True)
    result = cluster.run()
    return result, cluster.trace_lines or []


def run_jobs(jobs: Sequence[tuple[SimConfig, int]], processes: int) -> Iterator[RunResult]:
    if processes <= 1 or len(jobs) <= 1:
        yield from map(run_job, jobs)
        return
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        yield from pool.imap(run_job, jobs, chunksize=1)


def line(r: RunResult) -> str:
    heights = r.heights.values()
    status = "ok" if r.ok else "VIOLATION"
    spare = f"  changes {len(r.governance)} spare signed {r.spare_signed:>3}" if r.spares else ""
    return (
        f"seed {r.seed:>6}  {status:<9}  trace {r.trace_hash[:16]}  schedule "
        f"{r.schedule_hash[:8]}  heights "
        f"{min(heights)}..{max(heights)}  sim {r.sim_ms / 1000:8.1f} s  events {r.events:>8}  "
        f"wall {r.wall_s:6.2f} s{spare}"
    )


def summary(results: Sequence[RunResult], wall_s: float) -> str:
    failing = [r for r in results if not r.ok]
    safety = sum(1 for r in failing if any(v.kind in SAFETY for v in r.violations))
    lows = [min(r.heights.values()) for r in results]
    sims = [r.sim_ms / 1000 for r in results]
    rows = [
        ("seeds run", f"{len(results)}"),
        (
            "seeds with violations",
            f"{len(failing)} ({safety} safety, {len(failing) - safety} liveness or run)",
        ),
        (
            "lowest honest height",
            f"min {min(lows)}  median {statistics.median(lows):g}  max {max(lows)}",
        ),
        ("simulated time", f"total {sum(sims):.0f} s  mean {statistics.mean(sims):.1f} s"),
        (
            "wall time",
            f"{wall_s:.1f} s  ({wall_s / len(results):.2f} s per seed, "
            f"{sum(r.wall_s for r in results):.1f} s of runs)",
        ),
        ("events", f"total {sum(r.events for r in results)}"),
        (
            "txs",
            f"{sum(r.txs_submitted for r in results)} client txs admitted, "
            f"{sum(r.txs_acked for r in results)} committed (with evidence txs)",
        ),
        ("crashes", f"{sum(r.crashes for r in results)}"),
        (
            "messages",
            f"{sum(r.messages for r in results)} sent, {sum(r.dropped for r in results)} dropped",
        ),
        ("coverage", _coverage(results)),
        ("testnet", results[0].testnet),
    ]
    if any(r.spares for r in results):
        signed = [r.spare_signed for r in results]
        rows.insert(
            -1,
            (
                "governance",
                f"{sum(len(r.governance) for r in results)} validator-set changes applied; a "
                f"spare signed a commit certificate in {sum(1 for n in signed if n)} of "
                f"{len(results)} seeds ({sum(signed)} heights)",
            ),
        )
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def _coverage(results: Sequence[RunResult]) -> str:
    total = Coverage()
    for r in results:
        c = r.coverage
        total.blocks += c.blocks
        total.full_bytes += c.full_bytes
        total.full_count += c.full_count
        total.largest_block = max(total.largest_block, c.largest_block)
        total.synced_blocks += c.synced_blocks
        total.sync_lies += c.sync_lies
        total.sync_skips += c.sync_skips
    return total.summary()


def main(argv: Iterable[str] | None = None) -> int:
    args = parser().parse_args(list(argv) if argv is not None else None)
    known: set[int] = set()
    if args.regressions is not None:
        pinned = load_regressions(args.regressions)
        jobs = [(p.config, p.seed) for p in pinned]
        known = {i for i, p in enumerate(pinned) if p.known}
    else:
        if not 1 <= args.seeds <= MAX_SEEDS:
            raise SystemExit(f"--seeds must be in 1..{MAX_SEEDS}")
        try:
            config = config_from(args)
        except argparse.ArgumentTypeError as e:
            parser().error(str(e))
        jobs = [(config, args.start_seed + i) for i in range(args.seeds)]
    started = time.perf_counter()
    results: list[RunResult] = []
    if args.trace:
        for job in jobs:
            result, trace = _traced(job)
            print("\n".join(trace))
            results.append(result)
            print(line(result), flush=True)
    else:
        for index, result in enumerate(run_jobs(jobs, args.jobs)):
            results.append(result)
            tag = "  (known open bug)" if index in known else ""
            if not args.quiet or not result.ok:
                print(line(result) + tag, flush=True)
            if not result.ok:
                for v in result.violations:
                    print(f"    {v}")
                print(f"    replay: {result.replay_command()}", flush=True)
    print()
    print(summary(results, time.perf_counter() - started))
    failing = [r for i, r in enumerate(results) if not r.ok and i not in known]
    fixed = [r for i, r in enumerate(results) if r.ok and i in known]
    if failing:
        print("\nfailing seeds (replay each with):")
        for r in failing:
            print(f"  {r.replay_command()}")
    if fixed:
        print("\nknown bugs that no longer fail (update regressions.txt):")
        for r in fixed:
            print(f"  {r.replay_command()}")
    return 1 if failing or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
