"""The consortium in force at a height is assembled in one place: ``ConsortiumView``.

The building blocks — a ``ValidatorSet`` or a ``Membership`` built from a config, the
schedule's ``validators_at``, the revoked keys and certificates, the validator-set hash — are
used by ``consensus/consortium_view.py`` only; everyone else (replica, node, block checker,
offline verifier, simulator, system contracts, devkit, micro-benchmarks) takes a view. The view
itself is checked against what each of those computed before, and the replica reports a config
change as an output item.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from yulian.consensus.consortium_view import ConsortiumView, view_of_stored
from yulian.crypto.suite import get_suite
from yulian.types.consortium import ConsortiumConfig, Revocation
from yulian.types.encoding import DecodeError, encode

SRC = Path(__file__).resolve().parents[2] / "src" / "yulian"
VIEW = "consensus/consortium_view.py"
CONFIG = "types/consortium.py"

# building block -> files (under src/yulian) allowed to use it, and why
OWNERS: dict[str, dict[str, str]] = {
    "ValidatorSet(": {VIEW: "the view builds the set of its height"},
    "Membership(": {
        VIEW: "the view builds the members of its config",
        "pki/ceremony.py": "the genesis ceremony (branch ops) checks certificates against the "
        "founders' CAs before any chain, config or height exists; pki sits below consensus",
    },
    ".validators_at(": {
        VIEW: "the view reads the schedule",
        CONFIG: "the schedule's own method",
        "execution/system/consortium.py": "config_view shows the schedule to readers, deciding "
        "nothing (it is given a config and a height, no suite)",
    },
    ".revoked_keys(": {VIEW: "the view's revoked keys", CONFIG: "defined there"},
    ".revoked_ids(": {VIEW: "the view's revoked certificates", CONFIG: "defined there"},
}
SET_HASH = re.compile(r"hash\(\s*encode\(\s*tuple\(\s*\w+\.to_value\(\)")


def _calls(tree: ast.AST, name: str) -> list[int]:
    """Lines that call ``name`` (``X(`` a constructor or function, ``.x(`` a method)."""
    method = name.startswith(".")
    bare = name.strip(".(")
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (method and isinstance(func, ast.Attribute) and func.attr == bare) or (
            not method
            and (
                (isinstance(func, ast.Name) and func.id == bare)
                or (isinstance(func, ast.Attribute) and func.attr == bare)
            )
        ):
            lines.append(node.lineno)
    return lines


def _uses() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {block: [] for block in OWNERS}
    found["validator-set hash"] = []
    for path in sorted(SRC.rglob("*.py")):
        rel = str(path.relative_to(SRC))
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        for block in OWNERS:
            found[block] += [f"{rel}:{line}" for line in _calls(tree, block)]
        if SET_HASH.search(text):
            found["validator-set hash"].append(rel)
    return found


@pytest.mark.parametrize("block", [*OWNERS, "validator-set hash"])
def test_each_building_block_has_one_owner(block: str) -> None:
    allowed = OWNERS.get(block, {VIEW: "the view hashes its set"})
    uses = _uses()[block]
    assert uses, f"no use of {block} found at all: the check is looking for the wrong thing"
    strays = [use for use in uses if use.split(":")[0] not in allowed]
    assert not strays, f"{block} outside its owner ({', '.join(allowed)}): {strays}"


def test_the_owner_check_sees_a_stray_use() -> None:
    tree = ast.parse("from x import ValidatorSet\nv = ValidatorSet(c.validators_at(3))\n")
    assert _calls(tree, "ValidatorSet(") == [2]
    assert _calls(tree, ".validators_at(") == [2]
    assert SET_HASH.search("h = suite.hash(encode(tuple(v.to_value() for v in vs)))")


# --- the view itself ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def genesis_config() -> ConsortiumConfig:
    from yulian.sim.testnet import load_testnet

    return ConsortiumConfig.from_genesis(load_testnet(4).genesis)


def test_the_view_holds_what_every_reader_computed_before(genesis_config: ConsortiumConfig) -> None:
    suite = get_suite("standard")
    orgs = genesis_config.org_names()
    first = genesis_config.latest_validators()
    changed = genesis_config.with_validators(first[:3], from_height=7)
    revoked = first[0]
    config = ConsortiumConfig(
        changed.organisations,
        changed.schedule,
        changed.policies,
        changed.params,
        (Revocation(b"\x01" * 32, revoked.org, revoked.public_key, 4),),
    )
    view = ConsortiumView.of(config, 6, suite)
    assert view.config_hash == suite.hash(config.encode())
    assert view.validator_list == first
    assert view.validators_hash == suite.hash(encode(tuple(v.to_value() for v in first)))
    assert view.validators.signer(revoked.name) is None  # revoked: its votes no longer count
    assert view.validators.signer(first[1].name) == first[1]
    assert view.revoked_keys == frozenset({(revoked.org, revoked.public_key)})
    assert view.revoked_ids == frozenset({b"\x01" * 32})
    assert view.params == config.params and view.organisations == config.organisations
    assert view.membership is view.membership  # built once
    assert sorted(view.membership.organisations) == sorted(orgs)
    later = view.for_height(7)
    assert later.validator_list == first[:3]
    assert later.membership is view.membership and later.config_hash == view.config_hash
    assert later.validators_hash != view.validators_hash
    assert view.latest_validators() == first[:3] == view.validators_from(9)


def test_a_stored_config_gives_the_same_view(genesis_config: ConsortiumConfig) -> None:
    suite = get_suite("standard")
    data = genesis_config.encode()
    stored = view_of_stored(data, genesis_config, 3, suite)
    assert stored.config == genesis_config
    assert stored.config_hash == ConsortiumView.of(genesis_config, 3, suite).config_hash
    assert view_of_stored(None, genesis_config, 3, suite).config is genesis_config
    with pytest.raises(DecodeError):
        view_of_stored(b"\x93\x01\x02\x03", genesis_config, 3, suite)
