"""Introduction: ``yulian bench`` — the command line of ``yulian.bench`` (docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    app.command()(bench)


def bench(
    validators: int = typer.Option(4, "--validators", help="validator processes"),
    workload: str = typer.Option(
        "evidence", "--workload", help="evidence|transfer|transfer-hot|trace|noop (all: --micro)"
    ),
    txs: int | None = typer.Option(None, "--txs", help="txs to submit (default 2000)"),
    duration: float | None = typer.Option(None, "--duration", help="seconds of load"),
    rate: float | None = typer.Option(None, "--rate", help="open loop: offered tx/s"),
    clients: int | None = typer.Option(None, "--clients", help="closed loop: clients"),
    test: str | None = typer.Option(None, "--test", help="stress|spike|stability"),
    suite: str = typer.Option("standard", "--suite", help="crypto suite: standard or gm"),
    json_path: Path | None = typer.Option(None, "--json", help="write the report as JSON"),
    plot_path: Path | None = typer.Option(None, "--plot", help="write a PNG over time"),
    micro: bool = typer.Option(False, "--micro", help="per-node micro-benchmarks only"),
    scale: str | None = typer.Option(None, "--scale", help="validators|load|state|all"),
    full: bool = typer.Option(False, "--full", help="--scale: the full sizes (1M keys, ...)"),
    keep: Path | None = typer.Option(None, "--keep", help="keep the network under DIR"),
    accounts: int = typer.Option(10_000, "--accounts", help="transfer: accounts (keys)"),
    block_interval_ms: int | None = typer.Option(None, "--block-interval-ms"),
    max_block_txs: int | None = typer.Option(None, "--max-block-txs"),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    batch: int = typer.Option(
        1, "--batch", help="txs per request (more than 1: POST /v1/txs/batch)"
    ),
    verify_workers: int | None = typer.Option(
        None,
        "--verify-workers",
        help="signature-checking processes per node (default: 1 with 2 cores per validator)",
    ),
) -> None:
    """Benchmark a real network on loopback; one table (docs/benchmarks.md)."""
    from yulian.bench.runner import run_command

    raise typer.Exit(
        run_command(
            validators=validators,
            workload=workload,
            txs=txs,
            duration=duration,
            rate=rate,
            clients=clients,
            test=test,
            suite=suite,
            json_path=json_path,
            plot_path=plot_path,
            micro=micro,
            scale=scale,
            full=full,
            keep=keep,
            accounts=accounts,
            block_interval_ms=block_interval_ms,
            max_block_txs=max_block_txs,
            progress=progress,
            batch=batch,
            verify_workers=verify_workers,
        )
    )
