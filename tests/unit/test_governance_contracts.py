"""The ``consortium`` and ``lifecycle`` system contracts, driven block by block.

Every tx is signed by a real certificate of a 4-organisation network, admitted with the config
of the committed state (as a replica admits it), executed with ``execute_block`` and its writes
applied to a ledger in memory, so later blocks see earlier changes.
"""

from __future__ import annotations

import pytest
from tests.unit.gov_fixtures import (
    COUNTER_V1,
    COUNTER_V2,
    Chain,
    World,
    make_registry,
    make_world,
)

from yulian.execution.executor import execute_block
from yulian.mempool.admission import AdmissionError
from yulian.types.receipt import Receipt

ALL = ("org1", "org2", "org3", "org4")
MAJORITY = ("org1", "org2", "org3")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("gov") / "net")


@pytest.fixture
def chain(world: World) -> Chain:
    return Chain(world)


def names(validators: object) -> list[str]:
    return [v.name for v in validators]  # type: ignore[attr-defined]


def reverted(receipt: Receipt, fragment: str) -> None:
    assert receipt.status == "reverted", (receipt.status, receipt.value)
    assert fragment in receipt.message, receipt.message


def refused(chain: Chain, envelope: bytes, code: str) -> None:
    with pytest.raises(AdmissionError) as info:
        chain.admit(envelope)
    assert info.value.code == code, info.value


# --- organisations -------------------------------------------------------------------------------


def test_add_org_needs_a_majority_and_the_new_admin_can_then_propose(
    world: World, chain: Chain
) -> None:
    ca_der, org5_admin = world.new_org("org5")
    refused(chain, chain.sign(org5_admin, "consortium", "proposals"), "unknown_ca")

    receipt = chain.propose("org1", "add_org", ["org5", ca_der])
    assert receipt.status == "ok"
    pid = receipt.value["id"]
    assert receipt.value["status"] == "open" and list(receipt.value["approvals"]) == ["org1"]
    assert chain.config().org_names() == ALL

    receipt = chain.approve("org2", pid)
    assert receipt.value["status"] == "open"
    assert list(receipt.value["approvals"]) == ["org1", "org2"]
    assert chain.config().org_names() == ALL  # 2 of 4 is not a majority

    receipt = chain.approve("org3", pid)
    assert receipt.value["status"] == "applied"
    assert chain.config().org_names() == (*ALL, "org5")
    assert [e.name for e in receipt.events] == ["approved", "applied"]

    receipt = chain.call(
        org5_admin, "consortium", "propose", "set_params", [[["max_block_txs", 9]]]
    )
    assert receipt.status == "ok", receipt.message
    assert receipt.value["proposer"] == "org5" and receipt.value["status"] == "open"
    # 5 organisations now: 3 approvals are the majority, 2 are not
    assert chain.approve("org1", receipt.value["id"]).value["status"] == "open"
    assert chain.approve("org2", receipt.value["id"]).value["status"] == "applied"
    assert chain.config().params.max_block_txs == 9


def test_add_org_refuses_bad_roots_at_propose_time(world: World, chain: Chain) -> None:
    ca_der, _ = world.new_org("org6")
    org1_ca, _ = world.ca("org1")
    client_cert = world.wallet("org1", "client1").cert
    reverted(chain.propose("org1", "add_org", ["org5", ca_der]), "root CA refused")
    reverted(chain.propose("org1", "add_org", ["org1", org1_ca]), "already a member")
    reverted(chain.propose("org1", "add_org", ["org7", client_cert]), "root CA refused")
    reverted(chain.propose("org1", "add_org", ["org6", b""]), "non-empty bytes")
    reverted(chain.propose("org1", "add_org", [" org6", ca_der]), "printable")
    assert chain.query("consortium", "proposals") == ()


