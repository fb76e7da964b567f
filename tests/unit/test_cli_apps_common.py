"""The application groups' shared helper (``yulian.cli.apps.common``) through the real CLI
runner: ``deploy --role`` refuses a malformed ROLE=ORG, a role the contract does not define and
a role given twice before it reads the network directory or sends anything; a contract's
refusal ends a command with exit code 3 and the contract's message, a value the client rejects
before sending with 1; a command declared with ``signed`` takes the options every application
command has, after its own, with their defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from yulian.apps.trading import CONTRACT_NAME, Trading, contract_source
from yulian.cli.apps.common import JSON_OPT, Session, act, founding_roles, signed
from yulian.cli.common import ADMIN_OPT, say
from yulian.cli.main import app
from yulian.devkit import Harness

RECEIPT = "0a" * 32


def run(target: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(target, list(args), terminal_width=200)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("finance", "deploy", "--role", "issuer"), "--role must be ROLE=ORG, got 'issuer'"),
        (("finance", "deploy", "--role", "=org1"), "--role must be ROLE=ORG, got '=org1'"),
        (("trading", "deploy", "--role", "trader="), "--role must be ROLE=ORG, got 'trader='"),
        (
            ("trading", "deploy", "--role", "trader=org1", "--role", "broker=org2"),
            "--role broker=org2: trading has no role 'broker'; its roles are trader, regulator",
        ),
        (
            ("credentials", "deploy", "--contract", "records", "--role", "issuer=org1"),
            "--role issuer=org1: records has no role 'issuer'; its roles are archivist",
        ),
        (
            ("credentials", "deploy", "--contract", "eseal", "--role", "issuer=org1"),
            "--role issuer=org1: eseal has no role 'issuer'; it has no roles",
        ),
        (
            (
                "finance",
                "deploy",
                "--contract",
                "crossborder",
                *("--role", "bank=org1", "--role", "regulator=org2", "--role", "bank=org1"),
            ),
            "--role bank=org1 is given twice",
        ),
        (
            ("finance", "deploy", "--contract", "loans"),
            "no finance contract 'loans'; choose one of finance, crossborder, charity",
        ),
    ],
)
def test_deploy_refuses_a_bad_role_before_it_reads_the_network(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    network = tmp_path / "network"  # not a network directory: the role is refused first
    code, out, err = run(app, *args, "--network", str(network))
    assert (code, out) == (1, "")
    assert err.strip() == f"error: {message}"
    assert not network.exists()


def test_a_role_may_name_several_organisations_and_trace_takes_any_role_name(
    tmp_path: Path,
) -> None:
    network = tmp_path / "network"
    code, _, err = run(
        app, "trace", "deploy", "--role", "grower=org1", "--role", "grower=org2",
        "--role", "taster=org3", "--network", str(network),
    )  # fmt: skip
    assert code == 1 and f"{network} is not a network directory" in err  # past the roles
    items = ["grower=org1", "taster=org3", "grower=org2"]
    assert founding_roles(items, "trace", None) == {
        "grower": ["org1", "org2"],
        "taster": ["org3"],
    }


def trading_commands() -> typer.Typer:
    """Two commands over the trading contract in the in-process harness (a real contract run
    by the real executor), answering through ``act`` as every application command does."""
    h = Harness(["org1", "org2"])
    h.deploy(CONTRACT_NAME, contract_source(("org1",), {"trader": ["org1"]}))
    trader = Trading(h.client(h.member("org1")))
    group = typer.Typer()

    @group.command("list")
    def list_lot(lot: str, quantity: str, as_json: bool = JSON_OPT) -> None:
        act(
            lambda: trader.list_lot(lot, "zinc", quantity, "tonne", "22000", "CNY", RECEIPT),
            as_json,
            lambda x: f"lot {lot}: {x['quantity']} {x['unit']}, {x['status']}",
        )

    @group.command("freeze")
    def freeze(lot: str, as_json: bool = JSON_OPT) -> None:
        act(lambda: trader.freeze_lot(lot, "review"), as_json, lambda _: f"lot {lot} frozen")

    return group


def test_a_refusal_by_the_contract_exits_3_with_its_message() -> None:
    group = trading_commands()
    assert run(group, "list", "L-1", "100") == (0, "lot L-1: 100.000 tonne, open\n", "")
    code, out, err = run(group, "freeze", "L-1")
    assert (code, out) == (3, "")
    assert err.strip() == "error: trading.freeze_lot refused: org1 may not act as regulator"
    code, out, err = run(group, "list", "L-1", "5")  # taken: the contract says so
    assert code == 3 and "error: trading.list_lot refused: " in err and out == ""


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("0", "expected a positive number, got '0'"), ("lots", "ConversionSyntax")],
)
def test_a_value_the_client_rejects_exits_1(quantity: str, message: str) -> None:
    code, out, err = run(trading_commands(), "list", "L-2", quantity)
    assert (code, out) == (1, "")
    assert err.startswith("error: ") and message in err


def test_json_prints_the_contracts_answer() -> None:
    code, out, _ = run(trading_commands(), "list", "L-3", "12.5", "--json")
    lot = json.loads(out)
    assert code == 0 and (lot["id"], lot["quantity"], lot["seller"]) == ("L-3", "12.500", "org1")


def test_signed_appends_the_shared_options_after_the_commands_own() -> None:
    group = typer.Typer()

    @signed(group, "whoami", user=ADMIN_OPT)
    def whoami(session: Session, thing: str, loud: bool = typer.Option(False, "--loud")) -> None:
        """Say what the command was given."""
        say(f"{thing} {loud} {session.org}/{session.user} {session.as_json} {session.network}")

    @signed(group, "other", answers_json=False)
    def other(session: Session) -> None:
        say(f"{session.org}/{session.user} {session.url}")

    assert run(group, "whoami", "T") == (0, "T False org1/admin False None\n", "")
    code, out, _ = run(
        group, "whoami", "T", "--loud", "--json", "--org", "org2", "--user", "ops", "-n", "net"
    )
    assert (code, out) == (0, "T True org2/ops True net\n")
    assert run(group, "other", "--url", "http://x") == (0, "org1/client1 http://x\n", "")
    code, _, err = run(group, "other", "--json")
    assert code == 2 and "No such option: --json" in err
    code, out, _ = run(group, "whoami", "--help")
    options = re.findall(r"^\W+(--[a-z-]+)", out, re.MULTILINE)  # each row's first option
    assert options == ["--loud", "--json", "--network", "--url", "--org", "--user", "--help"]
