"""The consortium config as data: the validator schedule, its encoding, and ``policy_met``."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from tests.unit.gov_fixtures import Chain, World, make_world

from yulian.crypto.standard import STANDARD, Ed25519PrivateKey
from yulian.crypto.x509 import create_ca
from yulian.types.commit import MAX_VALIDATORS
from yulian.types.consortium import (
    MAX_REVOCATIONS,
    VALIDATOR_SET_DELAY,
    ConsortiumConfig,
    Revocation,
    policy_met,
)
from yulian.types.encoding import DecodeError, EncodeError, encode
from yulian.types.genesis import ChainParams, Genesis, GenesisError, Organisation, Validator

ORG_NAMES = ("org1", "org2", "org3")
_CA_KEY = Ed25519PrivateKey(b"\x07" * 32)


def _ca(org: str) -> bytes:
    return create_ca(
        STANDARD,
        org,
        _CA_KEY,
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
        not_after=datetime(2036, 1, 1, tzinfo=UTC),
    )


ORGS = tuple(Organisation(name, _ca(name)) for name in ORG_NAMES)


def v(name: str, org: str = "org1", power: int = 1) -> Validator:
    return Validator(name, org, name.encode().ljust(32, b"\x00"), power, f"{name}:1")


GENESIS_SET = (v("a", "org1"), v("b", "org2"), v("c", "org3"), v("d", "org1"))


def genesis_config() -> ConsortiumConfig:
    genesis = Genesis(
        chain_id="t",
        suite="standard",
        time_ms=1,
        organisations=ORGS,
        validators=GENESIS_SET,
        policies={"lifecycle": "MAJORITY"},
    )
    return ConsortiumConfig.from_genesis(genesis)


def names(validators: tuple[Validator, ...]) -> list[str]:
    return [x.name for x in validators]


# --- the validator schedule --------------------------------------------------------------------


def test_genesis_set_is_in_force_at_every_height() -> None:
    config = genesis_config()
    assert config.schedule == ((1, GENESIS_SET),)
    for height in (0, 1, 2, 1000):
        assert config.validators_at(height) == GENESIS_SET
    assert config.latest_validators() == GENESIS_SET


def test_a_change_voted_at_h_is_in_force_from_h_plus_2() -> None:
    voted_at = 7
    new_set = (*GENESIS_SET, v("e", "org2"))
    config = genesis_config().with_validators(new_set, from_height=voted_at + VALIDATOR_SET_DELAY)
    assert VALIDATOR_SET_DELAY == 2
    assert names(config.validators_at(voted_at)) == ["a", "b", "c", "d"]
    assert names(config.validators_at(voted_at + 1)) == ["a", "b", "c", "d"]
    assert names(config.validators_at(voted_at + 2)) == ["a", "b", "c", "d", "e"]
    assert names(config.validators_at(voted_at + 50)) == ["a", "b", "c", "d", "e"]
    assert config.latest_validators() == new_set


def test_pruning_keeps_the_set_in_force_and_drops_older_ones() -> None:
    s2 = (v("a"), v("b", "org2"))
    s3 = (v("a"), v("c", "org3"))
    config = genesis_config().with_validators(s2, from_height=5)  # voted at 3
    assert [h for h, _ in config.schedule] == [1, 5]
    config = config.with_validators(s3, from_height=9)  # voted at 7: s2 is in force at 7
    assert [h for h, _ in config.schedule] == [5, 9]
    assert config.validators_at(8) == s2
    assert config.validators_at(9) == s3
    # heights before the oldest kept entry are answered by it: old sets come from old configs
    assert config.validators_at(2) == s2


def test_pruning_keeps_a_pending_entry() -> None:
    s2 = (v("a"), v("b", "org2"))
    s3 = (v("a"), v("c", "org3"))
    config = genesis_config().with_validators(s2, from_height=5)  # voted at 3
    config = config.with_validators(s3, from_height=6)  # voted at 4: s2 not yet in force
    assert config.schedule == ((1, GENESIS_SET), (5, s2), (6, s3))
    assert config.validators_at(4) == GENESIS_SET
    assert config.validators_at(5) == s2
    assert config.validators_at(6) == s3


def test_two_changes_in_one_block_compose() -> None:
    at = 10 + VALIDATOR_SET_DELAY
    config = genesis_config()
    first = config.with_validators([*config.latest_validators(), v("e", "org2")], from_height=at)
    changed = [
        dataclasses.replace(x, power=7) if x.name == "b" else x for x in first.latest_validators()
    ]
    second = first.with_validators(changed, from_height=at)
    assert [h for h, _ in second.schedule] == [1, at]  # one entry for the block, not two
    final = second.validators_at(at)
    assert names(final) == ["a", "b", "c", "d", "e"]
    assert {x.name: x.power for x in final} == {"a": 1, "b": 7, "c": 1, "d": 1, "e": 1}
    assert second.validators_at(at - 1) == GENESIS_SET


@pytest.mark.parametrize(
    ("validators", "message"),
    [
        ((), "cannot be empty"),
        ((v("a"), v("a", "org2")), "names must be unique"),
        ((v("a"), dataclasses.replace(v("b"), public_key=v("a").public_key)), "keys must be"),
        ((v("a", "org9"),), "unknown organisation org9"),
        ((dataclasses.replace(v("a"), power=0),), "positive power"),
    ],
)
def test_invalid_validator_sets_are_refused(
    validators: tuple[Validator, ...], message: str
) -> None:
    with pytest.raises(GenesisError, match=message):
        genesis_config().with_validators(validators, from_height=3)


def test_with_policy_sorts_and_checks() -> None:
    config = genesis_config().with_policy("validators", "ALL").with_policy("params", "2-of-3")
    assert config.policies == (
        ("lifecycle", "MAJORITY"),
        ("params", "2-of-3"),
        ("validators", "ALL"),
    )
    assert config.policy("validators") == "ALL"
    assert config.policy("organisations") == "MAJORITY"  # the default
    for scope, policy in (("nonsense", "ALL"), ("params", "SOME"), ("params", "4-of-3")):
        with pytest.raises(GenesisError):
            config.with_policy(scope, policy)
    with pytest.raises(GenesisError):
        config.with_policy("params", "0-of-3")


# --- encoding ------------------------------------------------------------------------------------


def rich_config() -> ConsortiumConfig:
    config = genesis_config().with_validators((v("a"), v("x", "org3", 5)), from_height=4)
    config = config.with_policy("revocation", "ALL")
    return dataclasses.replace(
        config,
        params=dataclasses.replace(ChainParams(), max_block_txs=77, proposal_ttl_blocks=9),
        revocations=(Revocation(b"\x01" * 32, "org2", b"\x02" * 32, 3),),
    )


def test_encode_decode_round_trip() -> None:
    config = rich_config()
    data = config.encode()
    again = ConsortiumConfig.decode(data)
    assert again == config
    assert again.encode() == data
    assert again.revoked_keys() == frozenset({("org2", b"\x02" * 32)})
    assert again.revoked_ids() == frozenset({b"\x01" * 32})
    assert again.params.max_block_txs == 77


def _config_value(**override: object) -> tuple[object, ...]:
    value = dict(
        zip(
            ("version", "orgs", "schedule", "policies", "params", "revocations"),
            rich_config().to_value(),
            strict=True,
        )
    )
    value.update(override)
    return tuple(value.values())


GARBAGE = {
    "empty": b"",
    "one byte": b"\x00",
    "truncated": rich_config().encode()[:-3],
    "trailing byte": rich_config().encode() + b"\x00",
    "not an array": encode("config"),
    "five fields": encode(rich_config().to_value()[:5]),
    "version 2": encode(_config_value(version=2)),
    "params too short": encode(_config_value(params=(1, 2, 3))),
    "params not ints": encode(_config_value(params=tuple("x" * 10))),
    "height not an int": encode(_config_value(schedule=(("x", ()),))),
    "organisation of one field": encode(_config_value(orgs=(("org1",),))),
    "revocation of three fields": encode(_config_value(revocations=((b"i", "org1", b"k"),))),
    "validator of four fields": encode(_config_value(schedule=((1, (("a", "org1", b"k", 1),)),))),
    "policies as a map": encode(_config_value(policies={"a": "ALL"})),
}


@pytest.mark.parametrize("label", sorted(GARBAGE))
def test_decode_of_garbage_is_a_decode_error(label: str) -> None:
    with pytest.raises(DecodeError):
        ConsortiumConfig.decode(GARBAGE[label])


# Found while writing these tests: ``ConsortiumConfig.decode`` coerces with ``str()``, ``bytes()``
# and ``int()`` instead of the ``expect_*`` readers, so ill-typed fields are accepted (and decode
# to a config whose encoding differs from the input), a huge int where bytes belong escapes as
# OverflowError, and an empty schedule decodes to a config whose ``validators_at`` raises.
ILL_TYPED = {
    "int where the CA bytes belong": encode(_config_value(orgs=(("org1", 5),))),
    "2**64-1 where the CA bytes belong": encode(_config_value(orgs=(("org1", 2**64 - 1),))),
    "bytes where the organisation name belongs": encode(_config_value(orgs=((b"org1", b"ca"),))),
    "empty schedule": encode(_config_value(schedule=())),
}


@pytest.mark.parametrize("label", sorted(ILL_TYPED))
def test_decode_refuses_ill_typed_fields(label: str) -> None:
    with pytest.raises(DecodeError):
        ConsortiumConfig.decode(ILL_TYPED[label])


# --- policy_met ----------------------------------------------------------------------------------

# The least number of member approvals that meets the policy among n organisations
# (None: never), written out for n = 1..7 rather than derived from the code's formula.
LEAST = {
    "ANY": {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1},
    "MAJORITY": {1: 1, 2: 2, 3: 2, 4: 3, 5: 3, 6: 4, 7: 4},
    "ALL": {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7},
    "1-of-3": {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1},
    "2-of-3": {1: None, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2},
    "3-of-5": {1: None, 2: None, 3: 3, 4: 3, 5: 3, 6: 3, 7: 3},
    "5-of-7": {1: None, 2: None, 3: None, 4: None, 5: 5, 6: 5, 7: 5},
    "7-of-7": {1: None, 2: None, 3: None, 4: None, 5: None, 6: None, 7: 7},
}
OUTSIDERS = ("removed-org", "stranger")


@pytest.mark.parametrize("policy", sorted(LEAST))
@pytest.mark.parametrize("n", range(1, 8))
def test_policy_met_table(policy: str, n: int) -> None:
    members = [f"o{i}" for i in range(1, n + 1)]
    least = LEAST[policy][n]
    for k in range(n + 1):
        approvals = members[:k]
        expected = least is not None and k >= least
        assert policy_met(policy, approvals, members) is expected, (policy, n, k)
        # approvals of organisations that are not members never count ...
        assert policy_met(policy, [*approvals, *OUTSIDERS], members) is expected, (policy, n, k)
        # ... and an organisation approving twice counts once
        assert policy_met(policy, approvals + approvals[:1], members) is expected, (policy, n, k)
    assert policy_met(policy, list(OUTSIDERS), members) is False
    assert policy_met(policy, [], members) is False


def test_policy_met_edge_cases() -> None:
    assert policy_met("ALL", [], []) is False
    assert policy_met("MAJORITY", ["a"], []) is False
    assert policy_met("SOME", ["a", "b"], ["a", "b"]) is False
    assert policy_met("majority", ["a", "b"], ["a", "b"]) is False


# --- limits: a config its own decoder refuses would stop the chain ---------------------------
MAJORITY = ["org1", "org2", "org3"]


@pytest.fixture(scope="module")
def gov_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("limits") / "net")


def test_max_block_bytes_is_governed_like_the_other_parameters(gov_world: World) -> None:
    chain = Chain(gov_world)
    least = chain.config().params.min_block_bytes()
    chain.enact("set_params", [[["max_block_bytes", least]]], MAJORITY)
    assert chain.config().params.max_block_bytes == least
    receipt = chain.propose("org1", "set_params", [[["max_block_bytes", least - 1]]])
    assert receipt.status == "reverted" and "must hold a tx" in receipt.message
    receipt = chain.propose("org1", "set_params", [[["max_tx_bytes", 2 * 65536]]])
    assert receipt.status == "reverted" and "max_tx_bytes may be at most 65536" in receipt.message


def test_names_are_limited_in_utf8_bytes_as_the_decoder_reads_them(gov_world: World) -> None:
    """64 characters of Chinese are 192 bytes: such a name would have been written, then
    refused by every node reading the config back — now the proposal reverts."""
    chain = Chain(gov_world)
    key = STANDARD.generate_key().public_key()
    for name in ("重庆" * 11, "x" * 65):
        receipt = chain.propose("org1", "add_validator", [name, "org1", key, 1, ""])
        assert receipt.status == "reverted", name
        assert "1..64 bytes in UTF-8" in receipt.message
    assert chain.propose("org1", "add_validator", ["重庆" * 10, "org1", key, 1, ""]).status == "ok"


def test_a_config_its_decoder_refuses_is_never_encoded() -> None:
    config = genesis_config()
    too_long = dataclasses.replace(
        config, organisations=(*config.organisations, Organisation("o" * 65, ORGS[0].ca_cert))
    )
    with pytest.raises(EncodeError, match=r"organisation\.name"):
        too_long.encode()
    many = tuple(
        Revocation(bytes([i % 256, i // 256]) * 16, "org1", b"k" * 32, 1)
        for i in range(MAX_REVOCATIONS + 1)
    )
    with pytest.raises(EncodeError, match="4097 exceeds"):
        dataclasses.replace(config, revocations=many).encode()
    assert ConsortiumConfig.decode(dataclasses.replace(config, revocations=many[:-1]).encode())


def test_validator_sets_are_limited_to_what_a_certificate_holds() -> None:
    config = genesis_config()
    crowd = [v(f"n{i}", "org1") for i in range(MAX_VALIDATORS + 1)]
    with pytest.raises(GenesisError, match=f"at most {MAX_VALIDATORS} validators"):
        config.with_validators(crowd, from_height=5)
    config.with_validators(crowd[:-1], from_height=5).encode()
    with pytest.raises(GenesisError, match=f"at most {MAX_VALIDATORS} validators"):
        Genesis(
            chain_id="t", suite="standard", time_ms=1, organisations=ORGS, validators=tuple(crowd)
        )


@pytest.mark.parametrize(
    ("orgs", "validators", "fragment"),
    [
        ((Organisation("重" * 22, ORGS[0].ca_cert),), (v("a", "重" * 22),), "organisation name"),
        (ORGS, (v("重" * 22, "org1"),), "validator name"),
        (ORGS, (Validator("a", "org1", b"k" * 32, 1, "h" * 257),), "validator address"),
        (ORGS, (Validator("a", "org1", b"", 1, ""),), "public key"),
    ],
)
def test_a_genesis_its_config_decoder_would_refuse_is_refused(
    orgs: tuple[Organisation, ...], validators: tuple[Validator, ...], fragment: str
) -> None:
    with pytest.raises(GenesisError, match=fragment):
        Genesis(
            chain_id="t", suite="standard", time_ms=1, organisations=orgs, validators=validators
        )
