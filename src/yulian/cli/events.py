"""Introduction: ``yulian events`` — committed events, one JSON object per line.

Without ``--follow`` it prints one page of the event index (``GET /v1/events``) and, on
stderr, the cursor to continue after. With ``--follow`` it prints the page's events and then
every new one as it commits, through the event stream (``Client.subscribe``), which resumes
by itself across dropped connections and node restarts; ``--blocks`` and ``--tx`` add block
and tx messages. The filters are the API's: contract, event name, key prefix (text or hex) and
payload prefix (hex). Ctrl-C stops following.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from yulian.cli.common import NETWORK_OPT, URL_OPT, call, connect, fail, tell


def register(app: typer.Typer) -> None:
    app.command("events")(events)


def events(
    contract: str | None = typer.Option(None, "--contract", help="only this contract's events"),
    name: str | None = typer.Option(None, "--name", help="only events of this name"),
    key_prefix: str = typer.Option("", "--key-prefix", help="events whose key starts so (text)"),
    key_prefix_hex: str = typer.Option("", "--key-prefix-hex", help="the same, in hex"),
    payload_prefix: str = typer.Option(
        "", "--payload-prefix", help="events whose payload's msgpack starts so (hex)"
    ),
    after: str | None = typer.Option(None, "--after", help="start after this cursor (h.t.e)"),
    from_height: int | None = typer.Option(None, "--from-height", help="start at this block"),
    limit: int = typer.Option(100, "--limit", help="events in the page (without --follow)"),
    follow: bool = typer.Option(False, "--follow", "-f", help="keep printing new events"),
    blocks: bool = typer.Option(False, "--blocks", help="with --follow: a line per block"),
    tx: list[str] = typer.Option([], "--tx", help="with --follow: a line when this tx commits"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """Print committed events as JSON lines (and follow new ones with --follow)."""
    if key_prefix and key_prefix_hex:
        fail("give --key-prefix or --key-prefix-hex, not both")
    if after is not None and from_height is not None:
        fail("give --after or --from-height, not both")
    if (blocks or tx) and not follow:
        fail("--blocks and --tx need --follow (the page lists events only)")
    try:
        key = bytes.fromhex(key_prefix_hex) if key_prefix_hex else key_prefix.encode("utf-8")
        payload = bytes.fromhex(payload_prefix)
    except ValueError as e:
        fail(f"a hex prefix: {e}")
    client = connect(network, url)
    if not follow:
        page = call(
            lambda: client.events(
                contract=contract,
                name=name,
                key_prefix=key,
                payload_prefix=payload,
                after=after,
                from_height=from_height,
                limit=limit,
            )
        )
        for event in page["events"]:
            _line(event)
        if page["next_after"] is not None and not page["exhausted"]:
            tell(f"more after {page['next_after']} (--after {page['next_after']})")
        return
    _follow(client, contract, name, key, payload, after, from_height, blocks, tx)


def _follow(
    client: Any,
    contract: str | None,
    name: str | None,
    key: bytes,
    payload: bytes,
    after: str | None,
    from_height: int | None,
    blocks: bool,
    txs: list[str],
) -> None:
    from yulian.sdk.events import StreamClosed, event_filter

    filtered = (contract, name) != (None, None) or key or payload
    filters = (
        [event_filter(contract, name, key, payload)] if filtered or not (blocks or txs) else []
    )
    subscription = client.subscribe(
        filters=filters, blocks=blocks, txs=txs, after=after, from_height=from_height
    )
    try:
        for message in subscription:
            _line(message)
    except KeyboardInterrupt:
        pass
    except StreamClosed as e:
        fail(str(e))
    finally:
        subscription.close()
        if subscription.cursor is not None:
            tell(f"stopped after {subscription.cursor} (--after {subscription.cursor})")


def _line(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n")
    sys.stdout.flush()