def test_remove_org_drops_its_validators_at_h_plus_2_and_its_members(
    world: World, chain: Chain
) -> None:
    receipt = chain.propose("org1", "remove_org", ["org4"])
    pid = receipt.value["id"]
    chain.approve("org2", pid)
    # the deciding approval and an org4 admin's tx admitted before it share one block
    org4_first = chain.tx(world.wallet("org4"), "consortium", "propose", "remove_org", ["org3"])
    deciding = chain.tx(world.wallet("org3"), "consortium", "approve", pid)
    org4_after = chain.tx(world.wallet("org4"), "consortium", "approve", pid)
    first, decided, after = chain.run(org4_first, deciding, org4_after)
    h = chain.height
    assert first.status == "ok" and first.value["status"] == "open"  # still a member here
    assert decided.value["status"] == "applied"
    reverted(after, "organisation 'org4' is not a member")

    config = chain.config()
    assert config.org_names() == ("org1", "org2", "org3")
    assert "org4-node0" in names(config.validators_at(h + 1))  # signs until the removal
    assert names(config.validators_at(h + 2)) == ["org1-node0", "org2-node0", "org3-node0"]
    # from the next block its certificates are unknown, whatever the role
    for name in ("admin", "client1", "org4-node0"):
        contract = "misbehaviour" if name.endswith("node0") else "consortium"
        envelope = chain.sign(world.wallet("org4", name), contract, "proposals")
        refused(chain, envelope, "unknown_ca")
    # org4's open proposal no longer counts org4: org1 + org2 are a majority of 3
    receipt = chain.approve("org1", first.value["id"])
    assert list(receipt.value["approvals"]) == ["org1", "org4"]
    assert receipt.value["status"] == "open"
    receipt = chain.approve("org2", first.value["id"])
    assert receipt.value["status"] == "applied"
    assert chain.config().org_names() == ("org1", "org2")


def test_remove_org_refusals(chain: Chain) -> None:
    reverted(chain.propose("org1", "remove_org", ["org9"]), "not a member")
    reverted(chain.propose("org1", "remove_org", []), "takes 1 arguments")


# --- validators ---------------------------------------------------------------------------------


def test_validator_changes_are_scheduled_two_blocks_later(world: World, chain: Chain) -> None:
    genesis_names = ["org1-node0", "org2-node0", "org3-node0", "org4-node0"]
    key = world.suite.generate_key().public_key()
    chain.enact("add_validator", ["org1-node1", "org1", key, 2, "127.0.0.1:9700"], MAJORITY)
    h = chain.height
    config = chain.config()
    assert names(config.validators_at(h)) == genesis_names
    assert names(config.validators_at(h + 1)) == genesis_names
    assert names(config.validators_at(h + 2)) == [*genesis_names, "org1-node1"]
    added = config.validators_at(h + 2)[-1]
    assert (added.org, added.public_key, added.power, added.address) == (
        "org1",
        key,
        2,
        "127.0.0.1:9700",
    )
    view = chain.query("consortium", "validators", h + 2)
    assert [x["name"] for x in view] == [*genesis_names, "org1-node1"]

    chain.enact("set_power", ["org2-node0", 5], MAJORITY)
    h2 = chain.height
    config = chain.config()
    assert config.validators_at(h2 + 1)[1].power == 1
    assert config.validators_at(h2 + 2)[1].power == 5

    chain.enact("remove_validator", ["org3-node0"], MAJORITY)
    h3 = chain.height
    config = chain.config()
    assert "org3-node0" in names(config.validators_at(h3 + 1))
    assert names(config.validators_at(h3 + 2)) == [
        "org1-node0",
        "org2-node0",
        "org4-node0",
        "org1-node1",
    ]


