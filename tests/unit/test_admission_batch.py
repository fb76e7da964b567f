"""Admission's batch and worker APIs: ``admit_many`` gives the verdicts of ``admit`` +
``mempool.add`` in sequence; ``preverify`` (a worker's signature check) and ``note_verified``
skip exactly the signature check they vouch for, and nothing else."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from yulian.crypto.membership import Membership
from yulian.crypto.suite import PrivateKey, Suite, get_suite
from yulian.crypto.x509 import create_ca, issue_certificate
from yulian.execution.executor import ExecTx
from yulian.mempool.admission import Admission, AdmissionError
from yulian.mempool.pool import Mempool
from yulian.mempool.preverify import preverify
from yulian.types.genesis import ChainParams, Organisation
from yulian.types.tx import SignedTx, Tx

CHAIN = "chain-a"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2027, 1, 1, tzinfo=UTC)
NOW_MS = 1_780_000_000_000  # inside [T0, T1]
SUITES = ("standard", "gm")


class CountingSuite(Suite):
    """A suite that counts ``verify`` calls and otherwise is ``inner``."""

    def __init__(self, inner: Suite) -> None:
        self.inner = inner
        self.name = inner.name
        self.hash_name = inner.hash_name
        self.signature_name = inner.signature_name
        self.hash_size = inner.hash_size
        self.verifies = 0

    def hash(self, data: bytes) -> bytes:
        return self.inner.hash(data)

    def generate_key(self) -> PrivateKey:
        return self.inner.generate_key()

    def load_private_key(self, pem: bytes) -> PrivateKey:
        return self.inner.load_private_key(pem)

    def verify(self, public_key: bytes, data: bytes, signature: bytes) -> bool:
        self.verifies += 1
        return self.inner.verify(public_key, data, signature)


@dataclasses.dataclass
class Member:
    key: PrivateKey
    cert: bytes

    def sign(self, nonce: int, *, expires_at: int = 10, signer: bytes | None = None) -> bytes:
        tx = Tx(CHAIN, "kv", "put", ("k", nonce), signer or self.cert, nonce, expires_at)
        return SignedTx.create(tx, self.key.sign).encode()


@dataclasses.dataclass
class World:
    suite: Suite
    orgs: tuple[Organisation, ...]
    alice: Member
    bob: Member
    stranger: Member  # issued by a CA outside the consortium


def _member(suite: Suite, ca: bytes, ca_key: PrivateKey, org: str, name: str) -> Member:
    key = suite.generate_key()
    cert = issue_certificate(
        suite,
        ca_cert=ca,
        ca_key=ca_key,
        org=org,
        role="client",
        name=name,
        public_key=key.public_key(),
        not_before=T0,
        not_after=T1,
    )
    return Member(key, cert)


@pytest.fixture(scope="module", params=SUITES)
def world(request: pytest.FixtureRequest) -> World:
    suite = get_suite(request.param)
    ca_key, rogue_key = suite.generate_key(), suite.generate_key()
    ca = create_ca(suite, "org1", ca_key, not_before=T0, not_after=T1)
    rogue = create_ca(suite, "org1", rogue_key, not_before=T0, not_after=T1)
    return World(
        suite,
        (Organisation("org1", ca),),
        _member(suite, ca, ca_key, "org1", "alice"),
        _member(suite, ca, ca_key, "org1", "bob"),
        _member(suite, rogue, rogue_key, "org1", "eve"),
    )


def make_admission(
    world: World,
    *,
    is_known: Callable[[bytes], bool] = lambda _: False,
    is_known_many: Callable[[Sequence[bytes]], list[bool]] | None = None,
    revoked_ids: Sequence[bytes] = (),
) -> tuple[Admission, CountingSuite]:
    suite = CountingSuite(world.suite)
    membership = Membership(world.suite, world.orgs, revoked_ids=revoked_ids)
    admission = Admission(
        suite,
        CHAIN,
        ChainParams(),
        membership,
        contract_exists=lambda name: name == "kv",
        is_known=is_known,
        is_known_many=is_known_many,
    )
    return admission, suite


def flip_signature(envelope: bytes) -> bytes:
    signed = SignedTx.decode(envelope)
    signature = bytearray(signed.signature)
    signature[-5] ^= 0x01
    return SignedTx(signed.body, bytes(signature), signed.tx).encode()


def tx_id(world: World, envelope: bytes) -> bytes:
    return world.suite.hash(SignedTx.decode(envelope).body)


# --- preverify -----------------------------------------------------------------------------


def test_preverify_accepts_valid_txs(world: World) -> None:
    envelopes = [world.alice.sign(1), world.bob.sign(2), world.stranger.sign(3)]
    got = preverify(world.suite.name, envelopes)
    expected = [(tx_id(world, e), SignedTx.decode(e).signature) for e in envelopes]
    assert got == expected  # the stranger too: membership is not preverify's business


def test_preverify_refuses_bad_signatures_swapped_certificates_and_garbage(world: World) -> None:
    good = world.alice.sign(1)
    # bob's certificate in the body, alice's key behind the signature
    swapped = world.alice.sign(2, signer=world.bob.cert)
    # alice's signed body, with bob's certificate pasted in afterwards
    signed = SignedTx.decode(world.alice.sign(3))
    forged_tx = dataclasses.replace(signed.tx, signer=world.bob.cert)
    pasted = SignedTx(forged_tx.encode(), signed.signature, forged_tx).encode()
    bad_cert = world.alice.sign(4, signer=b"\x30\x03\x02\x01\x00")
    hostile: list[object] = [b"", b"\xc1", b"\x92\xc4\x00\xc4\x00", b"\xff" * 100, "text", None]
    datas = [good, flip_signature(good), swapped, pasted, bad_cert, *hostile]
    got = preverify(world.suite.name, datas)  # type: ignore[arg-type]
    assert got[0] is not None
    assert got[1:] == [None] * (len(datas) - 1)


def test_preverify_refuses_the_other_suites_txs(world: World) -> None:
    other = next(s for s in SUITES if s != world.suite.name)
    assert preverify(other, [world.alice.sign(1)]) == [None]


# --- note_verified -------------------------------------------------------------------------


def test_note_verified_skips_exactly_that_signature_check(world: World) -> None:
    admission, counting = make_admission(world)
    noted, other = world.alice.sign(1), world.alice.sign(2)
    for pair in preverify(world.suite.name, [noted]):
        assert pair is not None
        admission.note_verified(*pair)
    assert admission.admit(noted, next_height=1, now_ms=NOW_MS).tx_id == tx_id(world, noted)
    assert counting.verifies == 0
    admission.admit(other, next_height=1, now_ms=NOW_MS)
    assert counting.verifies == 1
    # the same body under another signature is checked (and here refused)
    with pytest.raises(AdmissionError) as info:
        admission.admit(flip_signature(noted), next_height=1, now_ms=NOW_MS)
    assert info.value.code == "bad_signature" and counting.verifies == 2


def test_note_verified_still_runs_every_other_check(world: World) -> None:
    revoked_id = world.suite.hash(world.bob.cert)
    admission, counting = make_admission(world, revoked_ids=[revoked_id])
    cases = {
        "certificate_revoked": world.bob.sign(1),
        "unknown_ca": world.stranger.sign(2),
        "tx_expired": world.alice.sign(3, expires_at=0),
    }
    pairs = preverify(world.suite.name, list(cases.values()))
    for pair in pairs:
        assert pair is not None
        admission.note_verified(*pair)
    for code, envelope in cases.items():
        with pytest.raises(AdmissionError) as info:
            admission.admit(envelope, next_height=1, now_ms=NOW_MS)
        assert info.value.code == code
    assert counting.verifies == 0


@pytest.mark.parametrize(
    "tx_id_, signature",
    [(b"short", b"sig"), ("x" * 32, b"sig"), (b"i" * 32, b""), (b"i" * 32, b"s" * 129)],
)
def test_note_verified_refuses_a_malformed_pair(
    world: World, tx_id_: bytes, signature: bytes
) -> None:
    admission, counting = make_admission(world)
    with pytest.raises(ValueError):
        admission.note_verified(tx_id_, signature)
    admission.admit(world.alice.sign(1), next_height=1, now_ms=NOW_MS)
    assert counting.verifies == 1  # nothing was cached by the refused call


# --- admit_many ----------------------------------------------------------------------------


def sequential(admission: Admission, mempool: Mempool, datas: Sequence[bytes]) -> list[str]:
    """What the node does today per item: ``admit`` then ``mempool.add``."""
    out = []
    for data in datas:
        try:
            tx = admission.admit(data, next_height=1, now_ms=NOW_MS)
            mempool.add(tx)
            out.append("ok:" + tx.tx_id.hex())
        except AdmissionError as e:
            out.append(str(e))
    return out


def batch(admission: Admission, datas: Sequence[bytes]) -> list[str]:
    verdicts = admission.admit_many(datas, next_height=1, now_ms=NOW_MS)
    return ["ok:" + v.tx_id.hex() if isinstance(v, ExecTx) else str(v) for v in verdicts]


@pytest.mark.parametrize("batched_lookup", [True, False])
def test_admit_many_matches_admit_in_sequence(world: World, batched_lookup: bool) -> None:
    committed = world.alice.sign(7)
    pending = world.alice.sign(8)
    first = world.alice.sign(1)
    datas = [
        first,
        world.bob.sign(2),
        first,  # a second copy within the batch
        flip_signature(first),  # the same id, a bad signature: bad_signature wins
        committed,
        pending,
        b"garbage",
        world.alice.sign(3, expires_at=0),
        world.stranger.sign(4),
        world.bob.sign(5),
    ]
    committed_ids = {tx_id(world, committed)}

    mempool_a = Mempool(100)
    admission_a, _ = make_admission(world, is_known=lambda i: i in mempool_a or i in committed_ids)
    mempool_a.add(admission_a.check(pending, height=1, at_ms=NOW_MS))
    expected = sequential(admission_a, mempool_a, datas)

    mempool_b = Mempool(100)
    calls: list[list[bytes]] = []

    def is_known_many(ids: Sequence[bytes]) -> list[bool]:
        calls.append(list(ids))
        return [i in mempool_b or i in committed_ids for i in ids]

    admission_b, _ = make_admission(
        world,
        is_known=lambda i: i in mempool_b or i in committed_ids,
        is_known_many=is_known_many if batched_lookup else None,
    )
    mempool_b.add(admission_b.check(pending, height=1, at_ms=NOW_MS))
    got = batch(admission_b, datas)

    assert got == expected
    assert [v.split(":")[0] for v in got] == [
        "ok",
        "ok",
        "duplicate_tx",
        "bad_signature",
        "duplicate_tx",
        "duplicate_tx",
        "malformed_tx",
        "tx_expired",
        "unknown_ca",
        "ok",
    ]
    assert len(calls) == (1 if batched_lookup else 0)


def test_admit_many_of_nothing_and_of_only_refusals(world: World) -> None:
    def never(ids: Sequence[bytes]) -> list[bool]:
        raise AssertionError("no id to look up")

    admission, _ = make_admission(world, is_known_many=never)
    assert admission.admit_many([], next_height=1, now_ms=NOW_MS) == []
    verdicts = admission.admit_many([b"x", b"y"], next_height=1, now_ms=NOW_MS)
    assert [v.code for v in verdicts if isinstance(v, AdmissionError)] == ["malformed_tx"] * 2


def test_admit_many_refuses_a_short_answer_from_is_known_many(world: World) -> None:
    admission, _ = make_admission(world, is_known_many=lambda ids: [False])
    with pytest.raises(ValueError, match="answered 1 of 2"):
        admission.admit_many(
            [world.alice.sign(1), world.alice.sign(2)], next_height=1, now_ms=NOW_MS
        )
