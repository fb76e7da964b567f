"""The evidence (存证) contract: registration once, owner-only transfer, strict digests."""

from __future__ import annotations

import pytest

from yulian.apps.evidence import contract_source
from yulian.contracts import BlockInfo, MemoryState, Sender, TxInfo, compile_contract

CONTRACT = compile_contract("evidence", contract_source())
ORG1 = Sender(org="org1", role="client", id="aa", attributes={})
ORG2 = Sender(org="org2", role="client", id="bb", attributes={})
DIGEST = "0123456789abcdef" * 4


def call(state: MemoryState, sender: Sender, method: str, *args: object):  # type: ignore[no-untyped-def]
    return CONTRACT.invoke(
        method, list(args), sender=sender, block=BlockInfo(7, 1234), tx=TxInfo("ff"), state=state
    )


def test_public_methods() -> None:
    assert CONTRACT.methods == ("lookup", "register", "transfer")


def test_register_lookup_transfer() -> None:
    state = MemoryState()
    out = call(state, ORG1, "register", DIGEST, "deed", {"k": "v"})
    assert out.status == "ok"
    assert out.events == ((CONTRACT.name, "registered", {"digest": DIGEST, "owner_org": "org1"}),)
    record = call(state, ORG2, "lookup", DIGEST).value
    assert (record["owner_org"], record["registrant"], record["height"], record["time"]) == (
        "org1",
        "aa",
        7,
        1234,
    )
    assert call(state, ORG2, "register", DIGEST, "copy", {}).message == "digest already registered"
    assert call(state, ORG2, "transfer", DIGEST, "org2").status == "reverted"
    assert call(state, ORG1, "transfer", DIGEST, "org2").status == "ok"
    assert call(state, ORG1, "lookup", DIGEST).value["owner_org"] == "org2"
    assert call(state, ORG1, "transfer", DIGEST, "org3").status == "reverted"


@pytest.mark.parametrize(
    "digest",
    [
        DIGEST.upper(),
        DIGEST[:-1],
        DIGEST + "0",
        "g" * 64,
        " " + DIGEST[1:],
        DIGEST[:-1] + "\n",
        "",
        12345,
        None,
        ["ab"],
    ],
)
def test_bad_digests_are_refused(digest: object) -> None:
    state = MemoryState()
    out = call(state, ORG1, "register", digest, "t", {})
    assert out.status == "reverted"
    assert out.message == "digest must be 64 lowercase hex characters"
    assert state.values == {}


@pytest.mark.parametrize(
    ("title", "metadata"),
    [("", {}), ("x" * 257, {}), ("t", []), ("t", {str(i): i for i in range(33)})],
)
def test_bad_title_or_metadata_refused(title: str, metadata: object) -> None:
    state = MemoryState()
    assert call(state, ORG1, "register", DIGEST, title, metadata).status == "reverted"
    assert state.values == {}


def test_helpers_are_not_callable() -> None:
    assert call(MemoryState(), ORG1, "_check_digest", DIGEST).status == "unknown_method"