def test_two_validator_changes_in_one_block_compose(world: World, chain: Chain) -> None:
    key = world.suite.generate_key().public_key()
    w = world.wallet
    # proposal ids are sequential, so the whole vote fits in one block
    txs = [
        chain.tx(w("org1"), "consortium", "propose", "add_validator", ["nv", "org2", key, 1, ""]),
        chain.tx(w("org2"), "consortium", "approve", 1),
        chain.tx(w("org3"), "consortium", "approve", 1),
        chain.tx(w("org4"), "consortium", "propose", "set_power", ["org1-node0", 3]),
        chain.tx(w("org2"), "consortium", "approve", 2),
        chain.tx(w("org3"), "consortium", "approve", 2),
    ]
    receipts = chain.run(*txs)
    assert [r.value["status"] for r in receipts] == ["open", "open", "applied"] * 2
    h = chain.height
    config = chain.config()
    final = config.validators_at(h + 2)
    assert names(final) == ["org1-node0", "org2-node0", "org3-node0", "org4-node0", "nv"]
    assert final[0].power == 3
    assert [height for height, _ in config.schedule] == [1, h + 2]


@pytest.mark.parametrize(
    ("kind", "args", "message"),
    [
        ("add_validator", ["x", "org9", b"\x01" * 32, 1, ""], "unknown organisation org9"),
        ("add_validator", ["x", "org1", b"\x01" * 32, 0, ""], "power is an integer"),
        ("add_validator", ["x", "org1", b"\x01" * 32, True, ""], "power is an integer"),
        ("add_validator", ["org2-node0", "org1", b"\x01" * 32, 1, ""], "names must be unique"),
        ("add_validator", ["x", "org1", b"", 1, ""], "non-empty bytes"),
        ("add_validator", ["x", "org1", b"\x01" * 32, 1, 5], "host:port"),
        ("remove_validator", ["nobody"], "no validator named 'nobody'"),
        ("set_power", ["nobody", 2], "no validator named 'nobody'"),
        ("set_power", ["org1-node0", 1_000_001], "power is an integer"),
        ("frobnicate", [], "unknown proposal kind"),
    ],
)
def test_invalid_validator_changes_are_refused_at_propose_time(
    chain: Chain, kind: str, args: list[object], message: str
) -> None:
    reverted(chain.propose("org1", kind, args), message)
    assert chain.query("consortium", "proposals") == ()


def test_add_validator_with_a_duplicate_key_is_refused(world: World, chain: Chain) -> None:
    key = world.node_key("org2-node0").public_key()
    reverted(chain.propose("org1", "add_validator", ["x", "org1", key, 1, ""]), "keys must be")


# --- policies and params -------------------------------------------------------------------------


def test_set_policy_all_then_a_params_change_needs_all_four(chain: Chain) -> None:
    chain.enact("set_policy", ["params", "ALL"], MAJORITY)
    assert chain.config().policy("params") == "ALL"
    assert chain.query("consortium", "config")["policies"]["params"] == "ALL"
    receipt = chain.propose("org1", "set_params", [[["max_block_txs", 123]]])
    pid = receipt.value["id"]
    for org in ("org2", "org3"):
        assert chain.approve(org, pid).value["status"] == "open"
    assert chain.config().params.max_block_txs != 123  # 3 of 4 is not ALL
    assert chain.approve("org4", pid).value["status"] == "applied"
    assert chain.config().params.max_block_txs == 123


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nonsense", "ALL"], "unknown policy scope"),
        (["params", "SOME"], "is not ANY, MAJORITY, ALL or N-of-M"),
        (["params", "5-of-4"], "is not ANY, MAJORITY, ALL or N-of-M"),
        (["params"], "takes 2 arguments"),
    ],
)
def test_invalid_policies_are_refused(chain: Chain, args: list[object], message: str) -> None:
    reverted(chain.propose("org1", "set_policy", args), message)


def test_set_params_applies_and_invalid_params_are_refused_at_propose_time(chain: Chain) -> None:
    reverted(chain.propose("org1", "set_params", [[["max_block_txs", 0]]]), "positive integer")
    reverted(chain.propose("org1", "set_params", [[["no_such_param", 5]]]), "unknown chain")
    reverted(
        chain.propose("org1", "set_params", [[["max_tx_bytes", 2 << 20]]]),
        "max_tx_bytes may be at most 65536",
    )
    reverted(chain.propose("org1", "set_params", [[["step_limit", -1]]]), "positive integer")
    reverted(chain.propose("org1", "set_params", [[["step_limit", True]]]), "positive integer")
    assert chain.query("consortium", "proposals") == ()
    pid = chain.enact(
        "set_params", [[["max_block_txs", 50], ["timeout_propose_ms", 4000]]], MAJORITY
    )
    assert pid == 1  # the refused proposals took no id
    params = chain.config().params
    assert (params.max_block_txs, params.timeout_propose_ms) == (50, 4000)
    assert chain.admission()._params.max_block_txs == 50


