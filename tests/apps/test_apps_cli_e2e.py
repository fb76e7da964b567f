"""The applications' command groups against a real node process: ``yulian trace``, ``finance``,
``credentials`` and ``trading`` deploy through the lifecycle, act as the organisations of the
network directory, print one readable line (or the chain's JSON with ``--json``), and turn the
contract's refusals into exit code 3 with its message — and a member issued with ``yulian ca
issue --roles`` acts in those roles only; ``deploy`` refuses a ``--role`` or ``--governor``
naming an organisation that is not a member, and proposes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.e2e.harness import RunningNode, free_port, serving
from yulian.cli.main import app
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.sdk import ApiError, Client
from yulian.types.genesis import ChainParams

pytestmark = pytest.mark.e2e
DIGEST = "ab" * 32


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    tmp = tmp_path_factory.mktemp("apps-cli")
    layout = init_network(
        tmp / "network",
        orgs=3,
        validators=1,
        base_api_port=free_port(),
        base_p2p_port=free_port(),
        params=ChainParams(block_interval_ms=50),
    )
    running = RunningNode(
        layout=layout, url=load_config(layout.nodes[0].config).api_url, log=tmp / "node.log"
    )
    with serving(running):
        yield running


def yulian(node: RunningNode, *args: str, code: int = 0) -> str:
    """Run ``yulian ARGS --network DIR``; its exit code must be ``code``; stdout + stderr."""
    result = CliRunner().invoke(app, [*args, "--network", str(node.layout.root)])
    output = result.stdout + result.stderr
    assert result.exit_code == code, output
    return output


def test_trace_commands_and_a_member_narrowed_by_its_roles_attribute(node: RunningNode) -> None:
    yulian(
        node,
        *("trace", "deploy", "--role", "grower=org1", "--role", "processor=org3"),
        *("--role", "inspector=org3", "--template", "tea"),
    )
    issued = json.loads(
        yulian(
            node,
            "ca",
            "issue",
            "--org",
            "org3",
            "--role",
            "client",
            "--name",
            "lab1",
            "--roles",
            "inspector",
        )
    )
    assert issued["attributes"] == {"roles": "inspector"}
    out = yulian(
        node, "trace", "create", "T-1", "--template", "tea", "--product", "raw tea",
        "--quantity", "10", "--unit", "kg", "-d", "garden=Nannuo", "-d", "pickers=4",
    )  # fmt: skip
    assert out.strip() == "batch T-1: 10.000 kg of raw tea, custodian org1"
    yulian(node, "trace", "hand-over", "T-1", "org3")
    assert "T-1 is now held by org3" in yulian(node, "trace", "take-over", "T-1", "--org", "org3")
    # org3 holds processor and inspector; lab1's certificate narrows it to inspector
    refused = yulian(
        node, "trace", "record", "T-1", "processed", "--org", "org3", "--user", "lab1", code=3
    )
    assert "error: trace.record refused: org3 may not record processed" in refused
    assert "T-1 event 3: certified recorded by org3" in yulian(
        node, "trace", "record", "T-1", "certified", "--org", "org3", "--user", "lab1"
    )
    yulian(node, "trace", "record", "T-1", "processed", "--org", "org3")  # client1: both roles
    split = json.loads(
        yulian(node, "trace", "split", "T-1", "T-1a=4", "T-1b=6", "--org", "org3", "--json")
    )
    assert split == ["T-1a", "T-1b"]
    shown = json.loads(yulian(node, "trace", "show", "T-1b", "--json"))
    assert shown["batch"]["quantity"] == "6.000" and shown["origins"][0]["batch"]["id"] == "T-1"
    kinds = [e["kind"] for e in shown["origins"][0]["events"]]
    assert kinds == ["created", "handed_over", "taken_over", "certified", "processed", "split"]
    assert shown["origins"][0]["events"][0]["data"] == {"garden": "Nannuo", "pickers": 4}
    text = yulian(node, "trace", "show", "T-1b")
    assert "T-1 10.000 kg of raw tea (tea), split, custodian org3" in text
    assert f"{node.url}/explorer/trace.html?batch=T-1b" in yulian(node, "trace", "qr", "T-1b")
    assert "no batch NOPE" in yulian(node, "trace", "qr", "NOPE", code=1)


def test_finance_commands_move_value_and_refuse_what_the_holder_does_not_hold(
    node: RunningNode,
) -> None:
    yulian(node, "finance", "deploy", "--role", "issuer=org1", "--role", "bank=org3")
    out = yulian(node, "finance", "issue", "N-1", "org2", "1000", "--days", "30")
    assert out.strip() == "note N-1: 1000.00 CNY held by org2, due in 30 days"
    cut = json.loads(
        yulian(node, "finance", "transfer", "N-1", "org1", "250.50", "--org", "org2", "--json")
    )
    assert (cut["id"], cut["amount"], cut["holder"]) == ("N-1#1", "250.50", "org1")
    refused = yulian(node, "finance", "transfer", "N-1#1", "org2", "300", code=3)
    assert "error: finance.transfer refused: the part holds only 250.50" in refused
    assert "has fractions of a cent" in yulian(
        node, "finance", "transfer", "N-1#1", "org2", "1.001", code=1
    )
    yulian(node, "finance", "offer", "N-1", "org3", "740", "--org", "org2")
    assert "part N-1: 749.50 held by org3, held" in yulian(
        node, "finance", "discount", "N-1", "--org", "org3"
    )
    doc = json.loads(yulian(node, "finance", "note", "N-1", "--json"))
    held = sum(Decimal(p["amount"]) for p in doc["parts"] if p["status"] == "held")
    assert held == Decimal(doc["note"]["face"]) == Decimal("1000.00")


def test_credentials_commands_issue_a_presentation_that_verifies_offline(
    node: RunningNode, tmp_path: Path
) -> None:
    yulian(node, "credentials", "deploy", "--role", "issuer=org2")
    yulian(node, "credentials", "schema", "degree", "holder", "degree", "--org", "org2")
    presentation = tmp_path / "p.json"
    yulian(
        node, "credentials", "issue", "D-1", "degree", "-c", "holder=王芳", "-c", "degree=MSc",
        "-o", str(presentation), "--org", "org2",
    )  # fmt: skip
    out = yulian(node, "credentials", "verify", str(presentation), "--online")
    assert "verified: D-1 (degree) was issued by org2" in out and "holder=王芳" in out
    assert "the chain answers: valid" in out
    forged = json.loads(presentation.read_text(encoding="utf-8"))
    forged["claims"]["degree"] = "PhD"
    (tmp_path / "forged.json").write_text(json.dumps(forged), encoding="utf-8")
    refused = yulian(node, "credentials", "verify", str(tmp_path / "forged.json"), code=4)
    assert "do not match the issued digest" in refused
    assert "credentials.revoke refused: only the issuer revokes an attestation" in yulian(
        node, "credentials", "revoke", "D-1", "mine now", code=3
    )
    yulian(node, "credentials", "revoke", "D-1", "issued in error", "--org", "org2")
    revoked = yulian(node, "credentials", "verify", str(presentation), "--online", code=4)
    assert "the chain answers: revoked" in revoked


def test_trading_commands_and_the_regulators_review(node: RunningNode) -> None:
    yulian(node, "trading", "deploy", "--role", "trader=org1", "--role", "trader=org2",
           "--role", "regulator=org3")  # fmt: skip
    start = int(httpx.get(f"{node.url}/v1/health").json()["height"]) + 1
    out = yulian(
        node, "trading", "list", "L-1", "zinc", "100", "tonne", "22000", "--receipt", DIGEST
    )
    assert out.strip() == "lot L-1: 100.000 tonne of zinc at 22000.00 CNY, open"
    assert "order O-1: 60.000 of lot L-1 at 22000.00, org2 buys from org1, matched" in yulian(
        node, "trading", "buy", "O-1", "L-1", "60", "--org", "org2"
    )
    yulian(node, "trading", "freeze", "L-1", "receipt under review", "--org", "org3")
    assert "lot L-1 is frozen" in yulian(
        node, "trading", "buy", "O-2", "L-1", "10", "--org", "org2", code=3
    )
    assert "refused" in yulian(node, "trading", "freeze", "L-1", "again", "--org", "org2", code=3)
    review = yulian(node, "trading", "watch", "--from-height", str(start), "--large", "zinc=50")
    assert f"3 events of trading from height {start}; 1 alerts" in review
    assert "large_order" in review and "org2: 60.000 in one order (>= 50)" in review


def test_deploy_refuses_an_organisation_that_is_not_a_member_and_proposes_nothing(
    node: RunningNode,
) -> None:
    members = "the members: org1, org2, org3"
    for named, refusal in [
        (
            ("--role", "charity=org1", "--role", "charity=org9"),
            f"error: --role charity=org9: no member organisation 'org9'; {members}",
        ),
        (
            ("--governor", "org1", "--governor", "orgX"),
            f"error: --governor orgX: no member organisation 'orgX'; {members}",
        ),
    ]:
        refused = yulian(node, "finance", "deploy", "--contract", "charity", *named, code=1)
        assert refusal in refused and "proposed" not in refused
    with Client(node.url) as reader, pytest.raises(ApiError, match="no active contract"):
        reader.query("lifecycle", "contract", ["charity"])
