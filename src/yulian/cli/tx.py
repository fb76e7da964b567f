"""Introduction: ``yulian tx send`` and ``yulian query`` — write and read contract calls
through the SDK ``Client`` of a node that serves the network (``cli.common.connect``)."""

from __future__ import annotations

from pathlib import Path

import typer

from yulian.cli.common import (
    EXIT_REFUSED,
    NETWORK_OPT,
    ORG_OPT,
    URL_OPT,
    USER_OPT,
    call,
    connect,
    fail,
    parse_args_json,
    print_json,
)

tx_app = typer.Typer(help="Send transactions", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tx_app, name="tx")
    app.command()(query)


@tx_app.command("send")
def tx_send(
    contract: str,
    method: str,
    args: str = typer.Argument("[]", help="JSON array of arguments"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
    wait: bool = typer.Option(True, "--wait/--no-wait", help="wait until it is committed"),
) -> None:
    """Sign and submit CONTRACT.METHOD(*ARGS); print the result with its receipt. Exits 3 if
    the tx is committed but reverted, 1 if it was not committed in time."""
    arguments = parse_args_json(args)
    client = connect(network, url, org=org, user=user)
    result = call(lambda: client.submit(contract, method, arguments, wait=wait))
    print_json(result)
    if not wait:
        return
    receipt = result.get("receipt")
    if result.get("status") != "committed" or not isinstance(receipt, dict):
        fail(
            f"tx {result.get('id')} is {result.get('status')}: not committed in time; "
            f"look it up later with `yulian receipt export {result.get('id')}`"
        )
    if receipt.get("status") != "ok":
        fail(
            f"tx {result['id']} was committed at height {result.get('height')} but "
            f"{receipt.get('status')}: {receipt.get('message')}",
            EXIT_REFUSED,
        )


def query(
    contract: str,
    method: str,
    args: str = typer.Argument("[]", help="JSON array of arguments"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str | None = typer.Option(
        None, "--org", help="sign the request as a member of this organisation"
    ),
    user: str = USER_OPT,
) -> None:
    """Read-only call of CONTRACT.METHOD(*ARGS) on the committed state; with --org, as that
    member (a signed request: the contract sees the caller as ctx.sender)."""
    arguments = parse_args_json(args)
    client = connect(network, url, org=org, user=user if org is not None else None)
    print_json(call(lambda: client.query(contract, method, arguments)))
