"""Introduction: safety rules — the only holder of the voting key.

Every vote and proposal this validator sends is signed here, and only after the rules below
allow it. Liveness (when to vote, for what) lives in ``core.py``; a bug there may stall the
chain, but as long as this module holds, this validator never equivocates.

The node hands the key it loaded to ``SafetyRules`` and keeps only its public key; the replica
and its evidence reporter get ``public_key`` and ``sign_tx``, which signs nothing but a tx's
domain-separated sign bytes (``("yulian/tx/v1", chain_id, body)``), so no caller can obtain a
signature over vote or proposal bytes except through the rules. TLS reads the key file itself
for the handshake (decision 0085).

Notation: ``(H, R, S)`` is the last signed (height, round, step) in ``SafetyData``; a request is
``(h, r, s)`` with step ``s`` = 0 for a proposal, 1 for a prevote, 2 for a precommit
(CometBFT ``privval`` CheckHRS). Tuples compare lexicographically.

Invariants:

- *monotone*: a new signature is issued only if ``(h, r, s) > (H, R, S)``.
- *no conflict*: a request identical to ``last_vote`` or to the last proposal is answered with
  the stored message and signature (idempotent re-send after a crash), whatever ``(H, R, S)``
  is now; any other request with ``(h, r, s) <= (H, R, S)`` is refused with the named rule it
  breaks (``HeightRegression``, ``RoundRegression``, ``StepRegression``, ``ConflictingVote``,
  ``ConflictingProposal``).
- *persist before return*: the ``SafetyData`` recording a signature is durably stored
  (``replace`` + ``sync``) before the signature is returned. After a crash at any point, the
  reloaded data is at least as high as every signature that left the process, so the rules
  above hold across restarts.
- *verified output*: a signature is checked under the chain's suite before it is persisted or
  returned (``SignerMismatch`` otherwise), so a wrong or faulty key emits nothing.
- a corrupt safety file refuses to start (``CorruptSafetyData``); an absent or empty file is a
  fresh validator (a wiped safety file is therefore a Byzantine fault, as in S4).

File format: one WAL-framed record (``crc32 | length | payload``) holding the canonical msgpack
array ``[version, chain_id, name, H, R, S, last_vote | nil, last_proposal | nil]``, written with
``DurableFile.replace`` (atomic).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from yulian.consensus.durable import DurableFile
from yulian.consensus.wal import RECORD_HEADER_BYTES, encode_record, read_record
from yulian.crypto.suite import PrivateKey, Suite
from yulian.types.commit import PRECOMMIT, PREVOTE, vote_sign_bytes
from yulian.types.consensus import (
    MAX_ROUND,
    MAX_VALIDATOR_NAME,
    Proposal,
    Vote,
    proposal_sign_bytes,
)
from yulian.types.encoding import DecodeError, Limits, Value, decode, encode
from yulian.types.fields import expect_array, expect_bytes, expect_int, expect_str, expect_version
from yulian.types.tx import SignedTx, Tx

PROPOSAL_STEP = 0
STEP_NAMES = {PROPOSAL_STEP: "proposal", PREVOTE: "prevote", PRECOMMIT: "precommit"}
SAFETY_VERSION = 1
MAX_BLOCK_HASH_BYTES = 64
SAFETY_LIMITS = Limits(max_bytes=4096, max_depth=3, max_items=16, max_str=256, max_bin=256)


@dataclass(frozen=True)
class SafetyData:
    """What was last signed. ``height == 0`` means nothing was ever signed.

    ``last_proposal_pol_round`` and ``last_proposal_signature`` complete ``last_proposal`` so
    the identical proposal can be re-issued with the same signature (SM2/ECDSA signatures are
    randomised, so re-signing would give different bytes).
    """

    height: int = 0
    round: int = 0
    step: int = PROPOSAL_STEP
    last_vote: Vote | None = None
    last_proposal: tuple[int, int, bytes] | None = None  # (height, round, block_hash)
    last_proposal_pol_round: int = -1
    last_proposal_signature: bytes = b""


class SafetyViolation(Exception):
    """A request the safety rules refuse; the subclass names the rule, the message the numbers."""


class HeightRegression(SafetyViolation):
    def __init__(self, height: int, last_height: int) -> None:
        super().__init__(f"height regression: rule h >= H, got h={height} < H={last_height}")
        self.height = height
        self.last_height = last_height


class RoundRegression(SafetyViolation):
    def __init__(self, height: int, round_: int, last_round: int) -> None:
        super().__init__(
            f"round regression at h={height}: rule h == H => r >= R, "
            f"got r={round_} < R={last_round}"
        )
        self.height = height
        self.round = round_
        self.last_round = last_round


class StepRegression(SafetyViolation):
    def __init__(self, height: int, round_: int, step: int, last_step: int) -> None:
        super().__init__(
            f"step regression at h={height} r={round_}: rule (h, r) == (H, R) => s >= S, got "
            f"s={step} ({STEP_NAMES[step]}) < S={last_step} ({STEP_NAMES[last_step]})"
        )
        self.height = height
        self.round = round_
        self.step = step
        self.last_step = last_step


class ConflictingVote(SafetyViolation):
    def __init__(
        self, vote_type: int, height: int, round_: int, block_hash: bytes, signed: bytes
    ) -> None:
        super().__init__(
            f"conflicting {STEP_NAMES[vote_type]} at h={height} r={round_}: rule "
            f"(h, r, s) == (H, R, S) => same block_hash, got {block_hash.hex() or 'nil'} "
            f"!= signed {signed.hex() or 'nil'}"
        )
        self.type = vote_type
        self.height = height
        self.round = round_
        self.block_hash = block_hash
        self.signed_block_hash = signed


class ConflictingProposal(SafetyViolation):
    def __init__(
        self, height: int, round_: int, pol_round: int, block_hash: bytes, signed: tuple[int, bytes]
    ) -> None:
        super().__init__(
            f"conflicting proposal at h={height} r={round_}: rule (h, r, 0) == (H, R, S) => same "
            f"(pol_round, block_hash), got ({pol_round}, {block_hash.hex()}) != signed "
            f"({signed[0]}, {signed[1].hex()})"
        )
        self.height = height
        self.round = round_
        self.pol_round = pol_round
        self.block_hash = block_hash
        self.signed_pol_round, self.signed_block_hash = signed


class InvalidSignRequest(ValueError):
    """A request no honest caller makes (out-of-range numbers); nothing is signed."""


class SignerMismatch(Exception):
    """The key signs what the chain's suite rejects (a wrong key type or a faulty signer)."""


