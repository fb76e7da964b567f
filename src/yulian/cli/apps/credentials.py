"""Introduction: ``yulian credentials`` — 可信身份 attestations issued as salted digests, presented
and verified offline; 电子印章 seals (``credentials seal``); records created, amended and
archived with their history (``credentials records``), through ``yulian.apps.credentials``.

``issue`` writes the holder's presentation (the claims, the salt and the exported receipt of
the issuing tx) to a file; ``verify`` checks one with nothing but the genesis, and with
``--online`` also asks the chain whether it is still valid. Every other command signs as
``--org``/``--user`` (reads need no identity) and prints a readable line, or JSON with
``--json``; a refusal by the contract exits with 3, a presentation that does not verify with 4.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from yulian.cli.apps.common import (
    Deployed,
    Deployment,
    Session,
    act,
    app_client,
    chain_genesis,
    chain_suite,
    deploy_command,
    pairs,
    reading,
    signed,
    verified,
)
from yulian.cli.common import (
    ADMIN_OPT,
    EXIT_UNVERIFIED,
    GENESIS_OPT,
    call,
    fail,
    load_json,
    print_json,
    say,
)

credentials_app = typer.Typer(
    help="可信身份: attestations, presented and verified offline", no_args_is_help=True
)
seal_app = typer.Typer(help="电子印章: seals and who sealed which document", no_args_is_help=True)
records_app = typer.Typer(help="records: create, amend with history, archive", no_args_is_help=True)
credentials_app.add_typer(seal_app, name="seal")
credentials_app.add_typer(records_app, name="records")
DAY_MS = 86_400_000
CLIENTS = {
    "credentials": app_client("yulian.apps.credentials", "Credentials"),
    "eseal": app_client("yulian.apps.credentials", "ESeals"),
    "records": app_client("yulian.apps.credentials", "Records"),
}


def register(app: typer.Typer) -> None:
    app.add_typer(credentials_app, name="credentials")


def _deployment() -> Deployment:
    from yulian.apps.credentials import CREDENTIALS_VERSION, SOURCES, contract_source

    sources = {name: functools.partial(contract_source, name) for name in SOURCES}
    return Deployment("credentials", CREDENTIALS_VERSION, sources)


@deploy_command(credentials_app, _deployment, roles="issuer, archivist", contracts=tuple(CLIENTS))
def credentials_deploy(deploy: Callable[[], Deployed]) -> None:
    """Deploy a credentials contract through the lifecycle (the local admins vote)."""
    print_json(deploy().status)


@signed(credentials_app, "grant", user=ADMIN_OPT)
def credentials_grant(
    session: Session,
    to_org: str,
    role: str = typer.Argument("issuer", help="issuer (credentials) or archivist (records)"),
    contract: str = typer.Option("credentials", "--contract", help="credentials or records"),
) -> None:
    """Grant organisation TO_ORG a ROLE (an admin of a governing organisation signs)."""
    if contract not in ("credentials", "records"):
        fail("--contract is credentials or records (eseal has no roles)")
    session.act(
        lambda app: app.grant_role(to_org, role),
        lambda _: f"{to_org} holds {role}",
        CLIENTS[contract],
    )


@signed(credentials_app, "schema", CLIENTS["credentials"])
def credentials_schema(
    session: Session,
    schema: str,
    fields: list[str] = typer.Argument(..., help="the claim names an attestation carries"),
    description: str = typer.Option("", "--description", help="what it attests"),
) -> None:
    """Define SCHEMA with its FIELDS (as an issuer)."""
    session.act(
        lambda app: app.define_schema(schema, fields, description),
        lambda s: f"schema {schema}: {', '.join(s['fields'])} (issuer {s['issuer']})",
    )


@signed(credentials_app, "issue", CLIENTS["credentials"], answers_json=False)
def credentials_issue(
    session: Session,
    attestation: str,
    schema: str,
    claim: list[str] = typer.Option(..., "--claim", "-c", help="NAME=VALUE (repeat)"),
    out: Path = typer.Option(..., "--out", "-o", help="the holder's presentation file (JSON)"),
    days: int = typer.Option(0, "--days", help="valid for this many days (0: no expiry)"),
) -> None:
    """Issue ATTESTATION of SCHEMA (only a salted digest goes on chain) and write the holder's
    presentation to OUT: keep it, it is the only copy of the claims and the salt."""
    import time

    from yulian.apps.credentials import make_presentation

    claims = pairs(claim, "--claim", "NAME=VALUE")
    if days < 0:
        fail("--days must be 0 (no expiry) or more")
    expires = int(time.time() * 1000) + days * DAY_MS if days else 0
    suite = chain_suite(session.network)
    app = session.client()
    issued: dict[str, Any] = {}

    def issue() -> dict[str, Any]:
        issued.update(app.issue(attestation, schema, claims, suite=suite, expires_ms=expires))
        return issued

    act(issue, False, lambda a: f"attestation {attestation} issued: digest {a['digest']}")
    presentation = make_presentation(issued, call(lambda: app.conn.export_receipt(issued["tx_id"])))
    try:
        out.write_text(
            json.dumps(presentation, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    except OSError as e:
        fail(f"cannot write {out}: {e}")
    say(f"presentation written to {out} (tx {issued['tx_id']})")


@reading(credentials_app, "verify", CLIENTS["credentials"])
def credentials_verify(
    session: Session,
    presentation: Path,
    online: bool = typer.Option(False, "--online", help="also ask the chain if it is still valid"),
    genesis: Path | None = GENESIS_OPT,
) -> None:
    """Check PRESENTATION offline against the genesis: who issued which claims, when."""
    from yulian.apps.credentials import verify_presentation

    g = chain_genesis(genesis, session.network)
    doc = load_json(presentation)
    proven = verified(lambda: verify_presentation(doc, g))
    if online:
        from yulian.apps.credentials import attestation_digest
        from yulian.crypto.suite import get_suite

        digest = attestation_digest(
            get_suite(g.suite), proven["attestation"], proven["schema"], doc["claims"], doc["salt"]
        )
        app = session.client()
        proven["chain"] = call(lambda: app.check(proven["attestation"], digest))
    if session.as_json:
        print_json(proven)
    else:
        claims = ", ".join(f"{k}={v}" for k, v in proven["claims"].items())
        say(
            f": {proven['attestation']} ({proven['schema']}) was issued by {proven['issuer']} at "
            f"height {proven['height']}: {claims}",
            lead="verified",
            style="bold green",
        )
        if online:
            answer = proven["chain"]
            say(f"the chain answers: {'valid' if answer['valid'] else answer['reason']}")
    if online and not proven["chain"]["valid"]:
        raise typer.Exit(EXIT_UNVERIFIED)


@signed(credentials_app, "revoke", CLIENTS["credentials"])
def credentials_revoke(session: Session, attestation: str, reason: str) -> None:
    """Revoke ATTESTATION (only its issuing organisation may)."""
    session.act(lambda app: app.revoke(attestation, reason), lambda _: f"{attestation} revoked")


# --- seals ------------------------------------------------------------------------------------


@signed(seal_app, "register", CLIENTS["eseal"], user=ADMIN_OPT)
def seal_register(session: Session, seal: str, image_digest: str, description: str) -> None:
    """Register SEAL of your organisation (an admin signs); IMAGE_DIGEST is its image's hash."""
    session.act(
        lambda app: app.register(seal, image_digest, description),
        lambda s: f"seal {seal} of {s['org']}",
    )