def test_a_params_change_cannot_brick_governance(chain: Chain) -> None:
    receipt = chain.propose("org1", "set_params", [[["proposal_ttl_blocks", 2**64 - 1]]])
    if receipt.status == "ok":  # accepted: then it must not stop later proposals
        for org in ("org2", "org3"):
            chain.approve(org, receipt.value["id"])
        receipt = chain.propose("org1", "set_params", [[["max_block_txs", 10]]])
        assert receipt.status == "ok", receipt.message


# --- revocation ----------------------------------------------------------------------------------


def test_revoke_by_the_certs_own_org_applies_at_once(world: World, chain: Chain) -> None:
    client = world.wallet("org1", "client1")
    assert chain.call(client, "consortium", "proposals").status == "ok"
    receipt = chain.propose("org1", "revoke", [client.cert])
    assert receipt.value["status"] == "applied"
    h = chain.height
    (revocation,) = chain.config().revocations
    assert (revocation.org, revocation.height) == ("org1", h)
    assert revocation.public_key == client.key.public_key()
    assert revocation.cert_id == world.suite.hash(client.cert)
    refused(chain, chain.sign(client, "consortium", "proposals"), "certificate_revoked")
    reverted(chain.propose("org1", "revoke", [client.cert]), "already revoked")
    reverted(chain.propose("org1", "revoke", [b"not a certificate"]), "not a certificate")


def test_revoke_of_another_orgs_cert_needs_the_policy(world: World, chain: Chain) -> None:
    victim = world.wallet("org2", "client1")
    receipt = chain.propose("org1", "revoke", [victim.cert])
    pid = receipt.value["id"]
    assert receipt.value["status"] == "open"
    assert chain.config().revocations == ()
    assert chain.call(victim, "consortium", "proposals").status == "ok"  # still a member
    assert chain.approve("org3", pid).value["status"] == "open"
    assert chain.approve("org4", pid).value["status"] == "applied"
    refused(chain, chain.sign(victim, "consortium", "proposals"), "certificate_revoked")


def test_the_certs_own_org_approving_a_revocation_applies_it(world: World, chain: Chain) -> None:
    victim = world.wallet("org2", "client1")
    pid = chain.propose("org1", "revoke", [victim.cert]).value["id"]
    assert chain.approve("org2", pid).value["status"] == "applied"


def test_revoking_a_validators_node_cert_schedules_its_removal(world: World, chain: Chain) -> None:
    node = world.wallet("org3", "org3-node0")
    assert chain.propose("org3", "revoke", [node.cert]).value["status"] == "applied"
    h = chain.height
    config = chain.config()
    assert ("org3", node.key.public_key()) in config.revoked_keys()
    assert "org3-node0" in names(config.validators_at(h + 1))  # in the set, but its key revoked
    assert "org3-node0" not in names(config.validators_at(h + 2))
    # a revoked key can never come back as a validator
    args = ["again", "org3", node.key.public_key(), 1, ""]
    reverted(chain.propose("org1", "add_validator", args), "that public key is revoked")


# --- the proposal lifecycle -----------------------------------------------------------------


