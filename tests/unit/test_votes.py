"""Commit certificates: a quorum of distinct validators' precommits over the exact block."""

from __future__ import annotations

import pytest

from yulian.consensus.votes import InvalidCommit, ValidatorSet, sign_commit, verify_commit
from yulian.crypto.standard import STANDARD
from yulian.types.commit import CommitCertificate, CommitSignature
from yulian.types.genesis import Validator

CHAIN = "test-chain"
BLOCK = b"\x11" * 32


def make_set(powers: list[int]) -> tuple[ValidatorSet, list[tuple[str, object]]]:
    keys = [STANDARD.generate_key() for _ in powers]
    validators = tuple(
        Validator(f"v{i}", f"org{i}", k.public_key(), p)
        for i, (k, p) in enumerate(zip(keys, powers, strict=True))
    )
    return ValidatorSet(validators), [(f"v{i}", k.sign) for i, k in enumerate(keys)]


def test_quorum_is_more_than_two_thirds() -> None:
    assert make_set([1])[0].quorum() == 1
    assert make_set([1, 1, 1, 1])[0].quorum() == 3
    assert make_set([1] * 7)[0].quorum() == 5
    assert make_set([10, 1, 1, 1])[0].quorum() == 9


def test_one_validator_certificate_verifies() -> None:
    vs, signers = make_set([1])
    cert = sign_commit(CHAIN, 5, 0, BLOCK, signers)
    verify_commit(STANDARD, CHAIN, vs, cert, height=5, block_hash=BLOCK)
    assert CommitCertificate.decode(cert.encode()) == cert


def test_three_of_four_verifies_two_does_not() -> None:
    vs, signers = make_set([1, 1, 1, 1])
    verify_commit(
        STANDARD,
        CHAIN,
        vs,
        sign_commit(CHAIN, 2, 1, BLOCK, signers[:3]),
        height=2,
        block_hash=BLOCK,
    )
    with pytest.raises(InvalidCommit, match="voting power"):
        verify_commit(
            STANDARD,
            CHAIN,
            vs,
            sign_commit(CHAIN, 2, 1, BLOCK, signers[:2]),
            height=2,
            block_hash=BLOCK,
        )


@pytest.mark.parametrize(
    "mutation", ["height", "hash", "chain", "round", "duplicate", "unknown", "signature"]
)
def test_bad_certificates_rejected(mutation: str) -> None:
    vs, signers = make_set([1, 1, 1, 1])
    cert = sign_commit(CHAIN, 9, 0, BLOCK, signers[:3])
    chain, height, block = CHAIN, 9, BLOCK
    if mutation == "height":
        height = 10
    elif mutation == "hash":
        block = b"\x22" * 32
    elif mutation == "chain":
        chain = "other"
    elif mutation == "round":
        cert = CommitCertificate(9, 1, BLOCK, cert.signatures)
    elif mutation == "duplicate":
        cert = CommitCertificate(9, 0, BLOCK, cert.signatures[:2] + cert.signatures[:1])
    elif mutation == "unknown":
        cert = CommitCertificate(
            9,
            0,
            BLOCK,
            (*cert.signatures[:2], CommitSignature("stranger", cert.signatures[2].signature)),
        )
    elif mutation == "signature":
        s = cert.signatures[0]
        cert = CommitCertificate(
            9, 0, BLOCK, (CommitSignature(s.validator, bytes(64)), *cert.signatures[1:])
        )
    with pytest.raises(InvalidCommit):
        verify_commit(STANDARD, chain, vs, cert, height=height, block_hash=block)
