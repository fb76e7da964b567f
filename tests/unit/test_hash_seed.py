"""A node refuses to start under a fixed ``PYTHONHASHSEED`` (decision 0073), with a message
that says why and what to do; a random seed, however it is asked for, is fine. The ``yulian
node start`` process refusing is in ``tests/e2e/test_node_hash_seed_e2e.py``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from yulian.node.bootstrap import init_network
from yulian.node.config import load_config
from yulian.node.hashseed import fixed_hash_seed, refusal
from yulian.node.node import Node, NodeStartError

RANDOM = SimpleNamespace(hash_randomization=1, ignore_environment=0)
OFF = SimpleNamespace(hash_randomization=0, ignore_environment=0)
IGNORED = SimpleNamespace(hash_randomization=1, ignore_environment=1)


@pytest.mark.parametrize(
    ("environ", "flags", "fixed"),
    [
        ({}, RANDOM, None),
        ({"PYTHONHASHSEED": "random"}, RANDOM, None),
        ({"PYTHONHASHSEED": ""}, RANDOM, None),
        ({"PYTHONHASHSEED": "12345"}, RANDOM, "12345"),
        ({"PYTHONHASHSEED": "0"}, OFF, "0"),
        ({}, OFF, "0"),  # randomisation off however it came about
        ({"PYTHONHASHSEED": "7"}, IGNORED, None),  # python -E: the variable is not read
    ],
)
def test_which_seeds_are_fixed(environ: dict[str, str], flags: object, fixed: str | None) -> None:
    assert fixed_hash_seed(environ, flags) == fixed
    assert (refusal(environ, flags) is None) == (fixed is None)


def test_the_refusal_says_why_and_what_to_do() -> None:
    message = refusal({"PYTHONHASHSEED": "0"}, OFF)
    assert message is not None
    assert message.startswith("PYTHONHASHSEED=0 fixes the key str and bytes are hashed with")
    assert "unset PYTHONHASHSEED (or set it to 'random')" in message


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return init_network(tmp_path / "net", orgs=1).nodes[0].config


def test_a_node_refuses_before_it_touches_anything(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = load_config(config_path)
    monkeypatch.setenv("PYTHONHASHSEED", "42")
    with pytest.raises(NodeStartError, match="refusing to start: PYTHONHASHSEED=42 fixes"):
        Node(cfg)
    assert not cfg.data_dir.exists()  # no ledger, WAL or safety file was created