class CorruptSafetyData(Exception):
    """The safety file is not a valid record for this chain and validator: refuse to start."""


class SafetyRules:
    """The validator's only signer: CheckHRS, persist, then sign. See the module docstring."""

    def __init__(
        self, suite: Suite, key: PrivateKey, chain_id: str, name: str, store: DurableFile
    ) -> None:
        if not 0 < len(chain_id.encode()) <= 64 or not 0 < len(name.encode()) <= MAX_VALIDATOR_NAME:
            raise ValueError(
                f"need a 1..64-byte chain id and a 1..128-byte name: {chain_id!r} {name!r}"
            )
        self._suite = suite
        self._key = key
        self._public_key = key.public_key()
        self._chain_id = chain_id
        self._name = name
        self._store = store
        self._data = load_safety_data(store, chain_id, name)

    @property
    def data(self) -> SafetyData:
        return self._data

    @property
    def public_key(self) -> bytes:
        return self._public_key

    def sign_tx(self, tx: Tx) -> SignedTx:
        """Sign ``tx`` (this node's evidence reports) under the tx domain of this chain only:
        the signed bytes start with the tx domain, so they are never vote or proposal bytes."""
        if tx.chain_id != self._chain_id:
            raise ValueError(f"tx for chain {tx.chain_id!r}, these rules sign {self._chain_id!r}")
        return SignedTx.create(tx, self._sign)

    def sign_vote(self, type_: int, height: int, round_: int, block_hash: bytes) -> Vote:
        """Sign iff ``(h, r, type) > (H, R, S)``; re-issue iff the request equals ``last_vote``.

        ``block_hash == b""`` is a vote for nil (it conflicts with a vote for a block).
        """
        _check_request(height, round_, block_hash)
        if type_ not in (PREVOTE, PRECOMMIT):
            raise InvalidSignRequest(f"vote type {type_} is neither PREVOTE nor PRECOMMIT")
        last = self._data.last_vote
        if last is not None and (last.type, last.height, last.round, last.block_hash) == (
            type_,
            height,
            round_,
            block_hash,
        ):
            return last

        def conflict() -> SafetyViolation:
            assert last is not None, "a vote step was signed, so last_vote is that vote"
            return ConflictingVote(type_, height, round_, block_hash, last.block_hash)

        self._check_hrs(height, round_, type_, conflict)
        message = vote_sign_bytes(self._chain_id, type_, height, round_, block_hash)
        vote = Vote(type_, height, round_, block_hash, self._name, self._sign(message))
        new = replace(self._data, height=height, round=round_, step=type_, last_vote=vote)
        self._persist(new)
        self._data = new
        return vote

    def sign_proposal(
        self, height: int, round_: int, pol_round: int, block: bytes, block_hash: bytes
    ) -> Proposal:
        """Sign iff ``(h, r, 0) > (H, R, S)``; re-issue iff ``(h, r, pol_round, block_hash)``
        equals the last proposal. Requires ``-1 <= pol_round < r`` and a non-empty hash."""
        _check_request(height, round_, block_hash)
        if not block_hash or not -1 <= pol_round < round_:
            raise InvalidSignRequest(
                f"proposal needs -1 <= pol_round < r and a block hash, got pol_round={pol_round} "
                f"r={round_} block_hash={block_hash.hex() or 'empty'}"
            )
        d = self._data
        if (
            d.last_proposal == (height, round_, block_hash)
            and d.last_proposal_pol_round == pol_round
        ):
            signature = d.last_proposal_signature
        else:
            signed = (d.last_proposal_pol_round, d.last_proposal[2] if d.last_proposal else b"")
            self._check_hrs(
                height,
                round_,
                PROPOSAL_STEP,
                lambda: ConflictingProposal(height, round_, pol_round, block_hash, signed),
            )
            message = proposal_sign_bytes(self._chain_id, height, round_, pol_round, block_hash)
            signature = self._sign(message)
            new = replace(
                d,
                height=height,
                round=round_,
                step=PROPOSAL_STEP,
                last_proposal=(height, round_, block_hash),
                last_proposal_pol_round=pol_round,
                last_proposal_signature=signature,
            )
            self._persist(new)
            self._data = new
        return Proposal(height, round_, pol_round, block, block_hash, self._name, signature)

    def _check_hrs(
        self, height: int, round_: int, step: int, conflict: Callable[[], SafetyViolation]
    ) -> None:
        """Pass iff ``(h, r, s) > (H, R, S)``; otherwise raise the first rule broken:
        ``h < H``, ``r < R``, ``s < S``, or ``(h, r, s) == (H, R, S)`` (a conflict)."""
        d = self._data
        if (height, round_, step) > (d.height, d.round, d.step):
            return
        if height < d.height:
            raise HeightRegression(height, d.height)
        if round_ < d.round:
            raise RoundRegression(height, round_, d.round)
        if step < d.step:
            raise StepRegression(height, round_, step, d.step)
        raise conflict()

    def _sign(self, message: bytes) -> bytes:
        """Post-condition: the signature verifies under the chain's suite, else nothing leaves."""
        signature = self._key.sign(message)
        if not self._suite.verify(self._public_key, message, signature):
            raise SignerMismatch(
                f"the key's signature does not verify under suite {self._suite.name!r}"
            )
        return signature

    def _persist(self, data: SafetyData) -> None:
        self._store.replace(encode_record(encode_safety_data(data, self._chain_id, self._name)))
        self._store.sync()


