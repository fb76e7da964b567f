"""Introduction: ``yulian trace`` — 溯源: deploy the trace contract, create and follow product
batches, and make the QR code of a batch's public trace page (``yulian.apps.trace``).

Every command signs as ``--org``/``--user`` of the network directory (reads need no identity)
and prints one readable line, or the chain's answer as JSON with ``--json``. A refusal by the
contract is an ``error:`` line with its message and exit code 3.

The QR code (``qr``) encodes the URL of the batch's public page in the explorer
(``/explorer/trace.html?batch=ID``), made with ``segno`` (decision 0065): as SVG or PNG for a
label, or drawn in the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from yulian.cli.common import (
    ADMIN_OPT,
    EXIT_REFUSED,
    NETWORK_OPT,
    ORG_OPT,
    URL_OPT,
    USER_OPT,
    call,
    connect,
    fail,
    node_url,
    print_json,
    require_network,
    say,
)

trace_app = typer.Typer(
    help="溯源: product batches, their signed events and custody", no_args_is_help=True
)
JSON_OPT = typer.Option(False, "--json", help="print the chain's answer as JSON")
DATA_OPT = typer.Option(None, "--data", "-d", help="KEY=VALUE recorded with the event (repeat)")


def register(app: typer.Typer) -> None:
    app.add_typer(trace_app, name="trace")


def _app(network: Path | None, url: str | None, org: str | None, user: str | None) -> Any:
    from yulian.apps.trace import TraceApp

    return TraceApp(connect(network, url, org=org, user=user))


def _act(fn: Callable[[], Any], as_json: bool, line: Callable[[Any], str]) -> None:
    """Run an application call: its answer as a line (or JSON); a refusal exits with 3."""
    from yulian.apps.shared import AppError

    try:
        value = call(fn)
    except AppError as e:
        fail(f"{e.contract}.{e.method} refused: {e.message}", EXIT_REFUSED)
    except (TypeError, ValueError) as e:
        fail(str(e))
    if as_json:
        print_json(value)
    else:
        say(line(value))


def pairs(items: list[str] | None, what: str) -> dict[str, str]:
    """``["k=v", ...]`` as a dict; a malformed item fails naming ``what``."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            fail(f"{what} must be KEY=VALUE, got {item!r}")
        out[key] = value
    return out


def _data(items: list[str] | None) -> dict[str, Any]:
    """Event data: integers stay integers (a temperature, a count), the rest are strings."""
    raw = pairs(items, "--data")
    return {k: int(v) if v.lstrip("-").isdigit() else v for k, v in raw.items()}


