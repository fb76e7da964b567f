"""`yulian demo NAME`: every application's story in full against real node processes, one after
another on one network directory (each run finds the contracts of the runs before it active and
plays anew); and `yulian demo` (`make run`): the explorer's URL first, a little of every story,
and a running chain on which the explorer and the API show each of them."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import free_port_block
from tests.e2e.test_demo_e2e import DEMO_TIMEOUT_S, plain_env
from yulian.apps.stories import STORIES

pytestmark = pytest.mark.e2e

# a line each story must print: a step the chain committed, and one it refused
EXPECTED = {
    "evidence": ["verified offline", "reverted (digest already registered)"],
    "governance": ["proposes max_block_txs=", ": applied at height"],
    "trace": [
        "(grower) creates batch PE-",
        "refused — only the custodian may record fertilised",
        "refused — batch PE-",
        "a consumer's scan of PE-",
    ],
    "finance": [
        "(bank) discounts it",
        "refused — the part holds only 300000.00",
        "71234.00 CNY at rate 7.12340000",
        "donation #0 went to: 1,000 books (20000.00)",
    ],
    "credentials": [
        "verified offline: issued by",
        "refused (the claims and salt do not match the issued digest)",
        "the chain now answers: not valid (revoked)",
        "sealings of the contract: SEAL-",
    ],
    "trading": [
        "(regulator) freezes CU-",
        "refused — lot CU-",
        "large_order at height",
        "round_trip at height",
    ],
    "emr": [
        "refused — read refused: no consent in force",
        "under grant",
        "the regulator reads the record itself: refused",
    ],
    "datashare": [
        "refused — read refused: no consent in force",
        "change feed (数据变化实时探知) shows it",
        "the regulator reads a value itself: refused",
    ],
    "datashare-fund": ["files request", "org2 reads version 2", "org4's node holds"],
}
STEP = re.compile(r"^ ?\d+\. \S+ ", re.M)


def yulian(*args: str | Path | int) -> list[str]:
    """The command line of ``yulian ARGS`` (``yulian demo`` starts the network's nodes)."""
    return [sys.executable, "-m", "yulian.cli.main", *map(str, args)]


def run(*args: str | Path | int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        yulian(*args), capture_output=True, text=True, timeout=DEMO_TIMEOUT_S, env=plain_env()
    )


def test_the_stories_are_listed() -> None:
    r = subprocess.run(
        yulian("demo", "--list"), capture_output=True, text=True, timeout=60, env=plain_env()
    )
    assert r.returncode == 0, r.stderr
    names = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    assert names == [
        "evidence",
        "governance",
        "trace",
        "finance",
        "credentials",
        "trading",
        "emr",
        "datashare",
        "datashare-fund",
    ]
    assert names == list(STORIES) and set(EXPECTED) == set(STORIES)
    assert "溯源 trace" in r.stdout
    lines = [line for line in r.stdout.splitlines() if line.strip()]
    title_columns = {len(line) - len(line.split(maxsplit=1)[1]) for line in lines}
    assert len(title_columns) == 1, r.stdout  # every title starts in the same column
    bad = subprocess.run(
        yulian("demo", "nope"), capture_output=True, text=True, timeout=60, env=plain_env()
    )
    assert bad.returncode == 1 and "no story 'nope'" in bad.stderr


def test_every_story_in_full_on_one_network(tmp_path: Path) -> None:
    port = free_port_block(8)
    network = tmp_path / "network"
    for name, story in STORIES.items():
        r = run("demo", name, "--network", network, "--exit", "--api-port", port,
                "--p2p-port", port + 4)  # fmt: skip
        out = r.stdout
        assert r.returncode == 0, f"{name}: {out}{r.stderr}"
        assert "Traceback" not in out + r.stderr
        assert f"== {story.title} ==" in out
        assert out.count("== ") == 1, f"{name} played another story too"
        for line in EXPECTED[name]:
            assert line in out, f"{name}: {line!r} missing from\n{out}"
        assert len(STEP.findall(out)) >= 3, out
    again = run("demo", "trace", "--network", network, "--exit")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "trace 1.0 is already active" in again.stdout
    assert "defines the tea template" not in again.stdout  # on chain since the first run
    assert not list(network.glob("nodes/*/node.pid"))


def test_make_run_opens_onto_the_explorer_and_leaves_every_story_on_the_chain(
    tmp_path: Path,
) -> None:
    port = free_port_block(8)
    network = tmp_path / "network"
    out = tmp_path / "demo.out"
    started = time.monotonic()
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
        text = out.read_text()
        assert "press Ctrl-C" in text, text
        print(f"make run took {time.monotonic() - started:.1f} s to the running network")
        explorer = f"http://127.0.0.1:{port}/explorer/"
        assert text.splitlines()[0].startswith(f"explorer  {explorer}")
        titles = re.findall(r"^== (.*) ==$", text, re.M)
        assert titles == [s.title for s in STORIES.values()]
        assert "Traceback" not in text

        page = httpx.get(explorer, timeout=10)
        assert page.status_code == 200 and "渝链浏览器" in page.text
        trace_url = re.search(r"public trace page: (\S+)", text)
        assert trace_url is not None, text
        assert httpx.get(trace_url.group(1), timeout=10).status_code == 200
        lot = trace_url.group(1).split("batch=")[1]
        api = f"http://127.0.0.1:{port}"

        def query(contract: str, method: str, *args: object) -> object:
            r = httpx.post(
                f"{api}/v1/query",
                json={"contract": contract, "method": method, "args": list(args)},
                timeout=10,
            )
            body = r.json()
            assert body["status"] == "ok", body
            return body["value"]

        tag = lot.split("-")[1]
        assert query("trace", "get_batch", lot)["parents"] == [f"PE-{tag}"]  # type: ignore[index]
        assert query("finance", "get_part", f"YS-{tag}")["holder"] == "org4"  # type: ignore[index]
        check = query("credentials", "get_attestation", f"DEG-{tag}")
        assert check["status"] == "valid"  # type: ignore[index]
        assert query("trading", "get_lot", f"CU-{tag}")["frozen"]  # type: ignore[index]
        assert query("consortium", "proposal", 1)["status"] == "applied"  # type: ignore[index]
        evidence = re.search(r"registered (contract-\d+\.txt): tx ([0-9a-f]{64})", text)
        assert evidence is not None
        assert httpx.get(f"{api}/v1/txs/{evidence.group(2)}", timeout=10).status_code == 200
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(60)
    assert code == 0, out.read_text()
    assert not list(network.glob("nodes/*/node.pid"))
