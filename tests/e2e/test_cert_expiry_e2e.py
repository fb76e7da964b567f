"""Certificate expiry and renewal on a real network (RELIABILITY P1, issue 4 "Certificates").

A validator's node certificate expires: that node cannot start again (its certificate is
refused with ``certificate_expired``) and the network goes on with the other three (≤ f down).
Its organisation renews the certificate with the same key (``renew_cert``); the node starts,
catches up and signs commit certificates again. Renewal is not a membership change: the
validator set (and every header's ``validators_hash``) is the same before and after.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import make_cluster
from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import der_to_pem, issue_certificate, parse_certificate, pem_to_der
from yulian.pki.members import renew_cert

pytestmark = pytest.mark.e2e

LIFETIME_S = 12


def signers(url: str, height: int) -> list[str]:
    r = httpx.get(f"{url}/v1/blocks/{height}", timeout=5)
    r.raise_for_status()
    return [s["validator"] for s in r.json()["commit"]["signatures"]]


def test_expired_validator_certificate_then_renewal(tmp_path: Path) -> None:
    cluster = make_cluster(tmp_path, 4, block_interval_ms=100)
    layout = cluster.layout
    suite = get_suite(cluster.genesis.suite)
    org4 = layout.org("org4")
    node_cred = layout.credential("org4", "org4-node0")
    old = parse_certificate(pem_to_der(node_cred.cert.read_bytes()))
    now = datetime.now(UTC).replace(microsecond=0)
    short = issue_certificate(
        suite,
        ca_cert=pem_to_der(org4.ca_cert.read_bytes()),
        ca_key=suite.load_private_key(org4.ca_key.read_bytes()),
        org="org4",
        role="node",
        name="org4-node0",
        public_key=old.public_key,
        not_before=now - timedelta(minutes=5),
        not_after=now + timedelta(seconds=LIFETIME_S),
    )
    node_cred.cert.write_bytes(der_to_pem(short))
    expires_at = time.time() + LIFETIME_S
    node4 = cluster.nodes[3]
    others = cluster.nodes[:3]
    cluster.start()
    try:
        cluster.wait_height(3)
        validators_hash = node4.header(2)["validators_hash"]
        node4.stop()
        time.sleep(max(0.0, expires_at - time.time()) + 1.5)

        # the expired node cannot start; the other three go on
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "yulian.cli.main",
                "node",
                "start",
                "--config",
                str(node4.config),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode != 0
        assert "certificate_expired" in run.stderr + run.stdout
        before = max(n.height() for n in others)
        cluster.wait_height(before + 3, others, timeout_s=30)

        # renewal with the same key: the node comes back as the same validator
        renewed = renew_cert(layout.root, "org4", "org4-node0", validity_days=30)
        info = parse_certificate(pem_to_der(renewed.cert.read_bytes()))
        assert info.public_key == old.public_key and info.not_after_ms > time.time() * 1000
        node4.start()
        head = max(n.height() for n in others)
        cluster.wait_height(head, [node4], timeout_s=60)
        deadline = time.monotonic() + 60
        signed_again = None
        while signed_again is None and time.monotonic() < deadline:
            top = others[0].height()
            signed_again = next(
                (h for h in range(head, top + 1) if "org4-node0" in signers(others[0].url, h)),
                None,
            )
            time.sleep(0.3)
        assert signed_again is not None, "the renewed validator never signed again"
        cluster.assert_agree(signed_again)
        for h in (2, before, signed_again):
            assert others[0].header(h)["validators_hash"] == validators_hash
    finally:
        cluster.stop()
