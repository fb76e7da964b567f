"""Safety rules: CheckHRS, idempotent re-issue, persist-before-return, crash recovery.

safety.py must keep complete branch coverage. The check (run from the repository root; the last
test in this module runs it too and fails below 100 %)::

    .venv/bin/python -m coverage run --branch -m pytest tests/unit/test_safety.py
    .venv/bin/python -m coverage report -m --include='*/consensus/safety.py'
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from yulian.consensus.durable import MemoryFile
from yulian.consensus.safety import (
    ConflictingProposal,
    ConflictingVote,
    CorruptSafetyData,
    HeightRegression,
    InvalidSignRequest,
    RoundRegression,
    SafetyData,
    SafetyRules,
    SafetyViolation,
    SignerMismatch,
    StepRegression,
    encode_safety_data,
    load_safety_data,
)
from yulian.consensus.wal import encode_record
from yulian.crypto.standard import STANDARD, Ed25519PrivateKey, StandardSuite
from yulian.crypto.suite import PrivateKey, get_suite
from yulian.sim.planted import ForgetfulSafetyRules
from yulian.types.commit import PRECOMMIT, PREVOTE, vote_sign_bytes
from yulian.types.consensus import MAX_ROUND
from yulian.types.tx import Tx, tx_sign_bytes

CHAIN = "safety-chain"
NAME = "v0"
A = b"\xaa" * 32
B = b"\xbb" * 32
NIL = b""
ROOT = Path(__file__).resolve().parents[2]


class CountingKey(PrivateKey):
    """A real Ed25519 key that counts its signatures."""

    def __init__(self, seed: bytes = b"\x01" * 32) -> None:
        self.inner = Ed25519PrivateKey(seed)
        self.signed: list[bytes] = []

    def sign(self, data: bytes) -> bytes:
        self.signed.append(data)
        return self.inner.sign(data)

    def public_key(self) -> bytes:
        return self.inner.public_key()

    def to_pem(self) -> bytes:
        return self.inner.to_pem()


class FreshSignatureKey(CountingKey):
    """Signs with a different signature every call (like ECDSA/SM2): re-issue must be stored."""

    def sign(self, data: bytes) -> bytes:
        self.signed.append(data)
        return len(self.signed).to_bytes(4, "big") + os.urandom(60)


class AcceptingSuite(StandardSuite):
    """The standard suite, except that it accepts FreshSignatureKey's stand-in signatures."""

    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        return True


class Crash(Exception):
    """The process dies here."""


class CrashingFile(MemoryFile):
    """A MemoryFile that crashes at the first call of ``crash_on``."""

    def __init__(self, crash_on: str, data: bytes = b"") -> None:
        super().__init__(data)
        self.crash_on = crash_on

    def replace(self, data: bytes) -> None:
        if self.crash_on == "replace":
            raise Crash("before replace")
        super().replace(data)

    def sync(self) -> None:
        if self.crash_on == "sync":
            raise Crash("after replace, before the signature is returned")
        super().sync()


def rules(store: MemoryFile | None = None, key: PrivateKey | None = None) -> SafetyRules:
    key = key or CountingKey()
    suite = AcceptingSuite() if isinstance(key, FreshSignatureKey) else STANDARD
    return SafetyRules(suite, key, CHAIN, NAME, store if store is not None else MemoryFile())


def reopen(old: SafetyRules, store: MemoryFile, key: PrivateKey | None = None) -> SafetyRules:
    """The same validator after a power loss: only what was durable survives."""
    del old
    return rules(store.crash(), key)


# --- signing and persistence ------------------------------------------------------------------


def test_fresh_validator_signs_valid_votes_and_proposals() -> None:
    store = MemoryFile()
    key = CountingKey()
    sr = rules(store, key)
    assert sr.data == SafetyData()
    proposal = sr.sign_proposal(1, 0, -1, b"block", A)
    prevote = sr.sign_vote(PREVOTE, 1, 0, A)
    precommit = sr.sign_vote(PRECOMMIT, 1, 0, A)
    pub = key.public_key()
    assert STANDARD.verify(pub, proposal.sign_bytes(CHAIN), proposal.signature)
    assert (proposal.proposer, proposal.block, proposal.pol_round) == (NAME, b"block", -1)
    for vote in (prevote, precommit):
        assert vote.validator == NAME
        assert STANDARD.verify(pub, vote.sign_bytes(CHAIN), vote.signature)
    assert (sr.data.height, sr.data.round, sr.data.step) == (1, 0, PRECOMMIT)
    assert sr.data.last_vote == precommit
    assert sr.data.last_proposal == (1, 0, A)
    assert reopen(sr, store).data == sr.data