def test_proposals_expire(chain: Chain) -> None:
    chain.enact("set_params", [[["proposal_ttl_blocks", 2]]], MAJORITY)
    receipt = chain.propose("org1", "set_params", [[["max_block_txs", 7]]])
    created, pid = chain.height, receipt.value["id"]
    assert receipt.value["expires"] == created + 2
    chain.empty()
    assert chain.approve("org2", pid).value["status"] == "open"  # at created + 2: still open
    assert chain.height == created + 2
    reverted(chain.approve("org3", pid), f"expired at height {created + 2}")
    assert chain.height == created + 3
    assert chain.query("consortium", "proposal", pid)["status"] == "expired"
    assert chain.config().params.max_block_txs != 7


def test_approving_twice_and_approving_a_decided_proposal_are_refused(chain: Chain) -> None:
    pid = chain.propose("org1", "set_params", [[["max_block_txs", 11]]]).value["id"]
    reverted(chain.approve("org1", pid), f"org1 already approved proposal {pid}")
    chain.approve("org2", pid)
    reverted(chain.approve("org2", pid), f"org2 already approved proposal {pid}")
    assert chain.approve("org3", pid).value["status"] == "applied"
    reverted(chain.approve("org4", pid), f"proposal {pid} is applied")
    reverted(chain.approve("org4", 999), "no proposal 999")
    reverted(chain.approve("org4", 0), "positive integer")


def test_a_proposal_that_can_no_longer_apply_fails(world: World, chain: Chain) -> None:
    first = chain.propose("org1", "remove_validator", ["org4-node0"]).value["id"]
    second = chain.propose("org2", "remove_validator", ["org4-node0"]).value["id"]
    for org in ("org2", "org3"):
        chain.approve(org, first)
    chain.approve("org1", second)
    receipt = chain.approve("org3", second)
    assert receipt.status == "ok"
    assert receipt.value["status"] == "failed"
    assert "no validator named 'org4-node0'" in receipt.value["note"]
    assert chain.query("consortium", "proposals") == ()


# --- lifecycle -------------------------------------------------------------------------------


def deploy_block(world: World, chain: Chain, version: str, code: str, pid: int) -> list[Receipt]:
    """One block: propose + two approvals (a majority of 4), then calls to the contract."""
    w = world.wallet
    client = w("org2", "client1")
    txs = [
        chain.tx(w("org1"), "lifecycle", "propose", "counter", version, code),
        chain.tx(w("org2"), "lifecycle", "approve", pid),
        chain.tx(w("org3"), "lifecycle", "approve", pid),
    ]
    calls = [chain.sign(client, "counter", "bump", 1), chain.sign(client, "counter", "get")]
    txs += [chain.admit(envelope, any_contract=True) for envelope in calls]
    return list(chain.run(*txs))


def test_deploy_is_callable_later_in_the_same_block_and_after(world: World, chain: Chain) -> None:
    client = world.wallet("org1", "client1")
    early = chain.admit(chain.sign(client, "counter", "bump", 5), any_contract=True)
    refused(chain, chain.sign(client, "counter", "bump", 5), "unknown_contract")
    receipts = chain.run(
        early,
        chain.tx(world.wallet("org1"), "lifecycle", "propose", "counter", "1.0", COUNTER_V1),
        chain.tx(world.wallet("org2"), "lifecycle", "approve", 1),
        chain.tx(world.wallet("org3"), "lifecycle", "approve", 1),
        chain.admit(chain.sign(client, "counter", "bump", 2), any_contract=True),
    )
    assert receipts[0].status == "unknown_contract"  # before the deploy in the block
    assert [r.value["status"] for r in receipts[1:4]] == ["open", "open", "applied"]
    assert [e.name for e in receipts[3].events] == ["approved", "applied", "deployed"]
    assert (receipts[4].status, receipts[4].value) == ("ok", 2)
    assert chain.call(client, "counter", "bump", 3).value == 5  # a later block
    assert chain.query("counter", "get") == 5
    info = chain.query("lifecycle", "contract", "counter")
    assert (info["version"], info["height"]) == ("1.0", chain.height - 1)
    assert info["code_hash"] == world.suite.hash(COUNTER_V1.encode()).hex()
    assert [c["name"] for c in chain.query("lifecycle", "contracts")] == ["counter"]
    assert chain.query("lifecycle", "code", "counter") == COUNTER_V1


