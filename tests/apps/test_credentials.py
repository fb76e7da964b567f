"""credentials (可信身份 / 电子印章 / records) in the harness: attestations as digests with
revocation and expiry, the e-seal registry, the records lifecycle — and property tests that the
chain's answers follow the model and that no version of a record is ever lost or rewritten."""

from __future__ import annotations

from functools import cache
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.apps.credentials import (
    CREDENTIALS,
    ESEAL,
    RECORDS,
    SOURCES,
    Credentials,
    ESeals,
    Records,
    attestation_digest,
    contract_source,
)
from yulian.apps.shared import AppError
from yulian.devkit import Harness

DAY_MS = 86_400_000
CLAIMS = {"name": "Li Wei", "id_number": "500101199001011234", "verified_by": "face+document"}


def make_world() -> Harness:
    h = Harness(["cq_gov", "police", "university", "employer", "archive", "person", "rogue"])
    for name in SOURCES:
        h.deploy(name, contract_source(name, ("cq_gov",)))
    gov = Credentials(h.client(h.admin("cq_gov")))
    for org in ("police", "university", "employer"):
        gov.grant_role(org, "issuer")
    Records(h.client(h.admin("cq_gov"))).grant_role("archive")
    return h


@cache
def shared_world() -> Harness:
    return make_world()


def test_an_identity_attestation_is_issued_checked_and_revoked() -> None:
    h = make_world()
    police = Credentials(h.client(h.member("police")))
    police.define_schema("identity_verified", ["name", "id_number", "verified_by"], "实名认证")
    issued = police.issue("ID-0001", "identity_verified", CLAIMS, suite=h.suite)
    on_chain = police.attestation("ID-0001")
    assert on_chain["digest"] == issued["digest"] and on_chain["issuer"] == "police"
    assert "Li Wei" not in str(h.state(CREDENTIALS, "attestation/ID-0001"))  # only the digest
    again = attestation_digest(h.suite, "ID-0001", "identity_verified", CLAIMS, issued["salt"])
    assert again == issued["digest"]
    anyone = Credentials(h.client())
    assert anyone.check("ID-0001", issued["digest"])["valid"]
    forged = attestation_digest(
        h.suite, "ID-0001", "identity_verified", {**CLAIMS, "name": "Wang Wu"}, issued["salt"]
    )
    assert anyone.check("ID-0001", forged) == {**anyone.check("ID-0001", forged), "valid": False}
    assert anyone.check("ID-0001", forged)["reason"] == "digest differs"
    with pytest.raises(AppError, match="only the issuer revokes"):
        Credentials(h.client(h.member("university"))).revoke("ID-0001", "mine now")
    police.revoke("ID-0001", "document reported stolen")
    assert anyone.check("ID-0001", issued["digest"])["reason"] == "revoked"
    assert anyone.check("ID-9999", issued["digest"])["reason"] == "unknown"


def test_qualifications_expire_and_only_issuers_issue() -> None:
    h = make_world()
    uni = Credentials(h.client(h.member("university")))
    uni.define_schema("degree", ["holder", "degree", "year"])
    claims = {"holder": "Li Wei", "degree": "BEng", "year": "2012"}
    expires = h.time_ms + 30 * DAY_MS
    issued = uni.issue("DEG-7", "degree", claims, suite=h.suite, expires_ms=expires)
    assert Credentials(h.client()).check("DEG-7", issued["digest"])["valid"]
    h.set_time(expires)
    h.advance(blocks=1)
    assert Credentials(h.client()).check("DEG-7", issued["digest"])["reason"] == "expired"
    with pytest.raises(AppError, match="may not act as issuer"):
        Credentials(h.client(h.member("rogue"))).issue("X", "degree", claims, suite=h.suite)
    with pytest.raises(AppError, match="no schema nope"):
        uni.issue("X", "nope", claims, suite=h.suite)
    with pytest.raises(AppError, match="exists"):
        uni.issue("DEG-7", "degree", claims, suite=h.suite)


