"""The ceremony's commands refuse bad input with a named error and exit code 1, and write
nothing: ``yulian org init / export`` and ``yulian genesis assemble / show / accept`` (the
happy path through the CLI runs in ``tests/e2e/test_ceremony_e2e.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from yulian.cli.main import app


def _run(*argv: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in argv])
    return result.exit_code, result.stdout, result.stderr


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def orgs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two organisations initialised and exported through the CLI, each in its own
    directory; the exports beside them."""
    tmp = tmp_path_factory.mktemp("cli")
    made = {}
    for k, org in enumerate(["a", "b"]):
        directory = tmp / org
        code, _, err = _run(
            "org",
            "init",
            org,
            "--dir",
            directory,
            "--host",
            f"10.9.0.{k + 1}",
            "--p2p-port",
            9600,
            "--api-port",
            8600,
        )
        assert code == 0, err
        code, out, err = _run("org", "export", "--network", directory, "--out", tmp / f"{org}.json")
        assert code == 0, err
        assert json.loads(out)["validators"] == [
            {"name": f"{org}-node0", "address": f"10.9.0.{k + 1}:9600", "power": 1}
        ]
        made[org] = directory
    made["tmp"] = tmp
    return made


def test_org_init_refuses_a_used_directory_and_bad_hosts(tmp_path: Path) -> None:
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    code, _, err = _run("org", "init", "c", "--dir", used)
    assert code == 1 and "error:" in err
    assert _files(used) == {"notes.txt": b"mine"}
    for bad, match in [
        (["--host", "not a host!"], "neither an IP address nor a DNS name"),
        (
            ["--nodes", "2", "--host", "10.0.0.1", "--host", "10.0.0.2", "--host", "10.0.0.3"],
            "one per node",
        ),
    ]:
        target = tmp_path / "new"
        code, _, err = _run("org", "init", "c", "--dir", target, *bad)
        assert code == 1 and match in err, err
        assert not target.exists()  # a refused init leaves nothing behind


def test_org_export_refuses_an_unknown_full_node_and_a_directory_of_no_org(
    orgs: dict[str, Path], tmp_path: Path
) -> None:
    record = orgs["a"] / "orgs" / "a" / "export.json"
    before = record.read_bytes()
    code, _, err = _run("org", "export", "--network", orgs["a"], "--full-node", "a-node7")
    assert code == 1 and "a-node7: no such node" in err
    code, _, err = _run("org", "export", "--network", orgs["a"], "--power", "0")
    assert code == 1 and "power" in err
    assert record.read_bytes() == before
    code, _, err = _run("org", "export", "--network", tmp_path)
    assert code == 1 and "error:" in err


def test_genesis_assemble_refuses_bad_exports_and_never_overwrites(orgs: dict[str, Path]) -> None:
    tmp = orgs["tmp"]
    exports = [tmp / "a.json", tmp / "b.json"]
    out = tmp / "genesis.json"
    for argv, match in [
        ([tmp / "missing.json"], "cannot read"),
        ([exports[0], exports[0]], "exported twice"),
        ([orgs["a"] / "nodes" / "a-node0" / "config.toml"], "malformed"),
    ]:
        code, _, err = _run("genesis", "assemble", *argv, "--chain-id", "c", "--out", out)
        assert code == 1 and match in err, err
        assert not out.exists()
    code, _, err = _run("genesis", "assemble", *exports, "--chain-id", "", "--out", out)
    assert code == 1 and "invalid genesis" in err and not out.exists(), err

    code, printed, err = _run("genesis", "assemble", *exports, "--chain-id", "c", "--out", out)
    assert code == 0, err
    made = json.loads(printed)
    assert made["organisations"] == ["a", "b"] and made["quorum_power"] == 2
    first = out.read_bytes()
    code, _, err = _run("genesis", "assemble", *exports, "--chain-id", "c2", "--out", out)
    assert code == 1 and "never overwritten" in err
    assert out.read_bytes() == first

    code, shown, _ = _run("genesis", "show", out)
    assert code == 0 and json.loads(shown)["hash"] == made["hash"]
    code, _, err = _run("genesis", "show", exports[0])
    assert code == 1 and "cannot load genesis" in err


def test_genesis_accept_refuses_a_wrong_hash_then_accepts_the_right_one(
    orgs: dict[str, Path],
) -> None:
    tmp = orgs["tmp"]
    out = tmp / "accept-genesis.json"
    code, printed, err = _run(
        "genesis", "assemble", tmp / "a.json", tmp / "b.json", "--chain-id", "c", "--out", out
    )
    assert code == 0, err
    good = json.loads(printed)["hash"]
    directory = orgs["b"]
    before = _files(directory)
    code, _, err = _run("genesis", "accept", out, "--hash", "00" * 32, "--network", directory)
    assert code == 1 and "do not accept it" in err
    assert _files(directory) == before
    code, printed, err = _run("genesis", "accept", out, "--hash", good, "--network", directory)
    assert code == 0, err
    assert json.loads(printed)["accepted"] == good
    assert (directory / "genesis.json").read_bytes() == out.read_bytes()