def test_a_deploy_without_the_policy_is_not_active(world: World, chain: Chain) -> None:
    receipt = chain.call(world.wallet("org1"), "lifecycle", "propose", "counter", "1", COUNTER_V1)
    assert receipt.value["status"] == "open" and receipt.value["kind"] == "deploy"
    chain.approve("org2", receipt.value["id"], "lifecycle")
    client = world.wallet("org1", "client1")
    refused(chain, chain.sign(client, "counter", "get"), "unknown_contract")


def test_upgrade_keeps_state_and_the_active_version_cannot_be_reproposed(
    world: World, chain: Chain
) -> None:
    receipts = deploy_block(world, chain, "v1", COUNTER_V1, 1)
    assert [r.status for r in receipts] == ["ok"] * 5
    assert (receipts[3].value, receipts[4].value) == (1, 1)
    client = world.wallet("org3", "client1")
    assert chain.call(client, "counter", "bump", 2).value == 3

    reverted(
        chain.call(world.wallet("org2"), "lifecycle", "propose", "counter", "v1", COUNTER_V2),
        "counter v1 is already active",
    )
    receipts = deploy_block(world, chain, "v2", COUNTER_V2, 2)
    assert receipts[0].value["kind"] == "upgrade"
    assert [e.name for e in receipts[2].events] == ["approved", "applied", "upgraded"]
    assert receipts[3].value == 13  # v2's bump on v1's state: 3 + 10 * 1
    assert chain.call(client, "counter", "version").value == "v2"
    assert chain.query("counter", "get") == 13
    assert chain.query("lifecycle", "contract", "counter")["version"] == "v2"
    assert chain.query("lifecycle", "code", "counter") == COUNTER_V2
    reverted(
        chain.call(world.wallet("org4"), "lifecycle", "propose", "counter", "v2", COUNTER_V2),
        "counter v2 is already active",
    )
    # going back to v1's code is a new proposal like any other
    receipt = chain.call(world.wallet("org4"), "lifecycle", "propose", "counter", "v1", COUNTER_V1)
    assert receipt.value["status"] == "open"


def test_a_version_activates_once(world: World, chain: Chain) -> None:
    admin = world.wallet
    first = chain.call(admin("org1"), "lifecycle", "propose", "counter", "v1", COUNTER_V1)
    second = chain.call(admin("org2"), "lifecycle", "propose", "counter", "v1", COUNTER_V2)
    for org in ("org2", "org3"):
        chain.approve(org, first.value["id"], "lifecycle")
    for org in ("org1", "org3"):
        last = chain.approve(org, second.value["id"], "lifecycle")
    assert last.value["status"] != "applied"
    assert chain.query("lifecycle", "code", "counter") == COUNTER_V1


HOSTILE = {
    "import os": "import os\n\ndef f(ctx):\n    return os.getcwd()\n",
    "dunder walk": "def f(ctx):\n    return ().__class__.__bases__\n",
    "__import__": "def f(ctx):\n    return __import__('os')\n",
    "syntax error": "def f(ctx):\n    return (\n",
}


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_hostile_code_is_refused_at_propose_time(world: World, chain: Chain, label: str) -> None:
    receipt = chain.call(world.wallet("org1"), "lifecycle", "propose", "evil", "1", HOSTILE[label])
    reverted(receipt, "code rejected")
    assert chain.query("lifecycle", "proposals") == ()
    assert chain.ledger.data == {}  # not even the code was stored


@pytest.mark.parametrize("name", ["consortium", "lifecycle", "misbehaviour", "collections"])
def test_system_names_are_reserved(world: World, chain: Chain, name: str) -> None:
    receipt = chain.call(world.wallet("org1"), "lifecycle", "propose", name, "1", COUNTER_V1)
    reverted(receipt, "is the name of a system contract")


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [
        ("Counter", "1", "a contract name is"),
        ("1counter", "1", "a contract name is"),
        ("c" * 49, "1", "a contract name is"),
        ("counter", "", "a version is"),
        ("counter", "v 1", "a version is"),
        ("counter", "-1", "a version is"),
    ],
)
def test_bad_names_and_versions_are_refused(
    world: World, chain: Chain, name: str, version: str, message: str
) -> None:
    receipt = chain.call(world.wallet("org1"), "lifecycle", "propose", name, version, COUNTER_V1)
    reverted(receipt, message)


