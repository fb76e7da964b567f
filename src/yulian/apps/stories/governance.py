"""Introduction: the governance story — the consortium votes on a chain parameter.

An organisation's admin proposes a change to the consortium's chain parameters; the other
members' admins approve one by one until the policy is met, and the chain applies it. The
change re-affirms the current ``max_block_txs`` (the value does not move, so the story can be
played on any network, any number of times); what the explorer shows is the real thing: a
proposal, who approved it from which organisation, and when it was applied.
"""

from __future__ import annotations

from functools import partial
from typing import Any, cast

from yulian.apps.stories.stage import Door, Stage
from yulian.sdk.governance import approve, consortium_config, propose_set_params

TITLE = "治理 governance: the organisations vote on a chain parameter"
PARAMETER = "max_block_txs"


def play(stage: Stage, brief: bool) -> None:
    stage.title(TITLE)
    reader = stage.public()
    config = consortium_config(reader.client)
    value = int(config["params"][PARAMETER])
    stage.note(
        f"policy for changing the chain parameters: {config['policies'].get('params', '?')}; "
        f"{PARAMETER} is {value}"
    )
    proposer, *others = stage.members
    door = stage.admin(proposer)
    proposal = stage.step(
        door,
        f"proposes {PARAMETER}={value} (re-affirmed)",
        lambda: propose_set_params(_signer(door), {PARAMETER: value}),
        show=lambda p: f"consortium proposal {p['id']}, {p['status']}",
    )
    for org in others:
        if proposal["status"] != "open":
            break
        voter = stage.admin(org)
        pid = proposal["id"]
        proposal = stage.step(
            voter,
            f"approves consortium proposal {pid}",
            partial(approve, _signer(voter), pid),
            show=lambda p: str(p["status"]),
        )
    stage.note(f"proposal {proposal['id']} is {proposal['status']}")


def _signer(door: Door) -> Any:
    """The door in the SDK's governance calls (which need only ``submit``), so the story can
    say at which height each vote was committed."""
    return cast(Any, door)
