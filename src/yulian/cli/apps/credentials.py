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

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from yulian.cli.common import (
    ADMIN_OPT,
    EXIT_REFUSED,
    EXIT_UNVERIFIED,
    NETWORK_OPT,
    ORG_OPT,
    URL_OPT,
    USER_OPT,
    call,
    connect,
    fail,
    genesis_path,
    load_genesis,
    load_genesis_file,
    load_json,
    node_url,
    print_json,
    require_network,
    say,
)

credentials_app = typer.Typer(
    help="可信身份: attestations, presented and verified offline", no_args_is_help=True
)
seal_app = typer.Typer(help="电子印章: seals and who sealed which document", no_args_is_help=True)
records_app = typer.Typer(help="records: create, amend with history, archive", no_args_is_help=True)
credentials_app.add_typer(seal_app, name="seal")
credentials_app.add_typer(records_app, name="records")
JSON_OPT = typer.Option(False, "--json", help="print the chain's answer as JSON")
DAY_MS = 86_400_000


def register(app: typer.Typer) -> None:
    app.add_typer(credentials_app, name="credentials")


def _client(
    kind: str, network: Path | None, url: str | None, org: str | None, user: str | None
) -> Any:
    from yulian.apps.credentials import Credentials, ESeals, Records

    classes = {"credentials": Credentials, "eseal": ESeals, "records": Records}
    return classes[kind](connect(network, url, org=org, user=user))


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


