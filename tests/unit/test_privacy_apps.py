"""The ``emr`` and ``datashare`` application contracts on a chain in memory, in both suites:
only doctors write records and the chain keeps only digests; the datashare catalogue, requests
approved only with a consent grant that covers the requester and purpose, updates that feed
the change feed of the provider and approved requesters only; and the seed configurations."""

from __future__ import annotations

import pytest
from tests.unit.privacy_world import World, make_world, propose

from yulian.apps import datashare, emr
from yulian.types.privacy import CollectionDef


@pytest.fixture(params=["standard", "gm"])
def world(request: pytest.FixtureRequest) -> World:
    return make_world(request.param)


def test_emr_records_hold_only_digests_and_only_doctors_write(world: World) -> None:
    h = world.h
    h.deploy(emr.CONTRACT_NAME, emr.contract_source())
    value = "病历: 2型糖尿病".encode()
    digest = world.digest("hospitals", "P-001/v1", value)
    stored = h.ok(world.doctor_a, "emr", "write", "P-001", "v1", digest, len(value), "outpatient")
    assert stored["digest"] == digest.hex() and stored["subject"] == "P-001"
    assert [e.name for e in h.events("emr")] == ["record_written"]
    assert not any(value in v for v in h.ledger.data.values())
    records = h.query("emr", "records", "P-001", caller=world.doctor_b)
    assert [(r["key"], r["kind"], r["version"]) for r in records] == [("P-001/v1", "outpatient", 1)]
    nurse = h.call(world.nurse_a, "emr", "write", "P-001", "v2", digest, len(value), "x")
    assert nurse.status == "reverted" and "only a doctor" in nurse.message
    bad = h.call(world.doctor_a, "emr", "write", "P 001", "v2", digest, len(value), "x")
    assert bad.status == "reverted" and "patient: 1..64" in bad.message
    assert h.state("emr", "patient/P-001") == ["P-001/v1"]


GOV = CollectionDef.from_view(
    {
        "name": "gov-share",
        "members": ["org1", "org2", "org3"],
        "writers": ["*:client:role=publisher"],
        "readers": ["*:client:role=caseworker"],
        "auditors": ["org4:*"],
        "consent": True,
        "subject_issuers": [],
        "blocks_to_live": 0,
    }
)
DATASET = ["households", "户籍", "residents' households", {"name": "str"}, "gov-share"]


def share_world(suite: str) -> tuple[World, dict[str, object]]:
    w = make_world(suite)
    assert propose(w.h, "collections", "define", GOV.to_value())["status"] == "applied"
    w.h.deploy(datashare.CONTRACT_NAME, datashare.contract_source())
    people = {
        "publisher": w.h.member("org1", "pub", attributes={"role": "publisher"}),
        "caseworker": w.h.member("org2", "cw", attributes={"role": "caseworker"}),
        "other": w.h.member("org3", "cw3", attributes={"role": "caseworker"}),
    }
    return w, people


@pytest.mark.parametrize("suite", ["standard", "gm"])
def test_datashare_requests_are_approved_only_with_a_covering_grant(suite: str) -> None:
    w, p = share_world(suite)
    h = w.h
    published = h.ok(p["publisher"], "datashare", "publish", *DATASET)
    assert published["provider"] == "org1" and published["version"] == 0
    again = h.call(p["caseworker"], "datashare", "publish", *DATASET)
    assert again.status == "reverted" and "already published" in again.message
    value = b'{"name": "zhang san"}'
    change = h.ok(
        p["publisher"], "datashare", "update", "households",
        w.digest("gov-share", "households", value), len(value),
    )  # fmt: skip
    assert change["version"] == 1 and [e.name for e in h.events("datashare")][-1] == "changed"
    assert not any(value in v for v in h.ledger.data.values())
    foreign = h.call(p["caseworker"], "datashare", "update", "households", bytes(32), 3)
    assert foreign.status == "reverted" and "only the provider" in foreign.message

    filed = h.ok(p["caseworker"], "datashare", "request", "households", "subsidy-review")
    assert filed["number"] == 1 and filed["status"] == "open"
    # a grant for another organisation, or for another purpose, approves nothing
    wrong_org = h.ok(
        h.admin("org1"), "consent", "grant", "gov-share", "", "households",
        "org3:client:role=caseworker", ["subsidy-review"], 0,
    )  # fmt: skip
    refused = h.call(h.admin("org1"), "datashare", "approve", "households", 1, wrong_org["id"])
    assert refused.status == "reverted" and "not for the requester" in refused.message
    h.ok(h.admin("org1"), "consent", "revoke", wrong_org["id"])
    wrong_purpose = h.ok(
        h.admin("org1"), "consent", "grant", "gov-share", "", "households",
        "org2:client:role=caseworker", ["marketing"], 0,
    )  # fmt: skip
    refused = h.call(h.admin("org1"), "datashare", "approve", "households", 1, wrong_purpose["id"])
    assert refused.status == "reverted" and "does not cover the purpose" in refused.message
    # only the provider's admin decides; the consumer cannot approve itself
    self_approve = h.call(p["caseworker"], "datashare", "approve", "households", 1, 1)
    assert self_approve.status == "reverted" and "only the provider" in self_approve.message
    # before approval the requester does not follow the dataset's changes
    not_yet = h.query_result("datashare", "changes", "households", 0, caller=p["caseworker"])
    assert not_yet.status == "reverted" and "approved requesters" in not_yet.message
    grant = h.ok(
        h.admin("org1"), "consent", "grant", "gov-share", "", "households",
        "org2:client:role=caseworker", ["subsidy-review"], 0,
    )  # fmt: skip
    approved = h.ok(h.admin("org1"), "datashare", "approve", "households", 1, grant["id"])
    assert approved["status"] == "approved" and approved["grant_id"] == grant["id"]
    twice = h.call(h.admin("org1"), "datashare", "approve", "households", 1, grant["id"])
    assert twice.status == "reverted" and "already approved" in twice.message
    feed = h.query("datashare", "changes", "households", 0, caller=p["caseworker"])
    assert [c["version"] for c in feed] == [1]
    outsider = h.query_result("datashare", "changes", "households", 0, caller=p["other"])
    assert outsider.status == "reverted"
    # the consent grant is what lets the read through: one access record, on the trail
    read = h.ok(p["caseworker"], "access", "read", "gov-share", "households", "subsidy-review")
    assert read["basis"] == "grant" and read["grant_id"] == grant["id"]
    denied = h.call(p["other"], "access", "read", "gov-share", "households", "subsidy-review")
    assert denied.status == "reverted" and "was revoked" in denied.message
    catalogue = h.query("datashare", "catalogue", caller=p["other"])
    assert [(d["id"], d["version"], d["requests"]) for d in catalogue] == [("households", 1, 1)]


def test_the_seed_configurations_parse_and_name_member_consumers() -> None:
    cases = datashare.configs()
    assert set(cases) == {"yiwangtongban", "housing_fund"}
    for case in cases.values():
        assert case.regulator not in case.collection.members
        assert case.collection.consent
        for r in case.requests:
            provider = next(d.provider for d in case.datasets if d.id == r.dataset)
            assert r.org != provider and r.org in case.collection.members
    with pytest.raises(datashare.DataShareError, match="unknown dataset"):
        datashare.ShareConfig.parse(
            "bad",
            {
                "title": "t",
                "regulator": "org4",
                "organisations": {"org1": "a"},
                "collection": GOV.view(),
                "datasets": [],
                "requests": [{"dataset": "nope", "org": "org2", "purpose": "p"}],
            },
        )