def test_hrs_advances_through_rounds_and_heights() -> None:
    sr = rules()
    sr.sign_vote(PREVOTE, 1, 0, NIL)
    sr.sign_vote(PRECOMMIT, 1, 0, NIL)
    sr.sign_proposal(1, 1, 0, b"b", A)
    sr.sign_vote(PREVOTE, 1, 3, B)
    sr.sign_vote(PREVOTE, 2, 0, A)
    assert (sr.data.height, sr.data.round, sr.data.step) == (2, 0, PREVOTE)


def test_each_signature_is_persisted_and_synced_before_it_is_returned() -> None:
    store = MemoryFile()
    sr = rules(store)
    vote = sr.sign_vote(PREVOTE, 7, 2, A)
    assert store.durable == store.read() != b""
    assert reopen(sr, store).data.last_vote == vote
    proposal = sr.sign_proposal(8, 1, 0, b"blk", B)
    after = rules(store.crash())
    assert after.data.last_proposal == (8, 1, B)
    assert after.data.last_proposal_pol_round == 0
    assert after.data.last_proposal_signature == proposal.signature
    assert after.data.last_vote == vote


# --- regressions and conflicts ----------------------------------------------------------------


def test_height_regression_is_refused_with_the_numbers() -> None:
    sr = rules()
    sr.sign_vote(PREVOTE, 5, 0, A)
    with pytest.raises(HeightRegression, match=r"h=4 < H=5") as e:
        sr.sign_vote(PRECOMMIT, 4, 9, A)
    assert (e.value.height, e.value.last_height) == (4, 5)
    with pytest.raises(HeightRegression):
        sr.sign_proposal(4, 0, -1, b"b", A)


def test_round_regression_is_refused_with_the_numbers() -> None:
    sr = rules()
    sr.sign_vote(PREVOTE, 5, 3, A)
    with pytest.raises(RoundRegression, match=r"r=2 < R=3") as e:
        sr.sign_vote(PRECOMMIT, 5, 2, A)
    assert (e.value.height, e.value.round, e.value.last_round) == (5, 2, 3)


def test_step_regression_is_refused_with_the_numbers() -> None:
    sr = rules()
    sr.sign_vote(PRECOMMIT, 5, 1, A)
    with pytest.raises(StepRegression, match=r"s=1 \(prevote\) < S=2 \(precommit\)") as e:
        sr.sign_vote(PREVOTE, 5, 1, A)
    assert (e.value.height, e.value.round, e.value.step, e.value.last_step) == (5, 1, 1, 2)
    with pytest.raises(StepRegression, match=r"s=0 \(proposal\)"):
        sr.sign_proposal(5, 1, -1, b"b", A)


@pytest.mark.parametrize("first,second", [(A, B), (A, NIL), (NIL, A)])
@pytest.mark.parametrize("vote_type", [PREVOTE, PRECOMMIT])
def test_conflicting_vote_is_refused(first: bytes, second: bytes, vote_type: int) -> None:
    sr = rules()
    sr.sign_vote(vote_type, 3, 1, first)
    with pytest.raises(ConflictingVote) as e:
        sr.sign_vote(vote_type, 3, 1, second)
    assert (e.value.block_hash, e.value.signed_block_hash) == (second, first)
    assert "(h, r, s) == (H, R, S)" in str(e.value)
    assert sr.data.last_vote is not None and sr.data.last_vote.block_hash == first


def test_conflicting_proposal_is_refused() -> None:
    sr = rules()
    sr.sign_proposal(3, 2, -1, b"a", A)
    with pytest.raises(ConflictingProposal, match="got \\(-1, bb") as e:
        sr.sign_proposal(3, 2, -1, b"b", B)
    assert (e.value.signed_pol_round, e.value.signed_block_hash) == (-1, A)
    with pytest.raises(ConflictingProposal):
        sr.sign_proposal(3, 2, 1, b"a", A)  # same block, another proof-of-lock round


def test_all_violations_are_safety_violations() -> None:
    for cls in (HeightRegression, RoundRegression, StepRegression):
        assert issubclass(cls, SafetyViolation)
    assert issubclass(ConflictingVote, SafetyViolation)
    assert issubclass(ConflictingProposal, SafetyViolation)


