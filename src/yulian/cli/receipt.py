"""Introduction: ``yulian receipt export`` (a committed tx with its proof, from a node) and
``yulian verify`` (that document checked offline against the genesis alone)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from yulian.cli.common import (
    EXIT_UNVERIFIED,
    GENESIS_OPT,
    NETWORK_OPT,
    URL_OPT,
    call,
    connect,
    fail,
    genesis_path,
    load_genesis_file,
    load_json,
    say,
)

receipt_app = typer.Typer(help="Export receipts with their proofs", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(receipt_app, name="receipt")
    app.command()(verify)


@receipt_app.command("export")
def receipt_export(
    tx_id: str,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    out: Path | None = typer.Option(None, "--out", "-o", help="file to write (default stdout)"),
) -> None:
    """Write the receipt of TX_ID with its proof, for offline `yulian verify`."""
    client = connect(network, url)
    doc = call(lambda: client.export_receipt(tx_id))
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror or e}")
    say(f"wrote {out}")


def verify(
    receipt: Path, genesis: Path | None = GENESIS_OPT, network: Path | None = NETWORK_OPT
) -> None:
    """Verify an exported receipt offline: signature, certificate, proofs, commit certificate."""
    from yulian.sdk.verify import VerificationError, verify_receipt

    g = load_genesis_file(genesis_path(genesis, network))
    try:
        verified = verify_receipt(load_json(receipt), g)
    except VerificationError as e:
        fail(f"verification failed: {e}", EXIT_UNVERIFIED)
    s = verified.summary
    say(
        f": tx {s['tx_id']} ({s['contract']}.{s['method']}) "
        f"committed at height {s['height']}, status {s['status']}, signed by "
        f"{s['signer']['org']}/{s['signer']['name']}, certified by "
        f"{', '.join(s['commit_signers'])}",
        lead="verified",
        style="bold green",
    )
