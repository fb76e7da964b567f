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
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

from yulian.cli.apps.common import (
    Deployed,
    Deployment,
    Session,
    app_client,
    deploy_command,
    pairs,
    reading,
    signed,
)
from yulian.cli.common import ADMIN_OPT, call, fail, node_url, print_json, require_network, say

trace_app = typer.Typer(
    help="溯源: product batches, their signed events and custody", no_args_is_help=True
)
_trace = app_client("yulian.apps.trace", "TraceApp")
DATA_OPT = typer.Option(None, "--data", "-d", help="KEY=VALUE recorded with the event (repeat)")


def register(app: typer.Typer) -> None:
    app.add_typer(trace_app, name="trace")


def _deployment() -> Deployment:
    from yulian.apps.trace import CONTRACT_NAME, TRACE_VERSION, contract_source

    return Deployment("trace", TRACE_VERSION, {CONTRACT_NAME: contract_source})


def _data(items: list[str] | None) -> dict[str, Any]:
    """Event data: integers stay integers (a temperature, a count), the rest are strings."""
    raw = pairs(items, "--data")
    return {k: int(v) if v.lstrip("-").isdigit() else v for k, v in raw.items()}


@deploy_command(trace_app, _deployment)
def trace_deploy(
    deploy: Callable[[], Deployed],
    template: list[str] = typer.Option(
        None, "--template", help="a shipped template to define: tea, produce, elevator, relic"
    ),
) -> None:
    """Deploy the trace contract through the lifecycle (the local admins propose and approve)
    and define the shipped templates named."""
    from yulian.apps.trace import TEMPLATES

    unknown = [t for t in template or [] if t not in TEMPLATES]
    if unknown:
        fail(f"no template {', '.join(unknown)}; shipped: {', '.join(TEMPLATES)}")
    deployed = deploy()
    if template:
        deployed.admin(_trace).act(
            lambda app: app.install_templates(template),
            lambda roles: f"templates {', '.join(template)} defined; roles {', '.join(roles)}",
        )
    print_json(deployed.status)


@signed(trace_app, "grant", _trace, user=ADMIN_OPT)
def trace_grant(session: Session, to_org: str, role: str) -> None:
    """Grant organisation TO_ORG a ROLE (an admin of a governing organisation signs)."""
    session.act(lambda app: app.grant_role(to_org, role), lambda _: f"{to_org} holds {role}")


@signed(trace_app, "create", _trace)
def trace_create(
    session: Session,
    batch: str,
    template: str = typer.Option(..., "--template", help="tea, produce, elevator, relic, ..."),
    product: str = typer.Option(..., "--product", help="what the batch is"),
    quantity: str = typer.Option(..., "--quantity", help="a decimal, e.g. 1200 or 12.5"),
    unit: str = typer.Option(..., "--unit", help="kg, box, unit, ..."),
    data: list[str] = DATA_OPT,
) -> None:
    """Create BATCH in your organisation's custody."""
    session.act(
        lambda app: app.create(batch, template, product, quantity, unit, _data(data)),
        lambda b: (
            f"batch {b['id']}: {b['quantity']} {b['unit']} of {b['product']}, "
            f"custodian {b['custodian']}"
        ),
    )


@signed(trace_app, "record", _trace)
def trace_record(session: Session, batch: str, kind: str, data: list[str] = DATA_OPT) -> None:
    """Record an event of KIND (harvested, processed, certified, ...) on BATCH."""
    session.act(
        lambda app: app.record(batch, kind, _data(data)),
        lambda b: (
            f"{batch} event {b['events'] - 1}: {kind} recorded by {session.org}; "
            f"the batch is {b['status']}"
        ),
    )


@signed(trace_app, "hand-over", _trace)
def trace_hand_over(session: Session, batch: str, to_org: str) -> None:
    """Offer custody of BATCH to TO_ORG (it moves when TO_ORG takes it over)."""
    session.act(lambda app: app.hand_over(batch, to_org), lambda _: f"{batch} pending to {to_org}")


@signed(trace_app, "take-over", _trace)
def trace_take_over(session: Session, batch: str) -> None:
    """Take custody of BATCH, handed over to your organisation."""
    session.act(lambda app: app.take_over(batch), lambda _: f"{batch} is now held by {session.org}")


@signed(trace_app, "cancel-hand-over", _trace)
def trace_cancel(session: Session, batch: str) -> None:
    """Drop the pending hand-over of BATCH."""
    session.act(lambda app: app.cancel_hand_over(batch), lambda _: f"{batch}: hand-over cancelled")


@signed(trace_app, "split", _trace)
def trace_split(
    session: Session,
    batch: str,
    parts: list[str] = typer.Argument(..., help="NEW_ID=QUANTITY, 2..16 summing to the batch"),
) -> None:
    """Split BATCH into parts whose quantities sum exactly to it."""
    session.act(
        lambda app: app.split(batch, pairs(parts, "a part")),
        lambda ids: f"{batch} split into {', '.join(ids)}",
    )


@signed(trace_app, "merge", _trace)
def trace_merge(
    session: Session,
    new_batch: str,
    batches: list[str] = typer.Argument(..., help="2..16 batches of one template and product"),
) -> None:
    """Merge BATCHES (all in your custody) into NEW_BATCH."""
    session.act(
        lambda app: app.merge(new_batch, batches),
        lambda b: f"{b['id']}: {b['quantity']} {b['unit']} from {', '.join(b['parents'])}",
    )


@reading(trace_app, "show", _trace)
def trace_show(session: Session, batch: str) -> None:
    """What a consumer's scan shows: BATCH, its events, and those of every batch it came from."""
    app = session.client()
    seen = call(lambda: app.public_trace(batch))
    if session.as_json:
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


@reading(trace_app, "qr", _trace, answers_json=False)
def trace_qr(
    session: Session,
    batch: str,
    out: Path | None = typer.Option(
        None, "--out", "-o", help="write the QR code to a .svg or .png file (default: terminal)"
    ),
    base_url: str | None = typer.Option(
        None, "--base-url", help="the public address of the node [default: the node of --network]"
    ),
    scale: int = typer.Option(8, "--scale", help="pixels per module in a PNG or SVG"),
) -> None:
    """The QR code of BATCH's public trace page (for its label), and the page's URL."""
    import segno

    from yulian.apps.trace import trace_page_url

    if base_url is None:
        base_url = node_url(require_network(session.network), session.url)
        app = replace(session, url=base_url).client()
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
