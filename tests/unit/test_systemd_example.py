"""The shipped systemd unit (``examples/systemd/yulian-node@.service``) runs the node the way
``yulian org init`` lays out an organisation's directory, and does not restart a node that
refuses to start."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from yulian.cli.node import EXIT_START_FAILED
from yulian.node.bootstrap import init_org_directory, plan_nodes
from yulian.node.config import load_config

UNIT = Path(__file__).resolve().parents[2] / "examples" / "systemd" / "yulian-node@.service"


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def test_the_unit_starts_the_node_of_an_organisation_directory(tmp_path: Path) -> None:
    service = _unit()["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[1:4] == ["node", "start", "--config"]
    directory = tmp_path / "org1"
    init_org_directory(directory, "org1", nodes=plan_nodes("org1", 1))
    environment = dict(e.split("=", 1) for e in shlex.split(service["Environment"]))
    config = command[4].replace("${YULIAN_DIR}", str(directory)).replace("%i", "org1-node0")
    assert load_config(config).name == "org1-node0"
    assert environment["YULIAN_DIR"].startswith(service["ReadWritePaths"])


def test_a_node_that_refuses_to_start_is_not_restarted() -> None:
    service = _unit()["Service"]
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == str(EXIT_START_FAILED)
    assert service["KillSignal"] == "SIGTERM"  # the node stops cleanly on it


def test_systemd_parses_the_unit_without_a_complaint(tmp_path: Path) -> None:
    """systemd's own parser (``systemd-analyze verify``) reads every directive of the unit:
    a misspelt key or a bad value is a warning there, so any output fails this test."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: install the Debian package systemd"
    yulian = Path(sys.executable).with_name("yulian")  # the unit's ExecStart must exist
    assert yulian.exists(), yulian
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/yulian/bin/yulian", str(yulian)))
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == "" and result.stdout == "", (
        result.stdout + result.stderr
    )