def test_a_client_cannot_deploy_or_approve(world: World, chain: Chain) -> None:
    client = world.wallet("org1", "client1")
    reverted(
        chain.call(client, "lifecycle", "propose", "counter", "1", COUNTER_V1),
        "only an organisation admin",
    )
    pid = chain.call(world.wallet("org2"), "lifecycle", "propose", "counter", "1", COUNTER_V1)
    reverted(
        chain.call(client, "lifecycle", "approve", pid.value["id"]), "only an organisation admin"
    )


# --- determinism ---------------------------------------------------------------------------------


def scenario(world: World, chain: Chain) -> None:
    """A mix of every kind of change, several in one block."""
    deploy_block(world, chain, "v1", COUNTER_V1, 1)
    key = world.suite.generate_key().public_key()
    chain.enact("add_validator", ["nv", "org2", key, 2, "h:1"], MAJORITY)
    chain.propose("org3", "revoke", [world.wallet("org3", "client1").cert])
    chain.enact("set_policy", ["lifecycle", "ALL"], MAJORITY)
    chain.enact("set_params", [[["max_block_txs", 500]]], MAJORITY)
    deploy_block(world, chain, "v2", COUNTER_V2, 2)  # only 3 of 4 now: stays open
    chain.call(world.wallet("org4"), "lifecycle", "approve", 2)
    chain.call(world.wallet("org1", "client1"), "counter", "bump", 4)
    chain.enact("remove_org", ["org4"], MAJORITY)
    chain.empty(2)


def test_the_same_blocks_give_the_same_receipts_and_writes(world: World) -> None:
    chain = Chain(world)
    scenario(world, chain)
    assert chain.query("counter", "get") == 2 + 40
    assert chain.config().org_names() == ("org1", "org2", "org3")
    for _ in range(2):
        ledger = type(chain.ledger)()
        registry = make_registry(world.suite, world.genesis)  # nothing compiled yet
        for (block, txs), expected in zip(chain.blocks, chain.results, strict=True):
            result = execute_block(ledger, block, list(txs), registry.resolve)
            assert [r.encode() for r in result.receipts] == [r.encode() for r in expected.receipts]
            assert result.writes == expected.writes
            ledger.apply(block.height, result.writes)
        assert ledger.data == chain.ledger.data


# --- misbehaviour across validator-set changes ---------------------------------------------------


def removed_equivocator(world: World, chain: Chain) -> bytes:
    """Evidence that org4-node0 double-voted at height 2, after which it was voted out."""
    chain.empty(2)
    evidence = world.evidence("org4-node0", height=2)
    chain.enact("remove_validator", ["org4-node0"], MAJORITY)
    chain.empty(3)
    return evidence


def test_evidence_against_a_removed_validator_is_recorded(world: World, chain: Chain) -> None:
    evidence = removed_equivocator(world, chain)
    receipt = chain.call(world.wallet("org1", "client1"), "misbehaviour", "report", evidence)
    assert receipt.status == "ok", receipt.message
    assert (receipt.value["validator"], receipt.value["org"]) == ("org4-node0", "org4")


def test_evidence_survives_a_later_validator_change(world: World, chain: Chain) -> None:
    evidence = removed_equivocator(world, chain)
    chain.enact("set_power", ["org1-node0", 2], MAJORITY)  # prunes the genesis entry
    receipt = chain.call(world.wallet("org1", "client1"), "misbehaviour", "report", evidence)
    assert receipt.status == "ok", receipt.message
    assert receipt.value["validator"] == "org4-node0"