# --- idempotent re-issue ----------------------------------------------------------------------


def test_identical_vote_is_reissued_with_the_same_signature_without_signing() -> None:
    key = CountingKey()
    sr = rules(key=key)
    vote = sr.sign_vote(PRECOMMIT, 4, 0, A)
    count = len(key.signed)
    assert sr.sign_vote(PRECOMMIT, 4, 0, A) == vote
    sr.sign_vote(PREVOTE, 5, 0, B)
    assert sr.sign_vote(PREVOTE, 5, 0, B).signature == sr.data.last_vote.signature  # type: ignore[union-attr]
    assert len(key.signed) == count + 1


def test_last_vote_is_reissued_even_after_a_later_proposal() -> None:
    sr = rules()
    vote = sr.sign_vote(PRECOMMIT, 4, 0, A)
    sr.sign_proposal(5, 0, -1, b"b", B)
    assert sr.sign_vote(PRECOMMIT, 4, 0, A) == vote


def test_only_the_last_vote_is_reissued() -> None:
    sr = rules()
    sr.sign_vote(PREVOTE, 4, 0, A)
    sr.sign_vote(PRECOMMIT, 4, 0, A)
    with pytest.raises(StepRegression):
        sr.sign_vote(PREVOTE, 4, 0, A)


def test_identical_proposal_is_reissued_with_the_stored_signature() -> None:
    key = FreshSignatureKey()
    sr = rules(key=key)
    first = sr.sign_proposal(6, 1, 0, b"blk", A)
    sr.sign_vote(PREVOTE, 6, 1, A)  # the step moved past the proposal
    again = sr.sign_proposal(6, 1, 0, b"blk", A)
    assert again == first
    assert len(key.signed) == 2


# --- crashes ----------------------------------------------------------------------------------


def test_crash_between_persist_and_return_reissues_the_same_vote() -> None:
    store = CrashingFile("sync")
    key = FreshSignatureKey()
    sr = rules(store, key)
    with pytest.raises(Crash):
        sr.sign_vote(PREVOTE, 9, 0, A)
    assert sr.data == SafetyData(), "nothing was returned, so memory did not move"
    restarted = rules(store, FreshSignatureKey())  # replace() was durable
    vote = restarted.sign_vote(PREVOTE, 9, 0, A)
    assert vote.signature.startswith((1).to_bytes(4, "big")), "the signature made before the crash"
    with pytest.raises(ConflictingVote):
        restarted.sign_vote(PREVOTE, 9, 0, B)


def test_crash_between_persist_and_return_reissues_the_same_proposal() -> None:
    store = CrashingFile("sync")
    sr = rules(store, FreshSignatureKey())
    with pytest.raises(Crash):
        sr.sign_proposal(9, 0, -1, b"blk", A)
    restarted = rules(store, FreshSignatureKey())
    proposal = restarted.sign_proposal(9, 0, -1, b"blk", A)
    assert proposal.signature.startswith((1).to_bytes(4, "big"))
    with pytest.raises(ConflictingProposal):
        restarted.sign_proposal(9, 0, -1, b"blk", B)


def test_crash_before_persist_returns_nothing_and_changes_nothing() -> None:
    store = CrashingFile("replace")
    sr = rules(store)
    with pytest.raises(Crash):
        sr.sign_vote(PREVOTE, 9, 0, A)
    assert sr.data == SafetyData()
    assert store.read() == b""


def test_after_restart_no_conflicting_or_lower_signature() -> None:
    store = MemoryFile()
    sr = rules(store)
    sr.sign_vote(PREVOTE, 3, 2, A)
    restarted = reopen(sr, store)
    with pytest.raises(ConflictingVote):
        restarted.sign_vote(PREVOTE, 3, 2, B)
    with pytest.raises(RoundRegression):
        restarted.sign_vote(PRECOMMIT, 3, 1, B)


# --- the safety file --------------------------------------------------------------------------


def _valid_file() -> bytes:
    store = MemoryFile()
    sr = rules(store)
    sr.sign_proposal(2, 1, 0, b"b", A)
    sr.sign_vote(PREVOTE, 2, 1, A)
    return store.read()


