"""``yulian private`` on real node processes: a doctor writes a value from a file, the patient
grants consent, another hospital's doctor reads it (the value on stdout, the access record on
stderr), the regulator lists the trail, the patient revokes and the next read is refused with
exit 3 and no record; a non-member's write never leaves the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import make_cluster
from yulian.apps.privacy_setup import ensure_collection, ensure_member
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
VALUE = "病历 P-002: fracture of the left radius, cast 6 weeks".encode()


def yulian(root: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "yulian.cli.main", "private", *args, "--network", str(root)],
        capture_output=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_private_data_from_the_command_line(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, 4, genesis_contracts=False)
    root = cluster.layout.root
    cluster.start()
    try:
        ensure_collection(root, [n.url for n in cluster.nodes], HOSPITALS)
        ensure_member(root, "org1", "dr-a", {"role": "doctor"})
        ensure_member(root, "org2", "dr-b", {"role": "doctor"})
        ensure_member(root, "org3", "patient", {"subject": "P-002"})
        ensure_member(root, "org4", "inspector")
        record = tmp_path / "record.txt"
        record.write_bytes(VALUE)

        put = yulian(root, "put", "hospitals", "P-002/x-ray", str(record), "--subject", "P-002",
                     "--org", "org1", "--user", "dr-a")  # fmt: skip
        assert put.returncode == 0, put.stderr
        written = json.loads(put.stdout)
        assert written["version"] == 1 and written["owner"] == "org1"
        assert VALUE not in put.stdout

        outsider = yulian(root, "put", "hospitals", "P-002/y", str(record),
                          "--org", "org4", "--user", "inspector")  # fmt: skip
        assert outsider.returncode == 3
        assert b"not a member of 'hospitals'" in outsider.stderr and b"not sent" in outsider.stderr

        grant = yulian(root, "grant", "hospitals", "org2:client:role=doctor",
                       "--purpose", "treatment", "--subject", "P-002",
                       "--org", "org3", "--user", "patient")  # fmt: skip
        assert grant.returncode == 0, grant.stderr
        grant_id = json.loads(grant.stdout)["id"]

        read_args = ("read", "hospitals", "P-002/x-ray", "--purpose", "treatment",
                     "--org", "org2", "--user", "dr-b")  # fmt: skip
        read = yulian(root, *read_args)
        assert read.returncode == 0, read.stderr
        assert read.stdout == VALUE and b"basis grant (grant " in read.stderr

        trail = yulian(root, "trail", "hospitals", "--org", "org4", "--user", "inspector")
        assert trail.returncode == 0, trail.stderr
        items = json.loads(trail.stdout)["items"]
        assert [(r["reader_org"], r["grant_id"]) for r in items] == [("org2", grant_id)]
        refused_trail = yulian(root, "trail", "hospitals", "--org", "org2", "--user", "dr-b")
        assert refused_trail.returncode == 3 and b"is not an auditor" in refused_trail.stderr

        revoke = yulian(root, "revoke", str(grant_id), "--org", "org3", "--user", "patient")
        assert revoke.returncode == 0, revoke.stderr
        assert json.loads(revoke.stdout)["revoked_at"] > 0
        again = yulian(root, *read_args)
        assert again.returncode == 3 and b"was revoked" in again.stderr and again.stdout == b""
        mine = yulian(root, "trail", "hospitals", "--subject", "P-002",
                      "--org", "org3", "--user", "patient")  # fmt: skip
        assert mine.returncode == 0, mine.stderr
        assert json.loads(mine.stdout)["total"] == 1  # the refused read left no record
    finally:
        cluster.stop()
