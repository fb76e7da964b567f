"""The replica says when the consortium changed: an output item with the new view, once per
replica, at the height whose block wrote the config — the shell never compares configs."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.unit.gov_fixtures import World, make_world
from tests.unit.test_replica_governance import Cluster, config_after

from yulian.node.outputs import ConsortiumChanged, Outputs
from yulian.types.block import Block


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("cchange") / "net")


def test_a_config_change_is_an_output_item_with_the_new_view(world: World, tmp_path: Path) -> None:
    cluster = Cluster(world, tmp_path)
    reported: list[tuple[str, ConsortiumChanged]] = []
    perform = cluster.net.apply

    def recording(sender: str, out: Outputs) -> None:
        reported.extend((sender, change) for change in out.consortium_changes)
        perform(sender, out)

    cluster.net.apply = recording  # type: ignore[method-assign]
    for name in cluster.replicas:
        cluster.start(name)
    cluster.reach(3)
    assert reported == []  # blocks that do not write the config report nothing

    height = cluster.vote("set_policy", ["params", "ALL"], ("org2", "org3"))
    cluster.reach(height + 2)
    assert sorted(sender for sender, _ in reported) == sorted(cluster.replicas)  # once each
    for sender, change in reported:
        replica = cluster.replicas[sender]
        assert change.height == height
        assert change.previous.config == cluster.genesis_config
        assert change.view.config == config_after(replica.ledger, height, cluster.genesis_config)
        assert change.view.config.policy("params") == "ALL"
        assert change.view.height == height + 1
        block = replica.ledger.block(height + 1)
        assert block is not None
        assert Block.decode(block).header.config_hash == change.view.config_hash
        assert replica.view.config == change.view.config
        assert replica.membership is change.view.membership  # the node trusts what it reports
