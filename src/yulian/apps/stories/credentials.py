"""Introduction: the credentials story (可信身份 / 电子印章).

An issuer organisation (a university, an HR verification service) attests a person's degree;
the chain keeps only a salted digest. The holder gets the claims, the salt and the exported
receipt of the issuing tx — a presentation, written to a file — and any verifier checks it
offline against the genesis alone; a forged claim fails; the chain answers whether it is still
valid. In full, the issuer then revokes it, and an organisation registers an electronic seal
and seals a contract with it (区块链+印章).
"""

from __future__ import annotations

import copy
import hashlib
import json

from yulian.apps.credentials import (
    CREDENTIALS,
    CREDENTIALS_VERSION,
    ESEAL,
    Credentials,
    ESeals,
    contract_source,
    make_presentation,
    verify_presentation,
)
from yulian.apps.stories.stage import Stage
from yulian.crypto.suite import get_suite
from yulian.sdk import ApiError, VerificationError

TITLE = "可信身份 credentials: a degree attested, presented, verified offline"
SCHEMA = "degree"
FIELDS = ["holder", "degree", "university", "year"]


def play(stage: Stage, brief: bool) -> None:
    stage.title(TITLE)
    cast = stage.cast("verifier", "issuer")
    governor = stage.members[0]
    stage.deploy(
        CREDENTIALS,
        CREDENTIALS_VERSION,
        contract_source(CREDENTIALS, (governor,), {"issuer": [cast["issuer"]]}),
    )
    stage.ensure_roles(Credentials, governor, {"issuer": cast["issuer"]})
    issuer_door = stage.member(cast["issuer"], "issuer")
    issuer = Credentials(issuer_door)
    if not _has_schema(issuer):
        stage.step(
            issuer,
            f"defines the schema {SCHEMA} ({', '.join(FIELDS)})",
            lambda: issuer.define_schema(SCHEMA, FIELDS, "a university degree 学位"),
        )
    attestation = f"DEG-{stage.tag}"
    claims = {
        "holder": "王芳 Wang Fang",
        "degree": "MSc Logistics",
        "university": "重庆大学",
        "year": "2024",
    }
    issued = stage.step(
        issuer,
        f"attests {attestation}: {claims['holder']}, {claims['degree']} "
        "(only a digest goes on chain)",
        lambda: issuer.issue(attestation, SCHEMA, claims, suite=get_suite(stage.genesis.suite)),
        show=lambda a: f"digest {a['digest']}",
    )
    presentation = make_presentation(issued, issuer_door.export_receipt(issued["tx_id"]))
    path = stage.network / "demo" / f"{attestation}.presentation.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(presentation, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    proven = verify_presentation(presentation, stage.genesis)
    stage.note(
        f"the holder's presentation {path} verified offline: issued by {proven['issuer']} at "
        f"height {proven['height']}: {proven['claims']['degree']}, {proven['claims']['year']}"
    )
    forged = copy.deepcopy(presentation)
    forged["claims"]["degree"] = "PhD Logistics"
    try:
        verify_presentation(forged, stage.genesis)
        raise AssertionError("a forged claim verified")
    except VerificationError as e:
        stage.note(f"the same presentation with the degree changed to a PhD: refused ({e})")
    verifier_door = stage.member(cast["verifier"], "employer")
    verifier = Credentials(verifier_door)
    answer = verifier.check(attestation, issued["digest"])
    stage.note(f"{verifier_door.who} asks the chain whether it is still valid: {_verdict(answer)}")
    if not brief:
        stage.step(
            issuer,
            f"revokes {attestation} (issued in error)",
            lambda: issuer.revoke(attestation, "issued in error"),
        )
        answer = verifier.check(attestation, issued["digest"])
        stage.note(f"the chain now answers: {_verdict(answer)}")
        _seal(stage)


def _seal(stage: Stage) -> None:
    cast = stage.cast("owner", "counterparty")
    stage.deploy(ESEAL, CREDENTIALS_VERSION, contract_source(ESEAL))
    owner = ESeals(stage.admin(cast["owner"]))
    seal = f"SEAL-{stage.tag}"
    image = hashlib.sha256(f"seal image of {cast['owner']}".encode()).hexdigest()
    stage.step(
        owner,
        f"registers its contract seal {seal} (合同专用章)",
        lambda: owner.register(seal, image, f"{cast['owner']} 合同专用章 contract seal"),
    )
    document = hashlib.sha256(f"supply contract {stage.tag}".encode()).hexdigest()
    stage.step(
        owner, f"seals contract {document[:16]}… with {seal}", lambda: owner.seal(seal, document)
    )
    sealings = ESeals(stage.public()).sealings(document)
    stage.note(
        "sealings of the contract: "
        + ", ".join(f"{s['seal']} by {s['org']} at height {s['height']}" for s in sealings)
    )


def _has_schema(app: Credentials) -> bool:
    try:
        app.conn.query(app.contract, "get_schema", [SCHEMA])
    except ApiError:
        return False
    return True


def _verdict(answer: dict[str, object]) -> str:
    return "valid" if answer["valid"] else f"not valid ({answer['reason']})"
