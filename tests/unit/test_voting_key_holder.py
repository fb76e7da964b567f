"""The voting key has one holder: ``SafetyRules`` (decision 0085).

The node hands the key it loads to the safety rules and keeps the public key; the replica and
its evidence reporter hold no key object, only ``public_key`` and ``sign_tx``, and ``sign_tx``
can only sign tx-domain bytes of this chain — never a vote or a proposal (that part is in
``test_safety.py``, which must cover ``safety.py`` completely on its own).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from tests.unit.test_replica import make_cluster

from yulian.crypto.suite import PrivateKey

SRC = Path(__file__).resolve().parents[2] / "src" / "yulian"


def test_the_replica_holds_no_key(tmp_path: Path) -> None:
    replicas, _, _ = make_cluster(tmp_path, 1)
    (replica,) = replicas.values()
    for owner in (replica, replica.evidence, replica.builder, replica.checker, replica.intake):
        held = [name for name, value in vars(owner).items() if isinstance(value, PrivateKey)]
        assert not held, f"{type(owner).__name__} holds a key in {held}"
    assert replica.safety is not None and replica.is_validator


def _loads_a_key(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("load_private_key", "generate_key")
    ]


@pytest.mark.parametrize("package", ["node", "consensus", "net", "mempool", "execution", "api"])
def test_no_node_side_module_loads_a_key_but_the_node_for_its_safety_rules(package: str) -> None:
    """The node loads the validator key (and passes it to ``SafetyRules``); ``net/tls.py``
    loads a gm node's key only to delegate the TLS handshake to a transport key."""
    allowed = {"node/node.py": 1, "net/tls.py": 1}
    for path in sorted((SRC / package).rglob("*.py")):
        rel = str(path.relative_to(SRC))
        lines = _loads_a_key(path)
        assert len(lines) <= allowed.get(rel, 0), f"{rel}:{lines} loads a private key"


def test_the_node_keeps_only_the_public_key() -> None:
    tree = ast.parse((SRC / "node" / "node.py").read_text(encoding="utf-8"))
    stored = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(
            isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
            for t in node.targets
        )
        and (
            (isinstance(node.value, ast.Name) and node.value.id == "key")
            or (
                isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "load_private_key"
            )
        )
    ]
    assert stored == [], f"node/node.py keeps the loaded key on self at {stored}"