@credentials_app.command("deploy")
def credentials_deploy(
    contract: str = typer.Option("credentials", "--contract", help="credentials, eseal or records"),
    governor: list[str] = typer.Option(
        None, "--governor", help="organisation whose admins grant roles (repeat) [default: org1]"
    ),
    role: list[str] = typer.Option(
        None, "--role", help="ROLE=ORG held from the start (repeat): issuer, archivist"
    ),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """Deploy a credentials contract through the lifecycle (the local admins vote)."""
    from yulian.apps.credentials import CREDENTIALS_VERSION, SOURCES, contract_source
    from yulian.apps.deploy import DeployError, deploy_with_local_admins

    if contract not in SOURCES:
        fail(f"no credentials contract {contract!r}; choose one of {', '.join(SOURCES)}")
    founding: dict[str, list[str]] = {}
    for item in role or []:
        name, sep, org = item.partition("=")
        if not sep or not name or not org:
            fail(f"--role must be ROLE=ORG, got {item!r}")
        founding.setdefault(name, []).append(org)
    root = require_network(network)
    node = node_url(root, url)
    try:
        source = contract_source(contract, governor or ["org1"], founding)
        status = call(
            lambda: deploy_with_local_admins(
                root, [node], contract, CREDENTIALS_VERSION, source, log=say
            )
        )
    except (DeployError, OSError, KeyError, ValueError) as e:
        fail(str(e))
    print_json(status)


@credentials_app.command("grant")
def credentials_grant(
    to_org: str,
    role: str = typer.Argument("issuer", help="issuer (credentials) or archivist (records)"),
    contract: str = typer.Option("credentials", "--contract", help="credentials or records"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Grant organisation TO_ORG a ROLE (an admin of a governing organisation signs)."""
    if contract not in ("credentials", "records"):
        fail("--contract is credentials or records (eseal has no roles)")
    app = _client(contract, network, url, org, user)
    _act(lambda: app.grant_role(to_org, role), as_json, lambda _: f"{to_org} holds {role}")


@credentials_app.command("schema")
def credentials_schema(
    schema: str,
    fields: list[str] = typer.Argument(..., help="the claim names an attestation carries"),
    description: str = typer.Option("", "--description", help="what it attests"),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Define SCHEMA with its FIELDS (as an issuer)."""
    app = _client("credentials", network, url, org, user)
    _act(
        lambda: app.define_schema(schema, fields, description),
        as_json,
        lambda s: f"schema {schema}: {', '.join(s['fields'])} (issuer {s['issuer']})",
    )


@credentials_app.command("issue")
def credentials_issue(
    attestation: str,
    schema: str,
    claim: list[str] = typer.Option(..., "--claim", "-c", help="NAME=VALUE (repeat)"),
    out: Path = typer.Option(..., "--out", "-o", help="the holder's presentation file (JSON)"),
    days: int = typer.Option(0, "--days", help="valid for this many days (0: no expiry)"),
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Issue ATTESTATION of SCHEMA (only a salted digest goes on chain) and write the holder's
    presentation to OUT: keep it, it is the only copy of the claims and the salt."""
    import time

    from yulian.apps.credentials import make_presentation
    from yulian.crypto.suite import get_suite

    claims: dict[str, str] = {}
    for item in claim:
        name, sep, value = item.partition("=")
        if not sep or not name:
            fail(f"--claim must be NAME=VALUE, got {item!r}")
        claims[name] = value
    if days < 0:
        fail("--days must be 0 (no expiry) or more")
    expires = int(time.time() * 1000) + days * DAY_MS if days else 0
    suite = get_suite(load_genesis(network).suite)
    app = _client("credentials", network, url, org, user)
    issued: dict[str, Any] = {}

    def issue() -> dict[str, Any]:
        issued.update(app.issue(attestation, schema, claims, suite=suite, expires_ms=expires))
        return issued

    _act(issue, False, lambda a: f"attestation {attestation} issued: digest {a['digest']}")
    presentation = make_presentation(issued, call(lambda: app.conn.export_receipt(issued["tx_id"])))
    try:
        out.write_text(
            json.dumps(presentation, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    except OSError as e:
        fail(f"cannot write {out}: {e}")
    say(f"presentation written to {out} (tx {issued['tx_id']})")


@credentials_app.command("verify")
def credentials_verify(
    presentation: Path,
    online: bool = typer.Option(False, "--online", help="also ask the chain if it is still valid"),
    genesis: Path | None = typer.Option(
        None, "--genesis", "-g", help="the chain's genesis.json [default: the one of --network]"
    ),
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """Check PRESENTATION offline against the genesis: who issued which claims, when."""
    from yulian.apps.credentials import verify_presentation
    from yulian.sdk.verify import VerificationError

    g = load_genesis_file(genesis_path(genesis, network))
    doc = load_json(presentation)
    try:
        proven = verify_presentation(doc, g)
    except VerificationError as e:
        fail(f"verification failed: {e}", EXIT_UNVERIFIED)
    if online:
        from yulian.apps.credentials import attestation_digest
        from yulian.crypto.suite import get_suite

        digest = attestation_digest(
            get_suite(g.suite), proven["attestation"], proven["schema"], doc["claims"], doc["salt"]
        )
        app = _client("credentials", network, url, None, None)
        proven["chain"] = call(lambda: app.check(proven["attestation"], digest))
    if as_json:
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


@credentials_app.command("revoke")
def credentials_revoke(
    attestation: str,
    reason: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Revoke ATTESTATION (only its issuing organisation may)."""
    app = _client("credentials", network, url, org, user)
    _act(lambda: app.revoke(attestation, reason), as_json, lambda _: f"{attestation} revoked")


# --- seals ------------------------------------------------------------------------------------


@seal_app.command("register")
def seal_register(
    seal: str,
    image_digest: str,
    description: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Register SEAL of your organisation (an admin signs); IMAGE_DIGEST is its image's hash."""
    app = _client("eseal", network, url, org, user)
    _act(
        lambda: app.register(seal, image_digest, description),
        as_json,
        lambda s: f"seal {seal} of {s['org']}",
    )


@seal_app.command("authorize")
def seal_authorize(
    seal: str,
    member_id: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Name a keeper of SEAL by certificate id (an admin of its organisation signs)."""
    app = _client("eseal", network, url, org, user)
    _act(lambda: app.authorize(seal, member_id), as_json, lambda _: f"{member_id} keeps {seal}")


@seal_app.command("apply")
def seal_apply(
    seal: str,
    document_digest: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = ADMIN_OPT,
) -> None:
    """Seal the document DOCUMENT_DIGEST with SEAL (a keeper or an admin of its organisation)."""
    app = _client("eseal", network, url, org, user)
    _act(
        lambda: app.seal(seal, document_digest),
        as_json,
        lambda s: f"sealing #{s['n']} of {document_digest} with {seal} at height {s['height']}",
    )


@seal_app.command("list")
def seal_list(
    document_digest: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """Every sealing of a document, with each seal's status now."""
    app = _client("eseal", network, url, None, None)
    sealings = call(lambda: app.sealings(document_digest))
    if as_json:
        print_json(sealings)
        return
    for s in sealings:
        say(f"  #{s['n']} {s['seal']} of {s['org']} ({s['seal_status']}) at height {s['height']}")


# --- records ----------------------------------------------------------------------------------


@records_app.command("create")
def records_create(
    record: str,
    kind: str,
    content_digest: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Create RECORD of KIND with the digest of its content; your organisation owns it."""
    app = _client("records", network, url, org, user)
    _act(
        lambda: app.create(record, kind, content_digest),
        as_json,
        lambda r: f"record {record} v{r['version']}",
    )


@records_app.command("amend")
def records_amend(
    record: str,
    content_digest: str,
    reason: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Amend RECORD: a new version; the earlier ones stay."""
    app = _client("records", network, url, org, user)
    _act(
        lambda: app.amend(record, content_digest, reason),
        as_json,
        lambda r: f"record {record} v{r['version']}",
    )


@records_app.command("archive")
def records_archive(
    record: str,
    reason: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
    org: str = ORG_OPT,
    user: str = USER_OPT,
) -> None:
    """Archive RECORD (its owner or an archivist): it changes no more."""
    app = _client("records", network, url, org, user)
    _act(lambda: app.archive(record, reason), as_json, lambda r: f"record {record}: {r['status']}")


@records_app.command("history")
def records_history(
    record: str,
    as_json: bool = JSON_OPT,
    network: Path | None = NETWORK_OPT,
    url: str | None = URL_OPT,
) -> None:
    """Every version of RECORD, oldest first."""
    app = _client("records", network, url, None, None)
    versions = call(lambda: app.history(record))
    if as_json:
        print_json(versions)
        return
    for v in versions:
        say(f"  v{v['n']} height {v['height']} by {v['by']}: {v['content']} ({v['reason']})")