def test_corrupt_safety_file_refuses_to_start_on_every_bit_flip() -> None:
    good = _valid_file()
    assert rules(MemoryFile(good)).data.height == 2
    for bit in range(len(good) * 8):
        bad = bytearray(good)
        bad[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(CorruptSafetyData):
            rules(MemoryFile(bytes(bad)))


@pytest.mark.parametrize("cut", [1, 7, 8, 20, -1])
def test_truncated_safety_file_refuses_to_start(cut: int) -> None:
    with pytest.raises(CorruptSafetyData, match="not one valid framed record"):
        rules(MemoryFile(_valid_file()[:cut]))


def test_trailing_bytes_refuse_to_start() -> None:
    with pytest.raises(CorruptSafetyData, match="not one valid framed record"):
        rules(MemoryFile(_valid_file() + b"\x00"))


@pytest.mark.parametrize(
    "payload",
    [
        b"\xc1",  # not msgpack
        b"\x93\x01\x02\x03",  # wrong shape
        encode_safety_data(SafetyData(), CHAIN, NAME).replace(b"\x98\x01", b"\x98\x02", 1),
    ],
)
def test_undecodable_payload_refuses_to_start(payload: bytes) -> None:
    with pytest.raises(CorruptSafetyData, match="does not decode"):
        rules(MemoryFile(encode_record(payload)))


@pytest.mark.parametrize("chain,name", [("other-chain", NAME), (CHAIN, "v1")])
def test_safety_file_of_another_validator_refuses_to_start(chain: str, name: str) -> None:
    foreign = encode_record(encode_safety_data(SafetyData(height=3), chain, name))
    with pytest.raises(CorruptSafetyData, match="belongs to"):
        rules(MemoryFile(foreign))


def test_empty_file_is_a_fresh_validator() -> None:
    assert rules(MemoryFile(b"")).data == SafetyData()


# --- bad requests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vote_type,height,round_,block_hash",
    [
        (PREVOTE, 0, 0, A),
        (PREVOTE, 1, -1, A),
        (PREVOTE, 1, MAX_ROUND + 1, A),
        (PREVOTE, 1, 0, b"\x00" * 65),
        (0, 1, 0, A),
        (3, 1, 0, A),
    ],
)
def test_bad_vote_requests_are_refused(
    vote_type: int, height: int, round_: int, block_hash: bytes
) -> None:
    sr = rules()
    with pytest.raises(InvalidSignRequest):
        sr.sign_vote(vote_type, height, round_, block_hash)
    assert sr.data == SafetyData()


@pytest.mark.parametrize(
    "height,round_,pol_round,block_hash",
    [(0, 0, -1, A), (1, 0, -1, NIL), (1, 0, 0, A), (1, 2, 2, A), (1, 2, -2, A)],
)
def test_bad_proposal_requests_are_refused(
    height: int, round_: int, pol_round: int, block_hash: bytes
) -> None:
    with pytest.raises(InvalidSignRequest):
        rules().sign_proposal(height, round_, pol_round, b"b", block_hash)


@pytest.mark.parametrize(
    "chain,name", [("", NAME), ("c" * 65, NAME), (CHAIN, ""), (CHAIN, "n" * 129)]
)
def test_bad_identity_is_refused(chain: str, name: str) -> None:
    with pytest.raises(ValueError, match="chain id"):
        SafetyRules(STANDARD, CountingKey(), chain, name, MemoryFile())


def test_a_key_the_suite_rejects_signs_nothing() -> None:
    store = MemoryFile()
    sr = SafetyRules(STANDARD, FreshSignatureKey(), CHAIN, NAME, store)
    with pytest.raises(SignerMismatch, match="'standard'"):
        sr.sign_vote(PREVOTE, 1, 0, A)
    with pytest.raises(SignerMismatch):
        sr.sign_proposal(1, 0, -1, b"b", A)
    assert (sr.data, store.read()) == (SafetyData(), b"")


# --- planted bug ------------------------------------------------------------------------------


def test_the_simulators_forgetful_rules_skip_persisting_votes_only() -> None:
    """``no_persist_last_vote`` (``yulian.sim.planted``): a subclass, not a switch in here."""
    store = MemoryFile()
    sr = ForgetfulSafetyRules(STANDARD, CountingKey(), CHAIN, NAME, store)
    sr.sign_vote(PREVOTE, 2, 0, A)
    assert store.read() == b"", "the bug: nothing was written"
    restarted = reopen(sr, store)
    assert restarted.sign_vote(PREVOTE, 2, 0, B).block_hash == B  # the double vote it allows
    sr.sign_proposal(3, 0, -1, b"b", A)
    assert load_safety_data(store, CHAIN, NAME).height == 3  # proposals are still persisted


