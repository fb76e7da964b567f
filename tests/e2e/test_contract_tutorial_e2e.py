"""The tutorial of ``docs/contracts.md`` followed literally, from an empty directory: its shell
blocks run in order, its Python blocks either added to the file they name (``# add to FILE``)
or run with the interpreter, against a real local network of three node processes —
scaffold, check, harness tests, propose, approve, call, upgrade, the SDK (issue 14)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import free_port_block
from tests.e2e.test_demo_e2e import plain_env, yulian

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL_TIMEOUT_S = 600
BLOCK = re.compile(r"```(sh|python|text)\n(.*?)```", flags=re.S)
ADD_TO = re.compile(r"# add to (\S+)\n")
HEREDOC_END = "YULIAN_TUTORIAL_EOF"


def tutorial() -> str:
    text = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")
    return text.split("## Tutorial", 1)[1].split("\n## ", 1)[0]


def tutorial_script(ports: dict[str, int]) -> str:
    """The tutorial as one bash script, on these ports instead of the documented ones."""
    parts = []
    for kind, body in BLOCK.findall(tutorial()):
        assert HEREDOC_END not in body
        if kind == "sh":
            parts.append(body)
        elif kind == "python" and (added := ADD_TO.match(body)):
            code = body[added.end() :]
            parts.append(f"cat >> {added.group(1)} <<'{HEREDOC_END}'\n{code}{HEREDOC_END}\n")
        elif kind == "python":
            parts.append(f"python - <<'{HEREDOC_END}'\n{body}{HEREDOC_END}\n")
    script = "\n".join(parts)
    for documented, port in ports.items():
        script = re.sub(rf"\b{documented}\b", str(port), script)
    return script


def test_the_tutorial_from_nothing_to_an_upgraded_contract(tmp_path: Path) -> None:
    base = free_port_block(6)  # three API ports, then three p2p ports
    script = tutorial_script({"8600": base, "9600": base + 3})
    commands = [
        tuple(shlex.split(line, comments=True)[1:4])
        for line in script.splitlines()
        if line.startswith("yulian ")
    ]
    for step in (  # every step of the tutorial, in this order
        ("contract", "new", "assets"),
        ("contract", "check", "assets/contract.py"),
        ("network", "init", "--orgs"),
        ("network", "up"),
        ("contract", "propose", "assets"),
        ("contract", "approve", "1"),
        ("tx", "send", "assets"),
        ("contract", "check", "assets/contract.py"),
        ("contract", "propose", "assets"),
        ("contract", "approve", "2"),
        ("network", "down"),
    ):
        assert step in commands, (step, commands)
        commands = commands[commands.index(step) + 1 :]
    for step in ("pytest -q assets/test_assets.py", "cat >> assets/contract.py", "python - <<"):
        assert step in script, step
    network = tmp_path / ".yulian" / "network"
    try:
        walk = subprocess.run(
            ["bash", "-euo", "pipefail", "-x", "-c", script],
            capture_output=True,
            text=True,
            timeout=TUTORIAL_TIMEOUT_S,
            env=plain_env(),
            cwd=tmp_path,
        )
    finally:
        subprocess.run(
            yulian("network", "down", "--network", network),
            capture_output=True,
            timeout=120,
            env=plain_env(),
        )
    out, err = walk.stdout, walk.stderr
    assert walk.returncode == 0, out[-4000:] + err[-6000:]
    assert "Traceback" not in out + err

    # the scaffold passed the check before and after the upgrade; 4 tests, then 5
    assert out.count("assets/contract.py: ready to propose") == 2, out
    assert re.search(r"^4 passed", out, flags=re.M) and re.search(r"^5 passed", out, flags=re.M)
    # the lifecycle: a deployment and an upgrade, each open after org1, applied after org2
    assert re.findall(r'^  "kind": "(\w+)",$', out, flags=re.M) == ["deploy"] * 2 + ["upgrade"] * 2
    assert re.findall(r'^  "status": "(\w+)"$', out, flags=re.M) == ["open", "applied"] * 2
    versions = re.findall(r'^  "version": "([\d.]+)"$', out, flags=re.M)
    assert versions == ["1.0", "2.0"], out
    # the call under 1.0, the refused update, and the state read through 2.0's new method
    assert '"site": "Chongqing"' in out
    assert "reverted: only its owner org1 may change it" in err
    assert "register: ok at height" in out
    assert "items: [('pump-7', 'org1'), ('valve-1', 'org2')]" in out
    assert (tmp_path / "assets" / "README.md").is_file()


def test_the_tutorials_refusal_is_what_the_check_prints(tmp_path: Path) -> None:
    """The refusal the tutorial shows is the checker's own output for the file it describes."""
    shown = [body for kind, body in BLOCK.findall(tutorial()) if kind == "text"]
    assert len(shown) == 1 and shown[0].startswith("bad.py:1: error:"), shown
    (tmp_path / "bad.py").write_text("import json\n\n\ndef stamp(ctx):\n    return 1\n")
    checked = subprocess.run(
        [sys.executable, "-m", "yulian.cli.main", "contract", "check", "bad.py"],
        capture_output=True,
        text=True,
        timeout=120,
        env=plain_env(),
        cwd=tmp_path,
    )
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert checked.stdout == shown[0], checked.stdout
