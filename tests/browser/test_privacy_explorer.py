"""The explorer's privacy page in a real browser against a real 4-organisation network, in both
suites (decision 0084): signing in with a key and certificate signs every query in the browser
(Ed25519, or SM2 with SM3) exactly as the node checks it; the regulator sees the collections,
the access trail and the grants but never a value; the patient sees who read their record and
their grants, and is refused the whole trail; an anonymous visitor sees the collections'
definitions and is refused the trail; a key that does not match its certificate does not sign
in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import Cluster, make_cluster
from yulian.apps.privacy_setup import ensure_collection, ensure_member
from yulian.pki.layout import find_credential
from yulian.sdk import Client
from yulian.sdk.private import PrivateData
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
SECRET = "glucose 11.2 mmol/L"


@pytest.fixture(params=["standard", "gm"])
def network(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    cluster = make_cluster(tmp_path, 4, suite=request.param, genesis_contracts=False)
    cluster.start()
    try:
        root = cluster.layout.root
        urls = {n.name.split("-")[0]: n.url for n in cluster.nodes}
        ensure_collection(root, list(urls.values()), HOSPITALS)

        def member(org: str, name: str, **attributes: str) -> PrivateData:
            wallet = ensure_member(root, org, name, attributes)
            return PrivateData(Client(urls[org], wallet))

        doctor_a = member("org1", "dr-a", role="doctor")
        doctor_a.put("hospitals", "P-001/v1", f"病历 {SECRET}".encode(), "P-001")
        patient = member("org3", "patient", subject="P-001")
        grant = patient.grant(
            "hospitals", "org2:client:role=doctor", ["treatment"], subject="P-001"
        )
        member("org2", "dr-b", role="doctor").read("hospitals", "P-001/v1", "treatment")
        patient.revoke(grant["id"])
        ensure_member(root, "org4", "inspector")
        yield cluster
    finally:
        cluster.stop()


def open_page(page: Page, cluster: Cluster) -> None:
    page.goto(f"{cluster.nodes[3].url}/explorer/privacy.html")
    expect(page.locator("body[data-ready=true]")).to_be_attached()


def sign_in(page: Page, cluster: Cluster, org: str, name: str, cert_of: str = "") -> None:
    root = cluster.layout.root
    cred = find_credential(root, org, name)
    cert = find_credential(root, org, cert_of).cert if cert_of else cred.cert
    page.set_input_files("#key-file", str(cred.key))
    page.set_input_files("#cert-file", str(cert))
    page.click("#signin-button")


def test_the_privacy_page_shows_each_caller_what_the_api_allows(
    page: Page, network: Cluster
) -> None:
    open_page(page, network)
    # anonymous: the definitions are governance, public; the trail is refused
    expect(page.locator("#collections table")).to_contain_text("org1, org2")
    expect(page.locator("#trail .refused")).to_contain_text("anonymous is not an auditor")

    sign_in(page, network, "org4", "inspector")
    expect(page.locator("#who")).to_contain_text("org4 · client · inspector")
    expect(page.locator("#collections table")).to_contain_text("org1, org2")
    trail = page.locator("#trail table tbody tr")
    expect(trail).to_have_count(1)
    expect(trail.first).to_contain_text("org2 client role=doctor")
    expect(trail.first).to_contain_text("treatment")
    expect(trail.first).to_contain_text("grant #1")
    expect(page.locator("#grants table tbody tr")).to_contain_text("revoked")
    expect(page.locator("#mine")).to_contain_text("no subject attribute")
    assert SECRET not in page.content()  # records, never values

    page.reload()  # signs out
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    sign_in(page, network, "org3", "patient")
    expect(page.locator("#who")).to_contain_text("subject=P-001")
    mine = page.locator("#mine table tbody tr")
    expect(mine).to_have_count(1)
    expect(mine.first).to_contain_text("org2")
    expect(page.locator("#trail .refused")).to_contain_text("is not an auditor")
    expect(page.locator("#grants table tbody tr")).to_have_count(1)

    page.reload()
    expect(page.locator("body[data-ready=true]")).to_be_attached()
    sign_in(page, network, "org4", "inspector", cert_of="client1")
    expect(page.locator("#who")).to_contain_text("does not match the certificate")
    assert SECRET not in page.content()
