"""P3: the access-control matrix — every role × operation × standing, with the exact outcome.

Roles: client, admin, node. Operations: consortium.propose / approve, lifecycle.propose /
approve, an ordinary contract call (``notes.write``, which only members of the named
organisation may do) and misbehaviour.report. Standings of the sender:

- ``own_org``: an org1 member acting on org1's things (its own proposal, its own note, its
  own certificate, its own validator);
- ``other_org``: the same org1 member acting on org2's things;
- ``removed_org``: a member of org4, which the consortium voted out;
- ``revoked_cert``: an org1 certificate org1 revoked;
- ``expired_cert``: an org1 certificate past its validity.

Each cell is one tx on a fork of the same chain: either admission refuses it with a stable code,
or it is executed and the receipt says exactly what happened.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from tests.unit.gov_fixtures import COUNTER_V1, NOTES, Chain, World, make_world

from yulian.consensus.votes import InvalidCommit, ValidatorSet, sign_commit, verify_commit
from yulian.crypto.x509 import issue_certificate
from yulian.mempool.admission import AdmissionError
from yulian.sdk import Wallet
from yulian.types.encoding import decode

ROLES = ("client", "admin", "node")
OPERATIONS = (
    "consortium.propose",
    "consortium.approve",
    "lifecycle.propose",
    "lifecycle.approve",
    "call",
    "misbehaviour.report",
)
STANDINGS = ("own_org", "other_org", "removed_org", "revoked_cert", "expired_cert")
CELLS = list(itertools.product(ROLES, OPERATIONS, STANDINGS))

ONLY_ADMIN = "only an organisation admin may do this; the sender's role is 'client'"


@dataclass(frozen=True)
class Refused:
    code: str


@dataclass(frozen=True)
class Done:
    status: str  # the receipt status
    message: str = ""  # a fragment of the receipt message
    check: Callable[[Any, Chain], None] | None = None  # on (receipt value, chain after)


def proposal(status: str, approvals: list[str]) -> Callable[[Any, Chain], None]:
    def check(value: Any, _chain: Chain) -> None:
        assert value["status"] == status, value
        assert list(value["approvals"]) == approvals, value

    return check


def revoked(org: str, *, applied: bool) -> Callable[[Any, Chain], None]:
    def check(value: Any, chain: Chain) -> None:
        orgs = [r.org for r in chain.config().revocations if r.height == chain.height]
        assert orgs == ([org] if applied else []), orgs
        assert value["status"] == ("applied" if applied else "open"), value
        assert list(value["approvals"]) == ["org1"], value

    return check


def equivocation(org: str, node: str) -> Callable[[Any, Chain], None]:
    def check(value: Any, _chain: Chain) -> None:
        assert (value["org"], value["validator"], value["height"]) == (org, node, 1), value

    return check


def note(org: str) -> Callable[[Any, Chain], None]:
    def check(value: Any, chain: Chain) -> None:
        assert value == "hi"
        assert decode(chain.ledger.get(b"notes\x00note/" + org.encode()) or b"") == "hi"

    return check


# The cells that pass admission (client and admin everywhere, node only for misbehaviour),
# written out one by one.
ADMITTED: dict[tuple[str, str, str], Done] = {
    ("admin", "consortium.propose", "own_org"): Done("ok", check=revoked("org1", applied=True)),
    ("admin", "consortium.propose", "other_org"): Done("ok", check=revoked("org2", applied=False)),
    ("client", "consortium.propose", "own_org"): Done("reverted", ONLY_ADMIN),
    ("client", "consortium.propose", "other_org"): Done("reverted", ONLY_ADMIN),
    ("admin", "consortium.approve", "own_org"): Done("reverted", "org1 already approved"),
    ("admin", "consortium.approve", "other_org"): Done(
        "ok", check=proposal("applied", ["org1", "org2"])
    ),
    ("client", "consortium.approve", "own_org"): Done("reverted", ONLY_ADMIN),
    ("client", "consortium.approve", "other_org"): Done("reverted", ONLY_ADMIN),
    ("admin", "lifecycle.propose", "own_org"): Done("ok", check=proposal("open", ["org1"])),
    ("admin", "lifecycle.propose", "other_org"): Done("ok", check=proposal("open", ["org1"])),
    ("client", "lifecycle.propose", "own_org"): Done("reverted", ONLY_ADMIN),
    ("client", "lifecycle.propose", "other_org"): Done("reverted", ONLY_ADMIN),
    ("admin", "lifecycle.approve", "own_org"): Done("reverted", "org1 already approved"),
    ("admin", "lifecycle.approve", "other_org"): Done(
        "ok", check=proposal("applied", ["org1", "org2"])
    ),
    ("client", "lifecycle.approve", "own_org"): Done("reverted", ONLY_ADMIN),
    ("client", "lifecycle.approve", "other_org"): Done("reverted", ONLY_ADMIN),
    ("admin", "call", "own_org"): Done("ok", check=note("org1")),
    ("admin", "call", "other_org"): Done("reverted", "only members of org2 may write"),
    ("client", "call", "own_org"): Done("ok", check=note("org1")),
    ("client", "call", "other_org"): Done("reverted", "only members of org2 may write"),
    ("client", "misbehaviour.report", "own_org"): Done(
        "ok", check=equivocation("org1", "org1-node0")
    ),
    ("client", "misbehaviour.report", "other_org"): Done(
        "ok", check=equivocation("org2", "org2-node0")
    ),
    ("admin", "misbehaviour.report", "own_org"): Done(
        "ok", check=equivocation("org1", "org1-node0")
    ),
    ("admin", "misbehaviour.report", "other_org"): Done(
        "ok", check=equivocation("org2", "org2-node0")
    ),
    ("node", "misbehaviour.report", "own_org"): Done(
        "ok", check=equivocation("org1", "org1-node0")
    ),
    ("node", "misbehaviour.report", "other_org"): Done(
        "ok", check=equivocation("org2", "org2-node0")
    ),
}

STANDING_CODES = {
    "removed_org": "unknown_ca",
    "revoked_cert": "certificate_revoked",
    "expired_cert": "certificate_expired",
}


def expected(role: str, operation: str, standing: str) -> Refused | Done:
    if standing in STANDING_CODES:  # refused before the role is even looked at
        return Refused(STANDING_CODES[standing])
    if role == "node" and operation != "misbehaviour.report":
        return Refused("role_not_allowed")
    return ADMITTED[(role, operation, standing)]


@dataclass
class Matrix:
    world: World
    chain: Chain
    senders: dict[tuple[str, str], Wallet]  # (role, standing) -> wallet
    ids: dict[str, int]  # "consortium.own" etc. -> proposal id
    victims: dict[str, Wallet]  # org -> a client certificate to revoke


def node_name(org: str) -> str:
    return f"{org}-node0"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    world = make_world(tmp_path_factory.mktemp("matrix") / "net", contracts=[("notes", NOTES)])
    chain = Chain(world)
    short = world.genesis.time_ms + 60_000  # long before the first block's time
    senders: dict[tuple[str, str], Wallet] = {}
    for role in ROLES:
        name = {"client": "client1", "admin": "admin", "node": None}[role]
        for standing, org in (("own_org", "org1"), ("other_org", "org1"), ("removed_org", "org4")):
            senders[(role, standing)] = world.wallet(org, name or node_name(org))
        senders[(role, "revoked_cert")] = world.issue("org1", role, f"revoked-{role}")
        senders[(role, "expired_cert")] = world.issue(
            "org1", role, f"expired-{role}", not_after_ms=short
        )
    victims = {org: world.issue(org, "client", f"victim-{org}") for org in ("org1", "org2")}

    chain.enact("remove_org", ["org4"], ("org1", "org2", "org3"))
    for role in ROLES:
        cert = senders[(role, "revoked_cert")].cert
        assert chain.propose("org1", "revoke", [cert]).value["status"] == "applied"
    ids = {}
    for org, scope in (("org1", "own"), ("org2", "other")):
        receipt = chain.propose(org, "set_params", [[["max_block_txs", 900]]])
        ids[f"consortium.{scope}"] = receipt.value["id"]
        app = f"{scope}_app"
        receipt = chain.call(world.wallet(org), "lifecycle", "propose", app, "1", COUNTER_V1)
        assert receipt.value["status"] == "open"
        ids[f"lifecycle.{scope}"] = receipt.value["id"]
    assert chain.config().org_names() == ("org1", "org2", "org3")
    return Matrix(world, chain, senders, ids, victims)


def arguments(m: Matrix, operation: str, standing: str) -> tuple[str, str, tuple[Any, ...]]:
    """(contract, method, args) of ``operation`` on the target ``standing`` names."""
    scope = "other" if standing == "other_org" else "own"
    target = "org2" if standing == "other_org" else "org1"
    if operation == "consortium.propose":
        return "consortium", "propose", ("revoke", [m.victims[target].cert])
    if operation == "consortium.approve":
        return "consortium", "approve", (m.ids[f"consortium.{scope}"],)
    if operation == "lifecycle.propose":
        return "lifecycle", "propose", (f"{scope}_app", "2", COUNTER_V1)
    if operation == "lifecycle.approve":
        return "lifecycle", "approve", (m.ids[f"lifecycle.{scope}"],)
    if operation == "call":
        return "notes", "write", (target, "hi")
    assert operation == "misbehaviour.report"
    return "misbehaviour", "report", (m.world.evidence(node_name(target)),)


def test_the_matrix_is_complete() -> None:
    assert len(CELLS) == 3 * 6 * 5 == 90
    outcomes = [expected(*cell) for cell in CELLS]
    assert sum(isinstance(o, Refused) for o in outcomes) == 64
    assert sum(isinstance(o, Done) and o.status == "ok" for o in outcomes) == 14
    assert sum(isinstance(o, Done) and o.status == "reverted" for o in outcomes) == 12


@pytest.mark.parametrize(("role", "operation", "standing"), CELLS)
def test_access(matrix: Matrix, role: str, operation: str, standing: str) -> None:
    chain = matrix.chain.fork()
    wallet = matrix.senders[(role, standing)]
    assert wallet.role == role
    contract, method, args = arguments(matrix, operation, standing)
    envelope = chain.sign(wallet, contract, method, *args)
    outcome = expected(role, operation, standing)
    if isinstance(outcome, Refused):
        with pytest.raises(AdmissionError) as info:
            chain.admit(envelope)
        assert info.value.code == outcome.code, str(info.value)
        return
    (receipt,) = chain.run(chain.admit(envelope))
    assert receipt.status == outcome.status, (receipt.status, receipt.message)
    assert outcome.message in receipt.message
    if receipt.status != "ok":
        assert chain.results[-1].writes == ()  # a refused call changes nothing
        return
    assert outcome.check is not None
    outcome.check(receipt.value, chain)


# --- P3 beyond the table --------------------------------------------------------------------------


def test_an_approval_counts_only_for_the_senders_org(matrix: Matrix) -> None:
    chain = matrix.chain.fork()
    pid = matrix.ids["consortium.other"]
    admin = matrix.world.wallet("org1")
    receipt = chain.call(admin, "consortium", "approve", pid, "org3")
    assert (receipt.status, receipt.message) == ("reverted", "approve takes (proposal_id)")
    assert list(chain.query("consortium", "proposal", pid)["approvals"]) == ["org2"]
    receipt = chain.call(admin, "consortium", "approve", pid)
    assert list(receipt.value["approvals"]) == ["org1", "org2"]


def test_a_second_admin_of_the_same_org_does_not_count_again(matrix: Matrix) -> None:
    chain = matrix.chain.fork()
    second_admin = matrix.world.issue("org2", "admin", "admin2")
    pid = matrix.ids["consortium.other"]  # proposed by org2
    receipt = chain.call(second_admin, "consortium", "approve", pid)
    assert receipt.status == "reverted"
    assert f"org2 already approved proposal {pid}" in receipt.message


def test_an_org_cannot_issue_a_certificate_for_another_org(matrix: Matrix) -> None:
    chain = matrix.chain.fork()
    forged = matrix.world.issue("org1", "admin", "admin", subject_org="org2")
    with pytest.raises(AdmissionError) as info:
        chain.admit(chain.sign(forged, "consortium", "approve", matrix.ids["consortium.other"]))
    assert info.value.code == "organisation_mismatch"


def test_a_client_cannot_vote(matrix: Matrix) -> None:
    world = matrix.world
    validators = ValidatorSet(world.genesis.validators)
    client = world.wallet("org1", "client1")
    nodes = [(v.name, world.node_key(v.name).sign) for v in world.genesis.validators[:2]]
    chain_id, block_hash = world.genesis.chain_id, b"\x05" * 32
    cert = sign_commit(chain_id, 3, 0, block_hash, [*nodes, ("client1", client.key.sign)])
    with pytest.raises(InvalidCommit, match="signer client1 is not a validator at height 3"):
        verify_commit(world.suite, chain_id, validators, cert, height=3, block_hash=block_hash)
    # nor under a validator's name: its signature must be the validator's key
    cert = sign_commit(chain_id, 3, 0, block_hash, [*nodes, ("org3-node0", client.key.sign)])
    with pytest.raises(InvalidCommit, match="bad signature from validator org3-node0"):
        verify_commit(world.suite, chain_id, validators, cert, height=3, block_hash=block_hash)


def forged_for_key(world: World, issuer_org: str, public_key: bytes, name: str) -> bytes:
    """A certificate ``issuer_org``'s CA issues, in its own name, for someone else's key."""
    ca_der, ca_key = world.ca(issuer_org)
    return issue_certificate(
        world.suite,
        ca_cert=ca_der,
        ca_key=ca_key,
        org=issuer_org,
        role="client",
        name=name,
        public_key=public_key,
        not_before=world.at(world.genesis.time_ms - 3_600_000),
        not_after=world.at(world.genesis.time_ms + 86_400_000),
    )


def test_an_org_cannot_revoke_another_orgs_key_alone(matrix: Matrix) -> None:
    world, chain = matrix.world, matrix.chain.fork()
    validator_key = world.node_key("org1-node0").public_key()
    admin_key = world.wallet("org1").key.public_key()
    for i, key in enumerate((validator_key, admin_key)):
        receipt = chain.propose("org2", "revoke", [forged_for_key(world, "org2", key, f"f{i}")])
        assert receipt.status == "ok", receipt.message
    config = chain.config()
    assert "org1-node0" in [v.name for v in config.validators_at(chain.height + 2)]
    # org1's admin can still act (admission as a replica builds it after the block)
    chain.admit(chain.sign(world.wallet("org1"), "consortium", "proposals"))
