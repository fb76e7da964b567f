"""The privacy guarantees on real node processes, after ``yulian demo emr``, ``yulian demo
datashare`` and ``yulian demo datashare-fund`` (issue 13's done-when), in both suites:

- the private plaintext is in no file of the network — no node's data directory, log or
  block, members' included (their store seals it) — while every member node holds it and no
  other node does;
- a member node wiped and resynced recovers the private data it is entitled to, and only that;
- after a governed purge no node holds the purged values (their sealed bytes are gone from the
  store files too), the chain still shows the digests, and a non-member node wiped after the
  purge resyncs every block (each commit verified, each block re-executed) to the same state.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.harness import Cluster, ClusterNode, make_cluster
from yulian.apps.privacy_setup import govern_with_local_admins
from yulian.privacy.store import PrivateStore
from yulian.sdk import Client, Wallet
from yulian.sdk.private import PrivateData

pytestmark = pytest.mark.e2e

DEMO_TIMEOUT_S = 300
SYNC_TIMEOUT_S = 90.0
# distinctive bytes of the values each story writes (its records carry a fresh tag as well)
EMR_MARK = b"metformin 500 mg bid"
HOUSEHOLD_V1 = "长岭北路".encode()  # replaced by version 2: no node keeps it
HOUSEHOLD_V2 = "新华路 21 号".encode()
LICENCE = "贵阳茶叶有限公司".encode()
FUND = b"CQ-0005-1187"  # yulian demo datashare-fund (公积金): the bank reads it
TITLE = "王五".encode()
HOSPITALS = {"org1", "org2"}
GOV_SHARE = {"org1", "org2", "org3"}


def demo(root: Path, story: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    r = subprocess.run(
        [sys.executable, "-m", "yulian.cli.main", "demo", story, "--network", str(root), "--exit"],
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        env=env,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def org_of(node: ClusterNode) -> str:
    return node.name.split("-")[0]


@contextmanager
def opened_store(node: ClusterNode, suite: str) -> Iterator[PrivateStore]:
    store = PrivateStore(node.data_dir / "private", suite)
    try:
        yield store
    finally:
        store.close()


def values_held(node: ClusterNode, suite: str) -> dict[str, list[bytes]]:
    """The node's held values by collection, opened with its own key (the node stopped)."""
    out: dict[str, list[bytes]] = {}
    with opened_store(node, suite) as store:
        for digest, collection, _key, _version in store.held():
            item = store.item(digest)
            assert item is not None
            out.setdefault(collection, []).append(item.value)
    return out


def files_containing(top: Path, needles: list[bytes]) -> list[str]:
    found = []
    for path in sorted(p for p in top.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [f"{path}: {n!r}" for n in needles if n in data]
    return found


def held_now(url: str, root: Path, org: str) -> dict[str, int]:
    with Client(url, Wallet.from_network(root, org, "auditor-self")) as c:
        held: dict[str, int] = PrivateData(c).status()["held"]
        return held


def wait_for(what: str, check: object, timeout_s: float = SYNC_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout_s} s")


def resync(cluster: Cluster, node: ClusterNode) -> None:
    """Wipe ``node``'s data directory and start it again; wait until it has caught up."""
    node.stop()
    shutil.rmtree(node.data_dir)
    node.start()
    others = [n for n in cluster.nodes if n is not node]
    target = max(n.height() for n in others)
    cluster.wait_height(target, [node], timeout_s=SYNC_TIMEOUT_S)
    cluster.wait_height(target, timeout_s=SYNC_TIMEOUT_S)  # `target` was the highest of the others
    cluster.assert_agree(target)


@pytest.mark.parametrize("suite", ["standard", "gm"])
def test_private_values_stay_with_members_survive_resync_and_purge(
    tmp_path: Path, suite: str
) -> None:
    cluster = make_cluster(tmp_path, 4, suite=suite, genesis_contracts=False)
    root = cluster.layout.root
    assert "10. the patient sees who read their records" in demo(root, "emr")
    assert "the regulator reads a value itself: refused" in demo(root, "datashare")
    assert "org2 reads version 2" in demo(root, "datashare-fund")
    marks = [EMR_MARK, HOUSEHOLD_V1, HOUSEHOLD_V2, LICENCE, FUND, TITLE]

    # the demos stopped their nodes: no file anywhere holds a plaintext (stores are sealed)
    assert files_containing(tmp_path, marks) == []
    held = {org_of(n): values_held(n, suite) for n in cluster.nodes}
    for org, by_collection in held.items():
        hospital_values = by_collection.get("hospitals", [])
        gov_values = b"".join(by_collection.get("gov-share", []))
        fund_values = b"".join(by_collection.get("fund-share", []))
        assert any(EMR_MARK in v for v in hospital_values) == (org in HOSPITALS), org
        assert (HOUSEHOLD_V2 in gov_values and LICENCE in gov_values) == (org in GOV_SHARE), org
        assert (FUND in fund_values and TITLE in fund_values) == (org in GOV_SHARE), org
        assert HOUSEHOLD_V1 not in gov_values  # superseded by version 2
        assert set(by_collection) <= {"hospitals", "gov-share", "fund-share"}
    assert held["org4"] == {}

    cluster.start()
    try:
        org3 = next(n for n in cluster.nodes if org_of(n) == "org3")
        before = held_now(org3.url, root, "org3")
        resync(cluster, org3)
        wait_for(
            "org3 recovers its values",
            lambda: held_now(org3.url, root, "org3") == before,
        )
        org3.stop()
        recovered = values_held(org3, suite)
        # entitled to gov-share and fund-share, not to hospitals
        assert set(recovered) == {"gov-share", "fund-share"}
        for name in recovered:
            assert sorted(recovered[name]) == sorted(held["org3"][name])
        org3.start()

        # a governed purge of every hospital record
        urls = [n.url for n in cluster.nodes]
        with Client(urls[3], Wallet.from_network(root, "org4", "inspector")) as regulator:
            records = PrivateData(regulator).records("hospitals", 0, 100)["items"]
        keys = sorted({r["key"] for r in records})
        assert keys
        sealed = sealed_bytes(cluster, suite, "hospitals")
        for key in keys:
            govern_with_local_admins(root, urls, "collections", "purge", ["hospitals", key])
        for node in cluster.nodes:
            org = org_of(node)
            wait_for(
                f"{org} purges the hospital records",
                lambda node=node, org=org: "hospitals" not in held_now(node.url, root, org),
            )
        with Client(urls[3], Wallet.from_network(root, "org4", "inspector")) as regulator:
            after = PrivateData(regulator).records("hospitals", 0, 100)["items"]
        assert {r["key"] for r in after} == set(keys)
        assert all(r["purged"] and len(r["digest"]) == 64 for r in after)

        # every block still verifies: a wiped non-member node replays the whole chain
        org4 = next(n for n in cluster.nodes if org_of(n) == "org4")
        resync(cluster, org4)
    finally:
        cluster.stop()
    assert all("hospitals" not in values_held(n, suite) for n in cluster.nodes)
    assert files_containing(tmp_path, marks + sealed) == []


def sealed_bytes(cluster: Cluster, suite: str, collection: str) -> list[bytes]:
    """The sealed form of ``collection``'s values as the member nodes store them."""
    import sqlite3

    out = []
    for node in cluster.nodes:
        db = sqlite3.connect(node.data_dir / "private" / "store.sqlite")
        try:
            rows = db.execute("SELECT sealed FROM items WHERE collection = ?", (collection,))
            out += [bytes(r[0]) for r in rows]
        finally:
            db.close()
    assert out, f"no node holds {collection}"
    return out
