"""The README's main command (`make run` = `yulian demo`): the evidence story on a fresh network,
a node killed under it (seen dead, reaped), and the README's own walkthrough followed by
`make run` on the same directory."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.e2e.harness import free_port_block

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT_S = 240
TX_ID = re.compile(r"tx ([0-9a-f]{64}) at height")


def yulian(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "yulian.cli.main", *map(str, args)]


def plain_env() -> dict[str, str]:
    """Not a terminal, and no COLUMNS: output must still be whole."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        yulian(*args),
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        env=plain_env(),
        cwd=cwd,
    )


def test_demo_runs_end_to_end(tmp_path: Path) -> None:
    port = free_port_block(8)  # 4 API ports, then 4 p2p ports
    network = tmp_path / "network"
    r = run("demo", "--network", network, "--exit", "--api-port", port, "--p2p-port", port + 4)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "created" in out
    assert "status ok" in out
    assert "verified offline" in out
    assert "reverted (digest already registered)" in out
    assert "reverted (only the owner organisation may transfer)" in out
    assert "lookup: owner org2" in out
    # whole tx ids and URLs, one per line, although this is no terminal of 200 columns
    assert TX_ID.search(out), out
    for k in range(4):
        assert (
            f"API http://127.0.0.1:{port + k}/v1/health   docs http://127.0.0.1:{port + k}/docs"
            in out
        )
    assert (network / "genesis.json").exists()
    # it stopped the nodes it started
    assert not list(network.glob("nodes/*/node.pid"))


def test_a_killed_node_under_the_demo_is_seen_dead_and_reaped(tmp_path: Path) -> None:
    port = free_port_block(8)
    network = tmp_path / "network"
    out = tmp_path / "demo.out"
    with open(out, "w") as sink:
        demo = subprocess.Popen(
            yulian("demo", "--network", network, "--api-port", port, "--p2p-port", port + 4),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=plain_env(),
        )
    try:
        deadline = time.monotonic() + DEMO_TIMEOUT_S
        while "press Ctrl-C" not in out.read_text() and time.monotonic() < deadline:
            assert demo.poll() is None, out.read_text()
            time.sleep(0.5)
        assert "press Ctrl-C" in out.read_text(), out.read_text()
        pids = {p.parent.name: int(p.read_text()) for p in sorted(network.glob("nodes/*/node.pid"))}
        assert len(pids) == 4
        victim = pids["org2-node0"]
        assert psutil.Process(victim).ppid() == demo.pid  # the demo's own child

        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while "was killed by signal 9" not in out.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert f"org2-node0 (pid {victim}) was killed by signal 9" in out.read_text()
        # reaped: no zombie left behind by the demo
        assert not _zombie_child_of(victim, demo.pid)

        status = run("network", "status", "--network", network)
        assert status.returncode == 1, status.stdout + status.stderr
        row = next(line for line in status.stdout.splitlines() if "org2-node0" in line)
        assert " down " in row, status.stdout
        assert "org2-node0 is down: not running" in status.stderr
        for name in ("org1-node0", "org3-node0", "org4-node0"):
            row = next(line for line in status.stdout.splitlines() if name in line)
            assert " up " in row, status.stdout
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(60)
    assert code == 0, out.read_text()
    assert not list(network.glob("nodes/*/node.pid"))
    for name, pid in pids.items():
        assert not _alive_as_node(pid), name


def _zombie_child_of(pid: int, parent: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() == psutil.STATUS_ZOMBIE and proc.ppid() == parent
    except psutil.NoSuchProcess:
        return False


def _alive_as_node(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and "node" in proc.cmdline()
    except psutil.NoSuchProcess:
        return False


# --- the README walkthrough, then `make run` on the same directory ----------------------------


def readme_walkthrough(ports: dict[str, int]) -> str:
    """The shell blocks of the README's "Using it by hand" section, on these ports."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using it by hand", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2, "the walkthrough and the governance walkthrough"
    lines = [
        line
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.startswith(". .venv")
    ]
    script = "\n".join(lines)
    for default, port in ports.items():
        script = re.sub(rf"\b{default}\b", str(port), script)
    return script


def make_run_command() -> list[str]:
    """`make run`'s recipe, as the Makefile has it, with this interpreter."""
    makefile = (ROOT / "Makefile").read_text()
    variables = dict(re.findall(r"^(\w+) :?= (.*)$", makefile, flags=re.M))
    recipe = makefile.split("\nrun:", 1)[1].splitlines()[1].strip()
    recipe = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), recipe)
    words = recipe.split()
    assert words[0].endswith("/yulian") and words[1] == "demo", recipe
    return yulian(*words[1:])


def test_readme_walkthrough_then_make_run(tmp_path: Path) -> None:
    base = free_port_block(10)
    ports = {"8600": base, "9600": base + 4, "9700": base + 8, "8700": base + 9}
    for name in ("README.md", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    network = tmp_path / ".yulian" / "network"
    script = readme_walkthrough(ports)
    assert "ca revoke --org org1 --name client1" in script  # a revoked client
    assert "org create org5" in script  # an organisation proposed, not added
    try:
        walk = subprocess.run(
            ["bash", "-euo", "pipefail", "-x", "-c", script],
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT_S * 2,
            env=plain_env(),
            cwd=tmp_path,
        )
        assert walk.returncode == 0, walk.stdout[-3000:] + walk.stderr[-5000:]
        proposals = [int(m) for m in re.findall(r'^  "id": (\d+),$', walk.stdout, flags=re.M)]
        assert proposals == [2, 2, 2, 1, 2, 3], walk.stdout  # as the README's comments say
        assert '"value": 5' in walk.stdout

        demo = subprocess.run(
            [*make_run_command(), "--exit"],
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT_S,
            env=plain_env(),
            cwd=tmp_path,
        )
        output = demo.stdout + demo.stderr
        assert demo.returncode == 0, output
        assert "Traceback" not in output
        assert "evidence 1.0 is already active" in demo.stdout
        assert "org1: client1 (revoked); its CA issued org1/client2 for the demo" in demo.stdout
        assert "1. org1/client2 registered" in demo.stdout and "status ok" in demo.stdout
        assert "lookup: owner org2" in demo.stdout
        assert f"API http://127.0.0.1:{base + 9}/v1/health" in demo.stdout  # org5's node too
    finally:
        subprocess.run(
            yulian("network", "down", "--network", network),
            capture_output=True,
            timeout=120,
            env=plain_env(),
        )