@trace_app.command("deploy")
def trace_deploy(
    governor: list[str] = typer.Option(
        None, "--governor", help="organisation whose admins grant roles (repeat) [default: org1]"
    ),
    role: list[str] = typer.Option(None, "--role", help="ROLE=ORG held from the start (repeat)"),
    template: list[str] = typer.Option(
        None, "--template", help="a shipped template to define: tea, produce, elevator, relic"
    ),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """Deploy the trace contract through the lifecycle (the local admins propose and approve)
    and define the shipped templates named."""
    from yulian.apps.deploy import DeployError, deploy_with_local_admins
    from yulian.apps.trace import CONTRACT_NAME, TEMPLATES, TRACE_VERSION, TraceApp, contract_source

    governors = governor or ["org1"]
    founding: dict[str, list[str]] = {}
    for name, org in pairs(role, "--role").items():
        founding.setdefault(name, []).append(org)
    unknown = [t for t in template or [] if t not in TEMPLATES]
    if unknown:
        fail(f"no template {', '.join(unknown)}; shipped: {', '.join(TEMPLATES)}")
    root = require_network(network)
    node = node_url(root, url)
    try:
        source = contract_source(governors, founding)
        status = call(
            lambda: deploy_with_local_admins(
                root, [node], CONTRACT_NAME, TRACE_VERSION, source, log=say
            )
        )
    except (DeployError, OSError, KeyError, ValueError) as e:
        fail(str(e))
    if template:
        admin = TraceApp(connect(root, node, org=governors[0], user="admin"))
        _act(
            lambda: admin.install_templates(template),
            False,
            lambda roles: f"templates {', '.join(template)} defined; roles {', '.join(roles)}",
        )
    print_json(status)


@trace_app.command("grant")
def trace_grant(
    to_org: str,
    role: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Grant organisation TO_ORG a ROLE (an admin of a governing organisation signs)."""
    app = _app(network, url, org, user)
    _act(lambda: app.grant_role(to_org, role), as_json, lambda _: f"{to_org} holds {role}")


@trace_app.command("create")
def trace_create(
    batch: str,
    template: str = typer.Option(..., "--template", help="tea, produce, elevator, relic, ..."),
    product: str = typer.Option(..., "--product", help="what the batch is"),
    quantity: str = typer.Option(..., "--quantity", help="a decimal, e.g. 1200 or 12.5"),
    unit: str = typer.Option(..., "--unit", help="kg, box, unit, ..."),
    data: list[str] = DATA_OPT,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Create BATCH in your organisation's custody."""
    app = _app(network, url, org, user)
    _act(
        lambda: app.create(batch, template, product, quantity, unit, _data(data)),
        as_json,
        lambda b: (
            f"batch {b['id']}: {b['quantity']} {b['unit']} of {b['product']}, "
            f"custodian {b['custodian']}"
        ),
    )


@trace_app.command("record")
def trace_record(
    batch: str,
    kind: str,
    data: list[str] = DATA_OPT,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Record an event of KIND (harvested, processed, certified, ...) on BATCH."""
    app = _app(network, url, org, user)
    _act(
        lambda: app.record(batch, kind, _data(data)),
        as_json,
        lambda b: (
            f"{batch} event {b['events'] - 1}: {kind} recorded by {org}; the batch is {b['status']}"
        ),
    )


@trace_app.command("hand-over")
def trace_hand_over(
    batch: str,
    to_org: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Offer custody of BATCH to TO_ORG (it moves when TO_ORG takes it over)."""
    app = _app(network, url, org, user)
    _act(lambda: app.hand_over(batch, to_org), as_json, lambda _: f"{batch} pending to {to_org}")


@trace_app.command("take-over")
def trace_take_over(
    batch: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Take custody of BATCH, handed over to your organisation."""
    app = _app(network, url, org, user)
    _act(lambda: app.take_over(batch), as_json, lambda _: f"{batch} is now held by {org}")


@trace_app.command("cancel-hand-over")
def trace_cancel(
    batch: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Drop the pending hand-over of BATCH."""
    app = _app(network, url, org, user)
    _act(lambda: app.cancel_hand_over(batch), as_json, lambda _: f"{batch}: hand-over cancelled")


@trace_app.command("split")
def trace_split(
    batch: str,
    parts: list[str] = typer.Argument(..., help="NEW_ID=QUANTITY, 2..16 summing to the batch"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Split BATCH into parts whose quantities sum exactly to it."""
    app = _app(network, url, org, user)
    _act(
        lambda: app.split(batch, pairs(parts, "a part")),
        as_json,
        lambda ids: f"{batch} split into {', '.join(ids)}",
    )


@trace_app.command("merge")
def trace_merge(
    new_batch: str,
    batches: list[str] = typer.Argument(..., help="2..16 batches of one template and product"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Merge BATCHES (all in your custody) into NEW_BATCH."""
    app = _app(network, url, org, user)
    _act(
        lambda: app.merge(new_batch, batches),
        as_json,
        lambda b: f"{b['id']}: {b['quantity']} {b['unit']} from {', '.join(b['parents'])}",
    )


@trace_app.command("show")
def trace_show(
    batch: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """What a consumer's scan shows: BATCH, its events, and those of every batch it came from."""
    app = _app(network, url, None, None)
    seen = call(lambda: app.public_trace(batch))
    if as_json:
        print_json(seen)
        return
    for entry in [{"batch": seen["batch"], "events": seen["events"]}, *seen["origins"]]:
        b = entry["batch"]
        say(
            f" {b['quantity']} {b['unit']} of {b['product']} ({b['template']}), {b['status']}, "
            f"custodian {b['custodian']}",
            lead=b["id"],
        )
        for e in entry["events"]:
            shown = ", ".join(f"{k}={v}" for k, v in e["data"].items())
            say(
                f"  {e['n']:>3}  height {e['height']:<6} {e['kind']:<14} {e['org']} "
                f"({e['role'] or '-'}) {shown}"
            )
    if not seen["complete"]:
        say("(the lineage goes further back than this page reads)")


@trace_app.command("qr")
def trace_qr(
    batch: str,
    out: Path | None = typer.Option(
        None, "--out", "-o", help="write the QR code to a .svg or .png file (default: terminal)"
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="the public address of the node [default: the node of --network]"
    ),
    scale: int = typer.Option(8, "--scale", help="pixels per module in a PNG or SVG"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """The QR code of BATCH's public trace page (for its label), and the page's URL."""
    import segno

    from yulian.apps.trace import trace_page_url

    if base_url is None:
        base_url = node_url(require_network(network), url)
        app = _app(network, base_url, None, None)
        call(lambda: app.batch(batch))  # an unknown batch fails here, before any label
    page = trace_page_url(base_url, batch)
    code = segno.make(page, error="m")
    if out is None:
        code.terminal(compact=True)
    else:
        if out.suffix.lower() not in (".svg", ".png"):
            fail(f"{out}: write the QR code to a .svg or .png file")
        try:
            code.save(str(out), scale=max(1, scale), border=4)
        except OSError as e:
            fail(f"cannot write {out}: {e}")
        say(f"QR code of {page} written to {out}")
        return
    say(page)
