"""Introduction: ``yulian private`` — private data from the command line (decisions 0075-0077):
write a value into a collection, read one on the record (one access record on chain, the value
checked against its salted digest), grant and revoke consent, list the trail.

Every command signs as a member of the network directory (``--org``/``--user``) and talks to a
node of that member's own organisation unless ``--url`` names another: a value goes only to a
member organisation's node, and a node serves a value only to the reader of the committed
access record (``yulian.sdk.private``).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

from yulian.cli.apps.common import Session, signed
from yulian.cli.common import EXIT_REFUSED, fail, print_json, require_network, tell

private_app = typer.Typer(
    help="Private data: write, read on the record, consent, the audit trail", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(private_app, name="private")


def _private(session: Session) -> Any:
    """The private-data client of the signer, talking to a node of its own organisation
    unless ``--url`` names another."""
    from yulian.sdk.private import PrivateData

    url = session.url or _own_node(session.network, str(session.org))
    return PrivateData(replace(session, url=url).client())


def _own_node(network: Path | None, org: str) -> str | None:
    """The API URL of the first node of ``org`` in the directory (None: any serving node)."""
    from yulian.node.config import load_config
    from yulian.pki.layout import load_layout

    root = require_network(network)
    for node in load_layout(root).nodes:
        if node.org == org:
            return str(load_config(node.config).api_url)
    return None


def _run(fn: Any) -> Any:
    """``fn()``; a refusal (by the SDK before sending, the node's pre-check or the chain) exits
    3 with its reason, anything else 1."""
    import httpx

    from yulian.sdk import ApiError
    from yulian.sdk.private import PrivateDataError

    try:
        return fn()
    except PrivateDataError as e:
        fail(str(e), EXIT_REFUSED)
    except ApiError as e:
        fail(str(e), EXIT_REFUSED if e.status in (400, 403) else 1)
    except httpx.HTTPError as e:
        fail(f"cannot reach the node: {e}")


@signed(private_app, "put", answers_json=False)
def private_put(
    session: Session,
    collection: str,
    key: str,
    value_file: Path = typer.Argument(..., help="the file whose bytes are the value ('-': stdin)"),
    subject: str = typer.Option("", "--subject", help="the data subject the value is about"),
) -> None:
    """Write a new version of COLLECTION/KEY: its salted digest on chain, the value to the
    member organisations' nodes. Exits 3 if refused."""
    value = sys.stdin.buffer.read() if str(value_file) == "-" else value_file.read_bytes()
    private = _private(session)
    print_json(_run(lambda: private.put(collection, key, value, subject)))


@signed(private_app, "read", answers_json=False)
def private_read(
    session: Session,
    collection: str,
    key: str,
    purpose: str = typer.Option(..., "--purpose", help="why (recorded on the trail)"),
    out: Path | None = typer.Option(None, "--out", help="write the value here, not stdout"),
) -> None:
    """Read the current version of COLLECTION/KEY on the record: the access record is
    committed first (printed to stderr), then the value is checked and written out. A refused
    read leaves no record and exits 3 with the reason."""
    private = _private(session)
    read = _run(lambda: private.read(collection, key, purpose))
    access = read.access
    tell(
        f" {access['id']} at height {access['height']}: version {read.version}, basis "
        f"{access['basis']}" + (f" (grant {access['grant_id']})" if access["grant_id"] else ""),
        lead="access record",
    )
    if out is not None:
        out.write_bytes(read.value)
    else:
        sys.stdout.buffer.write(read.value)
        sys.stdout.flush()


@signed(private_app, "grant", answers_json=False)
def private_grant(
    session: Session,
    collection: str,
    grantee: str = typer.Argument(
        ..., help="who: org:role[:attr=value], e.g. org2:client:role=doctor"
    ),
    purpose: list[str] = typer.Option(..., "--purpose", help="a purpose it covers (repeat)"),
    subject: str = typer.Option("", "--subject", help="every record of this subject (yours)"),
    key: str = typer.Option("", "--key", help="one record"),
    until_ms: int = typer.Option(0, "--until-ms", help="block time it ends (0: until revoked)"),
) -> None:
    """Consent: let GRANTEE read named data of COLLECTION for the purposes, from the block
    that commits the grant. Exits 3 if refused."""
    private = _private(session)
    grant = _run(
        lambda: private.grant(
            collection, grantee, purpose, subject=subject, key=key, until_ms=until_ms
        )
    )
    print_json(grant)


@signed(private_app, "revoke", answers_json=False)
def private_revoke(session: Session, grant_id: int) -> None:
    """Revoke consent grant GRANT_ID from the block that commits the revocation."""
    private = _private(session)
    print_json(_run(lambda: private.revoke(grant_id)))


@signed(private_app, "trail", answers_json=False)
def private_trail(
    session: Session,
    collection: str,
    subject: str = typer.Option("", "--subject", help="only the reads of this subject's data"),
    start: int = typer.Option(0, "--start"),
    limit: int = typer.Option(100, "--limit"),
) -> None:
    """The access trail of COLLECTION (its auditors), or of one subject's data (the subject):
    who read what, when, for which purpose, under which consent."""
    private = _private(session)
    if subject:
        print_json(_run(lambda: private.subject_trail(collection, subject, start, limit)))
    else:
        print_json(_run(lambda: private.trail(collection, start, limit)))