@signed(seal_app, "authorize", CLIENTS["eseal"], user=ADMIN_OPT)
def seal_authorize(session: Session, seal: str, member_id: str) -> None:
    """Name a keeper of SEAL by certificate id (an admin of its organisation signs)."""
    session.act(lambda app: app.authorize(seal, member_id), lambda _: f"{member_id} keeps {seal}")


@signed(seal_app, "apply", CLIENTS["eseal"], user=ADMIN_OPT)
def seal_apply(session: Session, seal: str, document_digest: str) -> None:
    """Seal the document DOCUMENT_DIGEST with SEAL (a keeper or an admin of its organisation)."""
    session.act(
        lambda app: app.seal(seal, document_digest),
        lambda s: f"sealing #{s['n']} of {document_digest} with {seal} at height {s['height']}",
    )


@reading(seal_app, "list", CLIENTS["eseal"])
def seal_list(session: Session, document_digest: str) -> None:
    """Every sealing of a document, with each seal's status now."""
    app = session.client()
    sealings = call(lambda: app.sealings(document_digest))
    if session.as_json:
        print_json(sealings)
        return
    for s in sealings:
        say(f"  #{s['n']} {s['seal']} of {s['org']} ({s['seal_status']}) at height {s['height']}")


# --- records ----------------------------------------------------------------------------------


@signed(records_app, "create", CLIENTS["records"])
def records_create(session: Session, record: str, kind: str, content_digest: str) -> None:
    """Create RECORD of KIND with the digest of its content; your organisation owns it."""
    session.act(
        lambda app: app.create(record, kind, content_digest),
        lambda r: f"record {record} v{r['version']}",
    )


@signed(records_app, "amend", CLIENTS["records"])
def records_amend(session: Session, record: str, content_digest: str, reason: str) -> None:
    """Amend RECORD: a new version; the earlier ones stay."""
    session.act(
        lambda app: app.amend(record, content_digest, reason),
        lambda r: f"record {record} v{r['version']}",
    )


@signed(records_app, "archive", CLIENTS["records"])
def records_archive(session: Session, record: str, reason: str) -> None:
    """Archive RECORD (its owner or an archivist): it changes no more."""
    session.act(
        lambda app: app.archive(record, reason), lambda r: f"record {record}: {r['status']}"
    )


@reading(records_app, "history", CLIENTS["records"])
def records_history(session: Session, record: str) -> None:
    """Every version of RECORD, oldest first."""
    app = session.client()
    versions = call(lambda: app.history(record))
    if session.as_json:
        print_json(versions)
        return
    for v in versions:
        say(f"  v{v['n']} height {v['height']} by {v['by']}: {v['content']} ({v['reason']})")