# --- property: never two different messages for one (h, r, s), across crashes -----------------

request = st.one_of(
    st.tuples(
        st.just("vote"),
        st.sampled_from([PREVOTE, PRECOMMIT]),
        st.integers(1, 3),
        st.integers(0, 2),
        st.sampled_from([A, B, NIL]),
    ),
    st.tuples(
        st.just("proposal"),
        st.integers(-1, 1),
        st.integers(1, 3),
        st.integers(0, 2),
        st.sampled_from([A, B]),
    ),
    st.tuples(st.just("crash"), st.sampled_from(["none", "replace", "sync"])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(request, max_size=40))
def test_no_two_messages_for_one_hrs_across_crashes(ops: list[tuple[object, ...]]) -> None:
    """Whatever is asked, with power losses anywhere: at most one message per (h, r, s).

    (A message persisted just before a crash may be returned after the restart although the
    node moved on: that is the same signature, not a new one.)"""
    store = CrashingFile("none")
    sr = rules(store, FreshSignatureKey())
    issued: dict[tuple[int, int, int], tuple[object, ...]] = {}
    for op in ops:
        if op[0] == "crash":
            store = CrashingFile(str(op[1]), store.durable)  # power loss; next write may crash
            sr = rules(store, FreshSignatureKey())
            continue
        try:
            if op[0] == "vote":
                _, t, h, r, bh = op
                v = sr.sign_vote(t, h, r, bh)  # type: ignore[arg-type]
                hrs = (v.height, v.round, v.type)
                msg: tuple[object, ...] = (v.block_hash, v.signature)
            else:
                _, pol, h, r, bh = op
                p = sr.sign_proposal(h, r, pol, b"blk", bh)  # type: ignore[arg-type]
                hrs, msg = (p.height, p.round, 0), (p.pol_round, p.block_hash, p.signature)
        except (SafetyViolation, InvalidSignRequest):
            continue
        except Crash:
            store = CrashingFile("none", store.durable)
            sr = rules(store, FreshSignatureKey())
            continue
        assert issued.setdefault(hrs, msg) == msg, f"two messages at {hrs}"


# --- complete branch coverage of safety.py ----------------------------------------------------


@pytest.mark.slow
def test_safety_py_has_complete_branch_coverage(tmp_path: Path) -> None:
    env = dict(os.environ)
    data = str(tmp_path / ".coverage")
    common = [sys.executable, "-m", "coverage"]
    subprocess.run(
        [*common, "run", "--branch", f"--data-file={data}", "-m", "pytest", "-q",
         "-p", "no:cacheprovider", "-p", "no:randomly", str(Path(__file__)),
         "-k", "not test_safety_py_has_complete_branch_coverage"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    report = subprocess.run(
        [*common, "report", "-m", f"--data-file={data}", "--include=*/consensus/safety.py",
         "--fail-under=100"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert report.returncode == 0, report.stdout + report.stderr


# --- the only holder of the key: txs are signed in their own domain (decision 0085) ----
def _key_and_rules() -> tuple[SafetyRules, PrivateKey]:
    suite = get_suite("standard")
    key = suite.generate_key()
    return SafetyRules(suite, key, CHAIN, "v0", MemoryFile()), key


def _tx(chain_id: str = CHAIN) -> Tx:
    return Tx(chain_id, "misbehaviour", "report", (b"evidence",), b"cert", 1, 10)


def test_sign_tx_signs_the_tx_domain_of_its_chain_only() -> None:
    rules, key = _key_and_rules()
    suite = get_suite("standard")
    signed = rules.sign_tx(_tx())
    assert rules.public_key == key.public_key()
    assert suite.verify(key.public_key(), tx_sign_bytes(CHAIN, signed.body), signed.signature)
    vote_bytes = vote_sign_bytes(CHAIN, PREVOTE, 1, 0, b"\x01" * 32)
    assert not suite.verify(key.public_key(), vote_bytes, signed.signature)
    with pytest.raises(ValueError, match="these rules sign"):
        rules.sign_tx(_tx("another-chain"))
    assert rules.data.height == 0  # a tx signature is no vote: the rules' state is untouched
