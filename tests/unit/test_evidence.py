"""Equivocation evidence: verification, the offence key, and the ``misbehaviour`` contract (B1)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yulian.consensus.durable import MemoryFile
from yulian.consensus.evidence import (
    MISBEHAVIOUR_CONTRACT,
    MISBEHAVIOUR_METHOD,
    DuplicateVoteEvidence,
    InvalidEvidence,
    apply_misbehaviour,
    evidence_key,
    evidence_tx,
    verify_evidence,
)
from yulian.consensus.safety import SafetyRules
from yulian.crypto.standard import STANDARD, Ed25519PrivateKey
from yulian.types.commit import PRECOMMIT, PREVOTE, vote_sign_bytes
from yulian.types.consensus import Vote
from yulian.types.encoding import DecodeError, encode
from yulian.types.genesis import Validator
from yulian.types.tx import Tx

CHAIN = "evidence-chain"
A = b"\xaa" * 32
B = b"\xbb" * 32
KEYS = {name: Ed25519PrivateKey(bytes([i + 1]) * 32) for i, name in enumerate(["v0", "v1", "v2"])}
VALIDATORS = (
    Validator("v0", "org-a", KEYS["v0"].public_key()),
    Validator("v1", "org-b", KEYS["v1"].public_key()),
    Validator("v2", "org-c", KEYS["v2"].public_key(), power=2),
)


def vote(
    name: str, block_hash: bytes, *, height: int = 10, round_: int = 1, t: int = PREVOTE
) -> Vote:
    signature = KEYS[name].sign(vote_sign_bytes(CHAIN, t, height, round_, block_hash))
    return Vote(t, height, round_, block_hash, name, signature)


def test_valid_evidence_names_the_validator_and_its_org() -> None:
    ev = DuplicateVoteEvidence(vote("v1", A), vote("v1", B))
    assert verify_evidence(STANDARD, CHAIN, VALIDATORS, ev) == VALIDATORS[1]
    key, record = apply_misbehaviour(ev.encode(), STANDARD, CHAIN, VALIDATORS)
    assert key == "equivocation/10/1/1/v1"
    assert record == {"height": 10, "org": "org-b", "round": 1, "type": PREVOTE, "validator": "v1"}
    assert encode(record), "the record is a canonical value (keys in order)"


@pytest.mark.parametrize("t", [PREVOTE, PRECOMMIT])
def test_nil_against_a_block_is_equivocation(t: int) -> None:
    ev = DuplicateVoteEvidence(vote("v2", b"", t=t), vote("v2", A, t=t))
    key, record = apply_misbehaviour(ev.encode(), STANDARD, CHAIN, VALIDATORS)
    assert key == f"equivocation/10/1/{t}/v2"
    assert record["org"] == "org-c"


def test_same_block_hash_is_not_evidence() -> None:
    ev = DuplicateVoteEvidence(vote("v0", A), vote("v0", A))
    with pytest.raises(InvalidEvidence, match="same block hash"):
        verify_evidence(STANDARD, CHAIN, VALIDATORS, ev)


@pytest.mark.parametrize(
    "other",
    [
        {"height": 11},
        {"round_": 2},
        {"t": PRECOMMIT},
    ],
    ids=["height", "round", "type"],
)
def test_votes_for_different_height_round_or_type_are_not_evidence(other: dict[str, int]) -> None:
    ev = DuplicateVoteEvidence(vote("v0", A), vote("v0", B, **other))
    with pytest.raises(InvalidEvidence, match=r"different \(height, round, type\)"):
        verify_evidence(STANDARD, CHAIN, VALIDATORS, ev)


def test_votes_by_different_validators_are_not_evidence() -> None:
    ev = DuplicateVoteEvidence(vote("v0", A), vote("v1", B))
    with pytest.raises(InvalidEvidence, match="different validators"):
        verify_evidence(STANDARD, CHAIN, VALIDATORS, ev)


def test_a_non_validator_is_not_accused() -> None:
    ev = DuplicateVoteEvidence(vote("v2", A), vote("v2", B))
    with pytest.raises(InvalidEvidence, match="not in the validator set"):
        verify_evidence(STANDARD, CHAIN, VALIDATORS[:2], ev)


@pytest.mark.parametrize("which", ["first", "second"])
def test_a_bad_signature_is_not_evidence(which: str) -> None:
    good = DuplicateVoteEvidence(vote("v0", A), vote("v0", B))
    forged = dataclasses.replace(getattr(good, which), signature=b"\x00" * 64)
    ev = dataclasses.replace(good, **{which: forged})
    with pytest.raises(InvalidEvidence, match=f"the {which} vote's signature"):
        verify_evidence(STANDARD, CHAIN, VALIDATORS, ev)


def test_a_signature_by_another_key_or_for_another_chain_is_not_evidence() -> None:
    by_v1 = KEYS["v1"].sign(vote_sign_bytes(CHAIN, PREVOTE, 10, 1, B))
    ev = DuplicateVoteEvidence(vote("v0", A), dataclasses.replace(vote("v0", B), signature=by_v1))
    with pytest.raises(InvalidEvidence, match="signature"):
        verify_evidence(STANDARD, CHAIN, VALIDATORS, ev)
    with pytest.raises(InvalidEvidence, match="signature"):
        verify_evidence(
            STANDARD,
            "another-chain",
            VALIDATORS,
            DuplicateVoteEvidence(vote("v0", A), vote("v0", B)),
        )


def test_reordered_pair_has_the_same_key_and_record() -> None:
    a, b = vote("v1", A), vote("v1", B)
    ab, ba = DuplicateVoteEvidence(a, b), DuplicateVoteEvidence(b, a)
    assert evidence_key(ab) == evidence_key(ba)
    assert apply_misbehaviour(ab.encode(), STANDARD, CHAIN, VALIDATORS) == apply_misbehaviour(
        ba.encode(), STANDARD, CHAIN, VALIDATORS
    )
    assert DuplicateVoteEvidence.of(a, b) == DuplicateVoteEvidence.of(b, a)


def test_every_pair_proving_one_offence_has_one_key() -> None:
    votes = [vote("v0", h) for h in (A, B, b"", b"\xcc" * 32)]
    keys = {evidence_key(DuplicateVoteEvidence(x, y)) for x in votes for y in votes if x != y}
    assert keys == {"10/1/1/v0"}


def test_encoding_round_trips_canonically() -> None:
    ev = DuplicateVoteEvidence.of(vote("v0", A), vote("v0", b""))
    data = ev.encode()
    assert DuplicateVoteEvidence.decode(data) == ev
    assert DuplicateVoteEvidence.decode(data).encode() == data


@pytest.mark.parametrize(
    "value,match",
    [
        ((2, 1, None, None), "version"),
        ((1, 2, None, None), "unknown kind"),
        ((1, 1, None), "expected 4 fields"),
    ],
)
def test_malformed_evidence_is_a_decode_error(value: tuple[object, ...], match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        DuplicateVoteEvidence.decode(encode(value))


@given(st.binary(max_size=600))
def test_the_contract_rejects_any_junk_with_invalid_evidence(junk: bytes) -> None:
    with pytest.raises(InvalidEvidence):
        apply_misbehaviour(junk, STANDARD, CHAIN, VALIDATORS)


def test_the_contract_rejects_oversized_or_non_canonical_bytes() -> None:
    ev = DuplicateVoteEvidence(vote("v0", A), vote("v0", B)).encode()
    with pytest.raises(InvalidEvidence, match="does not decode"):
        apply_misbehaviour(ev + b"\x00", STANDARD, CHAIN, VALIDATORS)
    with pytest.raises(InvalidEvidence, match="does not decode"):
        apply_misbehaviour(b"\x00" * 4096, STANDARD, CHAIN, VALIDATORS)


def test_evidence_tx_calls_the_misbehaviour_contract() -> None:
    ev = DuplicateVoteEvidence.of(vote("v0", A), vote("v0", B))
    tx = evidence_tx(CHAIN, ev, b"cert-der", nonce=7, expires_at=99)
    assert isinstance(tx, Tx)
    assert (tx.contract, tx.method, tx.args) == (
        MISBEHAVIOUR_CONTRACT,
        MISBEHAVIOUR_METHOD,
        (ev.encode(),),
    )
    assert MISBEHAVIOUR_CONTRACT == "misbehaviour"
    assert apply_misbehaviour(tx.args[0], STANDARD, CHAIN, VALIDATORS)[1]["validator"] == "v0"


def test_safety_rules_on_two_wiped_stores_produce_evidence() -> None:
    """A validator restarted with wiped safety state (S4) double-votes; the votes convict it."""
    first = SafetyRules(STANDARD, KEYS["v2"], CHAIN, "v2", MemoryFile()).sign_vote(
        PRECOMMIT, 4, 0, A
    )
    second = SafetyRules(STANDARD, KEYS["v2"], CHAIN, "v2", MemoryFile()).sign_vote(
        PRECOMMIT, 4, 0, B
    )
    key, record = apply_misbehaviour(
        DuplicateVoteEvidence.of(first, second).encode(), STANDARD, CHAIN, VALIDATORS
    )
    assert (key, record["org"]) == ("equivocation/4/0/2/v2", "org-c")