def test_e_seals_are_applied_only_by_their_keepers_and_revocation_keeps_the_record() -> None:
    h = make_world()
    admin = ESeals(h.client(h.admin("employer")))
    keeper = h.member("employer", "seal-keeper")
    admin.register("EMP-CONTRACT-SEAL", "1f" * 32, "contract seal of the employer")
    with pytest.raises(AppError, match="only a keeper"):
        ESeals(h.client(keeper)).seal("EMP-CONTRACT-SEAL", "aa" * 32)
    admin.authorize("EMP-CONTRACT-SEAL", keeper.id)
    sealing = ESeals(h.client(keeper)).seal("EMP-CONTRACT-SEAL", "aa" * 32)
    assert (sealing["sealer"], sealing["org"], sealing["n"]) == (keeper.id, "employer", 0)
    with pytest.raises(AppError, match="belongs to employer"):
        ESeals(h.client(h.admin("rogue"))).seal("EMP-CONTRACT-SEAL", "aa" * 32)
    with pytest.raises(AppError, match="only an organisation admin"):
        ESeals(h.client(keeper)).register("MINE", "1f" * 32, "x")
    ESeals(h.client(h.admin("university"))).register("UNI-SEAL", "2f" * 32, "university seal")
    ESeals(h.client(h.admin("university"))).seal("UNI-SEAL", "aa" * 32)  # the other party
    admin.revoke("EMP-CONTRACT-SEAL", "seal replaced")
    with pytest.raises(AppError, match="is revoked"):
        ESeals(h.client(keeper)).seal("EMP-CONTRACT-SEAL", "bb" * 32)
    found = ESeals(h.client()).sealings("aa" * 32)
    assert [(s["seal"], s["seal_status"]) for s in found] == [
        ("EMP-CONTRACT-SEAL", "revoked"),
        ("UNI-SEAL", "active"),
    ]
    admin.deauthorize("EMP-CONTRACT-SEAL", keeper.id)
    assert h.state(ESEAL, "seal/EMP-CONTRACT-SEAL")["keepers"] == []


def test_a_record_is_amended_with_its_history_and_archived() -> None:
    h = make_world()
    owner = Records(h.client(h.member("employer")))
    owner.create("HR-2025-17", "personnel_file", "01" * 32, {"department": "R&D"})
    owner.amend("HR-2025-17", "02" * 32, "promotion")
    owner.amend("HR-2025-17", "03" * 32, "address changed")
    history = Records(h.client()).history("HR-2025-17")
    assert [(v["n"], v["content"][:2], v["reason"]) for v in history] == [
        (1, "01", "created"),
        (2, "02", "promotion"),
        (3, "03", "address changed"),
    ]
    with pytest.raises(AppError, match="only the owner amends"):
        Records(h.client(h.member("rogue"))).amend("HR-2025-17", "04" * 32, "x")
    with pytest.raises(AppError, match="only the owner or an archivist"):
        Records(h.client(h.member("rogue"))).archive("HR-2025-17", "x")
    archived = Records(h.client(h.member("archive"))).archive("HR-2025-17", "employee left")
    assert archived["archived"]["by"] == "archive"
    with pytest.raises(AppError, match="is archived"):
        owner.amend("HR-2025-17", "04" * 32, "too late")


# --- the chain's answers follow the model --------------------------------------------------------

_examples = count()
ISSUERS = ("police", "university")
attestation_op = st.one_of(
    st.tuples(st.just("issue"), st.sampled_from([*ISSUERS, "rogue"]), st.integers(0, 3)),
    st.tuples(st.just("revoke"), st.sampled_from([*ISSUERS, "rogue"]), st.integers(0, 50)),
    st.tuples(st.just("advance"), st.integers(1, 5)),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(attestation_op, min_size=5, max_size=30), st.integers(0, 50))