def _check_request(height: int, round_: int, block_hash: bytes) -> None:
    """Require ``h >= 1``, ``0 <= r <= MAX_ROUND`` and ``len(block_hash) <= 64``."""
    if height < 1 or not 0 <= round_ <= MAX_ROUND or len(block_hash) > MAX_BLOCK_HASH_BYTES:
        raise InvalidSignRequest(
            f"need h >= 1, 0 <= r <= {MAX_ROUND}, len(block_hash) <= {MAX_BLOCK_HASH_BYTES}; "
            f"got h={height} r={round_} len(block_hash)={len(block_hash)}"
        )


def encode_safety_data(data: SafetyData, chain_id: str, name: str) -> bytes:
    """The canonical payload of the safety file (see the module docstring)."""
    proposal: Value = None
    if data.last_proposal is not None:
        h, r, block_hash = data.last_proposal
        proposal = (h, r, data.last_proposal_pol_round, block_hash, data.last_proposal_signature)
    last_vote = data.last_vote.to_value() if data.last_vote is not None else None
    return encode(
        (SAFETY_VERSION, chain_id, name, data.height, data.round, data.step, last_vote, proposal)
    )


def load_safety_data(store: DurableFile, chain_id: str, name: str) -> SafetyData:
    """The persisted ``SafetyData``; fresh if the file is empty; ``CorruptSafetyData`` if bad."""
    raw = store.read()
    if not raw:
        return SafetyData()
    payload = read_record(raw, 0)
    if payload is None or RECORD_HEADER_BYTES + len(payload) != len(raw):
        raise CorruptSafetyData(f"safety file of {len(raw)} bytes is not one valid framed record")
    try:
        data, owner = _decode_safety_data(payload)
    except DecodeError as e:
        raise CorruptSafetyData(f"safety file payload does not decode: {e}") from None
    if owner != (chain_id, name):
        raise CorruptSafetyData(
            f"safety file belongs to chain {owner[0]!r} validator {owner[1]!r}, "
            f"not chain {chain_id!r} validator {name!r}"
        )
    return data


