"""The access matrix on real node processes (issue 13's done-when), in both suites:
organisation × role/attribute × operation × consent state, each operation at the acting
organisation's own node through the SDK (and a read through the CLI). Every allowed read
succeeds with the value and leaves exactly one access record on the trail, naming the reader
and the consent it relied on; every denied operation is refused with its reason, leaves no
record and changes nothing (the trail, the records, the grants); anonymous callers get 401."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.harness import Cluster, make_cluster
from yulian.apps.privacy_setup import ensure_collection, ensure_member
from yulian.sdk import ApiError, Client
from yulian.sdk.private import PrivateData, PrivateDataError
from yulian.types.privacy import CollectionDef

pytestmark = pytest.mark.e2e

HOSPITALS = CollectionDef.from_view(
    {
        "name": "hospitals",
        "members": ["org1", "org2"],
        "writers": ["*:client:role=doctor"],
        "readers": ["*:client:role=doctor"],
        "auditors": ["org4:*"],
        "consent": True,
        "subject_issuers": ["org3"],
        "blocks_to_live": 0,
    }
)
KEY = "P-001/visit-1"
VALUE = "病历 P-001: influenza A, oseltamivir 75 mg bid".encode()
STATES = ("none", "granted", "revoked")


@dataclass(frozen=True)
class Who:
    label: str
    org: str
    name: str
    attributes: dict[str, str]

    @property
    def doctor(self) -> bool:
        return self.attributes.get("role") == "doctor"


PEOPLE = (
    Who("hospital A doctor", "org1", "dr-a", {"role": "doctor"}),
    Who("hospital A nurse", "org1", "nurse-a", {}),
    Who("hospital B doctor", "org2", "dr-b", {"role": "doctor"}),
    Who("hospital B clerk", "org2", "clerk-b", {}),
    Who("the patient", "org3", "patient", {"subject": "P-001"}),
    Who("the regulator", "org4", "inspector", {}),
)


def may_read(who: Who, state: str) -> bool:
    """The rule, written out: a doctor of a member hospital; hospital B only with consent."""
    member_doctor = who.org in HOSPITALS.members and who.doctor
    return member_doctor and (who.org == "org1" or state == "granted")


def read_refusal(who: Who, state: str) -> str:
    """Why a read is refused, by the first rule it fails."""
    if who.org not in HOSPITALS.members:
        return "is not a member of collection 'hospitals'"
    if not who.doctor:
        return "is not among the readers of 'hospitals'"
    return "no consent in force" if state == "none" else "was revoked"


def may_write(who: Who) -> bool:
    return who.org in HOSPITALS.members and who.doctor


def may_audit(who: Who) -> bool:
    return who.org == "org4"


@pytest.fixture(params=["standard", "gm"])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    c = make_cluster(tmp_path, 4, suite=request.param, genesis_contracts=False)
    c.start()
    try:
        yield c
    finally:
        c.stop()


class World:
    def __init__(self, cluster: Cluster) -> None:
        self.root = cluster.layout.root
        self.urls = {n.name.split("-")[0]: n.url for n in cluster.nodes}
        self.clients: dict[str, PrivateData] = {}
        self.writers: dict[str, PrivateData] = {}  # at hospital A's node: the chain decides
        for who in PEOPLE:
            wallet = ensure_member(self.root, who.org, who.name, who.attributes)
            self.clients[who.label] = PrivateData(Client(self.urls[who.org], wallet))
            self.writers[who.label] = PrivateData(Client(self.urls["org1"], wallet))
        self.regulator = self.clients["the regulator"]
        self.writes = 0

    def close(self) -> None:
        for c in [*self.clients.values(), *self.writers.values()]:
            c.client.close()

    def snapshot(self) -> dict[str, Any]:
        """Everything a refused operation must leave unchanged."""
        records = self.regulator.records("hospitals", 0, 100)
        return {
            "trail": self.regulator.trail("hospitals", 0, 1)["total"],
            "records": sorted((r["key"], r["version"]) for r in records["items"]),
            "grants": self.regulator.grants("hospitals", limit=1)["total"],
        }

    def last_access(self) -> dict[str, Any]:
        total = self.regulator.trail("hospitals", 0, 1)["total"]
        items: list[dict[str, Any]] = self.regulator.trail("hospitals", total - 1, 1)["items"]
        return items[0]


def refused(action: Any) -> str:
    try:
        action()
    except (ApiError, PrivateDataError) as e:
        return str(e)
    raise AssertionError("expected a refusal")


def test_the_access_matrix(cluster: Cluster) -> None:
    w = World(cluster)
    try:
        ensure_collection(w.root, list(w.urls.values()), HOSPITALS)
        w.clients["hospital A doctor"].put("hospitals", KEY, VALUE, "P-001")
        grant_id = 0
        outcomes: list[tuple[str, str, str, bool]] = []
        for state in STATES:
            if state == "granted":
                grant = w.clients["the patient"].grant(
                    "hospitals", "org2:client:role=doctor", ["treatment"], subject="P-001"
                )
                grant_id = int(grant["id"])
            if state == "revoked":
                w.clients["the patient"].revoke(grant_id)
            for who in PEOPLE:
                outcomes.append((state, who.label, "read", check_read(w, who, state, grant_id)))
                outcomes.append((state, who.label, "write", check_write(w, who)))
                outcomes.append((state, who.label, "audit", check_audit(w, who)))
        allowed = {(s, p, op) for s, p, op, ok in outcomes if ok}
        # the matrix exercised both sides of every rule
        assert ("granted", "hospital B doctor", "read") in allowed
        assert ("none", "hospital B doctor", "read") not in allowed
        assert ("revoked", "hospital B doctor", "read") not in allowed
        assert len(allowed) == (3 + 1) + 3 * 2 + 3 * 1  # reads (A ×3, B once), writes, audits
        check_cli_and_anonymous(w, cluster, grant_id)
    finally:
        w.close()


def check_read(w: World, who: Who, state: str, grant_id: int) -> bool:
    before = w.snapshot()
    client = w.clients[who.label]
    if not may_read(who, state):
        why = refused(lambda: client.read("hospitals", KEY, "treatment"))
        assert read_refusal(who, state) in why, (who, state, why)
        assert w.snapshot() == before, (who, state)
        return False
    read = client.read("hospitals", KEY, "treatment")
    assert read.value == VALUE
    after = w.snapshot()
    assert after["trail"] == before["trail"] + 1, (who, state)  # exactly one record
    assert {k: v for k, v in after.items() if k != "trail"} == {
        k: v for k, v in before.items() if k != "trail"
    }
    record = w.last_access()
    assert record["id"] == read.access["id"] and record["reader_org"] == who.org
    assert record["reader_attributes"] == who.attributes and record["purpose"] == "treatment"
    if who.org == "org1":
        assert (record["basis"], record["grant_id"]) == ("owner", 0)
    else:
        assert (record["basis"], record["grant_id"]) == ("grant", grant_id)
    return True


def check_write(w: World, who: Who) -> bool:
    w.writes += 1
    key = f"P-001/note-{w.writes}"
    before = w.snapshot()
    client = w.writers[who.label]
    if not may_write(who):
        why = refused(lambda: client.put("hospitals", key, b"a note", "P-001"))
        assert "is not a member" in why or "is not among the writers" in why, (who, why)
        assert w.snapshot() == before, who
        return False
    record = client.put("hospitals", key, b"a note", "P-001")
    assert record["owner"] == who.org and record["version"] == 1
    after = w.snapshot()
    assert after["trail"] == before["trail"]  # a write is no read
    assert after["records"] == sorted([*before["records"], (key, 1)])
    return True


def check_audit(w: World, who: Who) -> bool:
    client = w.clients[who.label]
    if not may_audit(who):
        refused(lambda: client.trail("hospitals", 0, 10))
        return False
    assert client.trail("hospitals", 0, 10)["total"] >= 0
    return True


def check_cli_and_anonymous(w: World, cluster: Cluster, grant_id: int) -> None:
    """The CLI reads on the record like the SDK (after the revocation it is refused, exit 3,
    no record); an anonymous caller gets 401 for a value and a refusal for the trail."""
    cli = [sys.executable, "-m", "yulian.cli.main", "private", "read", "hospitals", KEY]
    args = ["--purpose", "treatment", "--network", str(w.root)]
    before = w.snapshot()
    ok = subprocess.run(
        [*cli, *args, "--org", "org1", "--user", "dr-a"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == VALUE and b"access record" in ok.stderr
    assert w.snapshot()["trail"] == before["trail"] + 1
    denied = subprocess.run(
        [*cli, *args, "--org", "org2", "--user", "dr-b"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert denied.returncode == 3, denied.stderr
    assert b"was revoked" in denied.stderr and denied.stdout == b""
    assert w.snapshot()["trail"] == before["trail"] + 1
    url = w.urls["org1"]
    assert httpx.get(f"{url}/v1/private/reads/1", timeout=10).status_code == 401
    with Client(url) as anonymous:
        with pytest.raises(ApiError):
            anonymous.query("access", "trail", ["hospitals", 0, 10])
        with pytest.raises(ApiError):
            anonymous.query("collections", "records", ["hospitals", 0, 10])