def test_check_answers_valid_revoked_expired_or_unknown_as_the_model_says(
    ops: list,  # type: ignore[type-arg]
    probe: int,
) -> None:
    h = shared_world()
    schema = f"s{next(_examples)}"
    Credentials(h.client(h.member("police"))).define_schema(schema, ["x"])
    model: dict[str, dict[str, object]] = {}
    for n, op in enumerate(ops):
        if op[0] == "advance":
            h.advance(ms=op[1] * DAY_MS)
            continue
        who = op[1]
        if op[0] == "issue":
            aid = f"{schema}-{n}"
            digest = attestation_digest(h.suite, aid, schema, {"x": str(n)}, "00")
            expires = 0 if op[2] == 0 else h.next_time_ms + op[2] * DAY_MS
            result = h.call(h.member(who), CREDENTIALS, "issue", aid, schema, digest, expires)
            assert result.ok == (who in ISSUERS)
            if result.ok:
                model[aid] = {"issuer": who, "digest": digest, "expires": expires, "revoked": False}
            continue
        ids = sorted(model)
        aid = ids[op[2] % len(ids)] if ids else "none"
        a = model.get(aid)
        result = h.call(h.member(who), CREDENTIALS, "revoke", aid, "r")
        assert result.ok == (a is not None and a["issuer"] == who and not a["revoked"])
        if result.ok and a is not None:
            a["revoked"] = True
    for aid, a in model.items():
        answer = h.query(CREDENTIALS, "check", aid, a["digest"])
        expires = int(a["expires"])  # type: ignore[call-overload]
        expected = (
            "revoked" if a["revoked"] else "expired" if expires and h.time_ms >= expires else ""
        )
        assert (answer["reason"], answer["valid"]) == (expected, expected == "")
        wrong = h.query(CREDENTIALS, "check", aid, "0" * 64)
        assert wrong["valid"] is False
    assert h.query(CREDENTIALS, "check", f"{schema}-x{probe}", "0" * 64)["reason"] == "unknown"


record_op = st.one_of(
    st.tuples(st.just("create"), st.sampled_from(["employer", "person"]), st.integers(0, 2**32)),
    st.tuples(
        st.just("amend"),
        st.sampled_from(["employer", "person", "rogue"]),
        st.integers(0, 50),
        st.integers(0, 2**32),
    ),
    st.tuples(
        st.just("archive"), st.sampled_from(["employer", "archive", "rogue"]), st.integers(0, 50)
    ),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(record_op, min_size=5, max_size=30))
def test_no_version_of_a_record_is_ever_lost_or_rewritten(ops: list) -> None:  # type: ignore[type-arg]
    h = shared_world()
    prefix = f"R{next(_examples)}-"
    model: dict[str, dict[str, object]] = {}
    for n, op in enumerate(ops):
        who = op[1]
        if op[0] == "create":
            rid, digest = f"{prefix}{n}", f"{op[2]:064x}"
            assert h.call(h.member(who), RECORDS, "create_record", rid, "file", digest, {}).ok
            model[rid] = {"owner": who, "versions": [digest], "archived": False}
            continue
        ids = sorted(model)
        rid = ids[op[2] % len(ids)] if ids else prefix + "none"
        r = model.get(rid)
        if op[0] == "amend":
            digest = f"{op[3]:064x}"
            result = h.call(h.member(who), RECORDS, "amend", rid, digest, "why")
            ok = (
                r is not None
                and not r["archived"]
                and r["owner"] == who
                and digest != r["versions"][-1]  # type: ignore[index]
            )
            assert result.ok == ok, result.message
            if ok and r is not None:
                r["versions"].append(digest)  # type: ignore[attr-defined]
        else:
            result = h.call(h.member(who), RECORDS, "archive", rid, "why")
            ok = r is not None and not r["archived"] and who in (r["owner"], "archive")
            assert result.ok == ok, result.message
            if ok and r is not None:
                r["archived"] = True
    for rid, r in model.items():
        record = h.state(RECORDS, "record/" + rid)
        versions = r["versions"]
        assert record["version"] == len(versions)  # type: ignore[arg-type]
        assert record["status"] == ("archived" if r["archived"] else "active")
        for k, digest in enumerate(versions, start=1):  # type: ignore[call-overload]
            written = h.history(RECORDS, f"version/{rid}/{k}")
            assert len(written) == 1 and written[0][1]["content"] == digest