def _decode_safety_data(payload: bytes) -> tuple[SafetyData, tuple[str, str]]:
    f = expect_array(decode(payload, SAFETY_LIMITS), "safety", 8)
    expect_version(f[0], "safety.version", SAFETY_VERSION)
    owner = (
        expect_str(f[1], "safety.chain_id", 64),
        expect_str(f[2], "safety.name", MAX_VALIDATOR_NAME),
    )
    last_vote = None if f[6] is None else Vote.from_value(f[6])
    data = SafetyData(
        height=expect_int(f[3], "safety.height"),
        round=expect_int(f[4], "safety.round", 0, MAX_ROUND),
        step=expect_int(f[5], "safety.step", PROPOSAL_STEP, PRECOMMIT),
        last_vote=last_vote,
    )
    if f[7] is not None:
        p = expect_array(f[7], "safety.last_proposal", 5)
        data = replace(
            data,
            last_proposal=(
                expect_int(p[0], "safety.last_proposal.height", 1),
                expect_int(p[1], "safety.last_proposal.round", 0, MAX_ROUND),
                expect_bytes(p[3], "safety.last_proposal.block_hash", MAX_BLOCK_HASH_BYTES),
            ),
            last_proposal_pol_round=expect_int(p[2], "safety.last_proposal.pol_round", -1),
            last_proposal_signature=expect_bytes(p[4], "safety.last_proposal.signature", 128),
        )
    return data, owner
