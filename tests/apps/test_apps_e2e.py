"""The reference applications on a real node process on loopback: each contract deployed
through the lifecycle by the organisations' admins, then used through the SDK client exactly
as in the harness tests — trace with an upgrade that keeps its state, a receivable redeemed at
its real maturity, an attestation verified offline from its exported receipt, a regulator
reviewing the trading events it reads back from the node, and a scaffolded contract taken
from ``contract new`` to an upgrade."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.harness import RunningNode, free_port, serving
from yulian.apps.credentials import (
    CREDENTIALS,
    Credentials,
    make_presentation,
    verify_presentation,
)
from yulian.apps.credentials import contract_source as credentials_source
from yulian.apps.deploy import deploy_with_local_admins
from yulian.apps.finance import FINANCE, Receivables
from yulian.apps.finance import contract_source as finance_source
from yulian.apps.shared import AppError
from yulian.apps.trace import TraceApp
from yulian.apps.trace import contract_source as trace_source
from yulian.apps.trading import CONTRACT_NAME as TRADING
from yulian.apps.trading import Trading
from yulian.apps.trading import contract_source as trading_source
from yulian.apps.trading.supervision import Rules, follow, review
from yulian.crypto.suite import get_suite
from yulian.devkit.check import check_file
from yulian.devkit.scaffold import new_contract
from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.sdk import ApiError, Client, VerificationError, Wallet
from yulian.types.genesis import ChainParams, Genesis

pytestmark = pytest.mark.e2e
ORGS = ("org1", "org2", "org3")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    tmp = tmp_path_factory.mktemp("apps-e2e")
    layout = init_network(
        tmp / "network",
        orgs=len(ORGS),
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


def client(node: RunningNode, org: str | None = None, user: str = "client1") -> Client:
    wallet = Wallet.from_network(node.layout.root, org, user) if org else None
    c = Client(node.url, wallet)
    node.clients.append(c)
    return c


def deploy(node: RunningNode, name: str, version: str, code: str) -> dict[str, object]:
    return deploy_with_local_admins(node.layout.root, [node.url], name, version, code)


def test_trace_through_the_lifecycle_and_an_upgrade_that_keeps_the_batches(
    node: RunningNode,
) -> None:
    status = deploy(node, "trace", "1.0", trace_source(("org1",)))
    assert status["version"] == "1.0"
    gov = TraceApp(client(node, "org1", "admin"))
    gov.install_templates(["tea"])
    for org, role in (("org1", "grower"), ("org2", "processor"), ("org3", "inspector")):
        gov.grant_role(org, role)
    grower, processor = TraceApp(client(node, "org1")), TraceApp(client(node, "org2"))
    grower.create("PE-E2E-1", "tea", "Menghai raw Pu'er", "500", "kg", {"garden": "Nannuo"})
    grower.hand_over("PE-E2E-1", "org2")
    processor.take_over("PE-E2E-1")
    processor.split("PE-E2E-1", {"PE-E2E-1a": "200", "PE-E2E-1b": "300"})
    TraceApp(client(node, "org3")).record("PE-E2E-1a", "certified", {"standard": "GB/T 22111"})
    with pytest.raises(AppError, match="only the custodian may do this"):
        grower.hand_over("PE-E2E-1b", "org1")

    upgraded = trace_source(("org1",)).replace(
        "def trace(ctx, batch_id):",
        'def version(ctx):\n    return "1.1"\n\n\ndef trace(ctx, batch_id):',
    )
    assert deploy(node, "trace", "1.1", upgraded)["version"] == "1.1"
    public = TraceApp(client(node))  # no identity: anyone scanning the batch
    assert public.conn.query("trace", "version") == "1.1"
    seen = public.public_trace("PE-E2E-1a")
    assert seen["batch"]["custodian"] == "org2" and seen["origins"][0]["batch"]["id"] == "PE-E2E-1"
    assert [e["kind"] for e in seen["events"]] == ["split_from", "certified"]
    assert [e["org"] for e in seen["origins"][0]["events"][:3]] == ["org1", "org1", "org2"]


def test_a_receivable_is_financed_and_redeemed_at_its_real_maturity(node: RunningNode) -> None:
    deploy(node, FINANCE, "1.0", finance_source(FINANCE, ("org1",), {"issuer": ["org1"]}))
    Receivables(client(node, "org1", "admin")).grant_role("org3", "bank")
    core, supplier, bank = (Receivables(client(node, o)) for o in ORGS)
    head = client(node).block()["header"]["time_ms"]
    maturity = head + 4_000
    core.issue("YX-E2E-1", "org2", "100000.00", "CNY", maturity)
    cut = supplier.transfer("YX-E2E-1", "org1", "25000")
    supplier.offer("YX-E2E-1", "org3", "74000.00")
    assert bank.finance("YX-E2E-1")["holder"] == "org3"
    with pytest.raises(AppError, match="matures at"):
        core.redeem("YX-E2E-1")
    while client(node).block()["header"]["time_ms"] < maturity:
        time.sleep(0.2)
    core.redeem("YX-E2E-1")
    core.redeem(cut["id"])
    note = core.note("YX-E2E-1")
    assert (note["status"], note["redeemed"]) == ("settled", "100000.00")
    with pytest.raises(ApiError) as e:
        client(node).query(FINANCE, "get_note", ["missing"])
    assert e.value.code == "reverted"


def test_an_attestation_is_verified_offline_from_its_exported_receipt(node: RunningNode) -> None:
    deploy(
        node, CREDENTIALS, "1.0", credentials_source(CREDENTIALS, ("org1",), {"issuer": ["org2"]})
    )
    genesis = Genesis.load(node.layout.genesis)
    issuer = Credentials(client(node, "org2"))
    issuer.define_schema("employment", ["employee", "employer", "since"])
    claims = {"employee": "Li Wei", "employer": "org2", "since": "2019-03-01"}
    issued = issuer.issue("EMP-E2E-1", "employment", claims, suite=get_suite(genesis.suite))
    presentation = make_presentation(issued, client(node).export_receipt(issued["tx_id"]))
    proven = verify_presentation(presentation, genesis)
    assert (proven["issuer"], proven["claims"], proven["schema"]) == ("org2", claims, "employment")
    forged = copy.deepcopy(presentation)
    forged["claims"]["since"] = "2009-03-01"
    with pytest.raises(VerificationError, match="do not match the issued digest"):
        verify_presentation(forged, genesis)
    tampered = copy.deepcopy(presentation)
    tampered["receipt"]["summary"]["height"] += 1
    with pytest.raises(VerificationError):
        verify_presentation(tampered, genesis)
    assert issuer.check("EMP-E2E-1", issued["digest"])["valid"]
    issuer.revoke("EMP-E2E-1", "contract ended")
    assert issuer.check("EMP-E2E-1", issued["digest"])["reason"] == "revoked"
    verify_presentation(presentation, genesis)  # offline it still proves the issue itself


def test_the_regulator_reads_the_trading_events_back_from_the_node(node: RunningNode) -> None:
    deploy(
        node,
        TRADING,
        "1.0",
        trading_source(("org1",), {"trader": ["org1", "org2"], "regulator": ["org3"]}),
    )
    start = client(node).health()["height"] + 1
    seller, buyer, regulator = (Trading(client(node, o)) for o in ORGS)
    seller.list_lot("ZN-1", "zinc", "1000", "tonne", "22000", "CNY", "0a" * 32)
    buyer.buy("O-1", "ZN-1", "600")
    regulator.freeze_lot("ZN-1", "receipt under review")
    with pytest.raises(AppError, match="is frozen"):
        buyer.buy("O-2", "ZN-1", "1")
    seller.confirm_payment("O-1")
    buyer.confirm_delivery("O-1")
    events = list(follow(client(node), TRADING, start))
    names = [e["name"] for e in events]
    assert names == [
        "lot_listed",
        "order_matched",
        "lot_frozen",
        "payment_confirmed",
        "delivery_confirmed",
        "order_settled",
    ]
    alerts = review(events, Rules(large_quantity={"zinc": Decimal(500)}))
    assert [(a.kind, a.orgs) for a in alerts] == [("large_order", ("org2",))]


def test_a_scaffolded_contract_from_new_to_an_upgrade(node: RunningNode, tmp_path: Path) -> None:
    contract = new_contract("inventory", tmp_path)[0]
    assert check_file(contract) == []
    deploy(node, "inventory", "1.0", contract.read_text(encoding="utf-8"))
    org1, org2 = client(node, "org1"), client(node, "org2")
    assert (
        org1.submit("inventory", "register", ["crate-7", {"site": "Guoyuan port"}])["receipt"][
            "status"
        ]
        == "ok"
    )
    refused = org2.submit("inventory", "update", ["crate-7", {"site": "mine now"}])["receipt"]
    assert (refused["status"], refused["message"]) == (
        "reverted",
        "only its owner org1 may change it",
    )
    source = contract.read_text(encoding="utf-8") + '\n\ndef version(ctx):\n    return "2.0"\n'
    deploy(node, "inventory", "2.0", source)
    assert org2.query("inventory", "version") == "2.0"
    assert org2.query("inventory", "get", ["crate-7"])["data"] == {"site": "Guoyuan port"}
