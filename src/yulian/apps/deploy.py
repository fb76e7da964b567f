"""Introduction: deploying a reference application's contract through the lifecycle.

In a real consortium each organisation's admin approves a deployment from its own office;
on a local network (``yulian network init``) all admins' keys sit in one directory, so this
helper plays every part: the first organisation's admin proposes ``name`` at ``version``, then
the other admins approve, one after another, until the lifecycle policy is met. Nothing is
forced: the contract is active only because the chain counted enough approvals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from yulian.sdk import ApiError, Client, Wallet
from yulian.types.genesis import Genesis


class DeployError(RuntimeError):
    """The lifecycle refused the deployment or the approvals did not meet the policy."""


def deploy_with_local_admins(
    network: Path,
    urls: Sequence[str],
    name: str,
    version: str,
    code: str,
    *,
    log: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Make ``name`` ``version`` active (a no-op if it already is); returns its status."""
    genesis = Genesis.load(network / "genesis.json")
    orgs = [o.name for o in genesis.organisations]
    with Client(urls[0], Wallet.from_network(network, orgs[0], "admin")) as first:
        try:
            active: dict[str, Any] = first.query("lifecycle", "contract", [name])
        except ApiError:
            active = {}
        if active.get("version") == version:
            log(f"{name} {version} is already active")
            return active
        proposal = _value(first.submit("lifecycle", "propose", [name, version, code]))
    log(
        f"{orgs[0]}/admin proposed {name} {version} through the lifecycle "
        f"(proposal {proposal['id']}, {proposal['status']})"
    )
    for i, org in enumerate(orgs[1:], start=1):
        if proposal["status"] != "open":
            break
        with Client(urls[i % len(urls)], Wallet.from_network(network, org, "admin")) as admin:
            proposal = _value(admin.submit("lifecycle", "approve", [proposal["id"]]))
        log(f"   {org}/admin approved: {proposal['status']}")
    if proposal["status"] != "applied":
        raise DeployError(f"deploying {name} {version} did not apply: {proposal}")
    with Client(urls[0]) as reader:
        status: dict[str, Any] = reader.query("lifecycle", "contract", [name])
    return status


def _value(result: dict[str, Any]) -> dict[str, Any]:
    receipt = result["receipt"]
    if receipt["status"] != "ok":
        raise DeployError(f"{receipt['status']}: {receipt['message']}")
    value: dict[str, Any] = receipt["value"]
    return value
