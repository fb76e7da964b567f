"""Resource attacks inside contracts end in out-of-steps receipts while the node keeps serving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import RunningNode, make_network

pytestmark = pytest.mark.e2e

HOSTILE = """
def spin(ctx):
    while True:
        pass

def recurse(ctx, n):
    return recurse(ctx, n + 1)

def power(ctx):
    return 10 ** 10 ** 10

def repeat(ctx):
    return "a" * 10 ** 10

def grow(ctx):
    x = [1]
    while True:
        x = x + x

def fine(ctx, k):
    ctx.state.put(k, 1)
    return k
"""


@pytest.fixture
def hostile_node(tmp_path: Path) -> Iterator[RunningNode]:
    node = make_network(tmp_path, contracts=[("hostile", HOSTILE)])
    node.start()
    try:
        yield node
    finally:
        for c in node.clients:
            c.close()
        node.stop()


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("spin", []),
        ("recurse", [0]),
        ("power", []),
        ("repeat", []),
        ("grow", []),
    ],
)
def test_resource_attack_is_metered(
    hostile_node: RunningNode, method: str, args: list[int]
) -> None:
    c = hostile_node.client()
    result = c.submit("hostile", method, args, timeout_s=30)
    assert result["status"] == "committed"
    receipt = result["receipt"]
    assert receipt["status"] == "out_of_steps", receipt
    assert receipt["steps"] <= hostile_node.genesis.params.step_limit
    # still serving, and a normal tx right after commits
    assert c.health()["status"] == "ok"
    ok = c.submit("hostile", "fine", ["k-" + method])
    assert ok["receipt"]["status"] == "ok"
    assert c.state("hostile", "k-" + method) == 1
