"""Introduction: deploying a reference application's contract through the lifecycle.

In a real consortium each organisation's admin approves a deployment from its own office;
on a local network (``yulian network init``) all admins' keys sit in one directory, so this
helper plays every part: the first member organisation's admin proposes ``name`` at
``version``, then the other members' admins approve, one after another, until the lifecycle
policy is met. The members are the consortium's *current* ones, as the chain says (an
organisation added or removed by vote counts or not accordingly), and only those whose admin
is in the directory can take part. Nothing is forced: the contract is active only because
the chain counted enough approvals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from yulian.pki.layout import find_credential
from yulian.sdk import ApiError, Client, Wallet
from yulian.sdk.governance import GovernanceError, consortium_config


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
    """Make ``name`` ``version`` active (a no-op if it already is); returns its status.

    Raises ``DeployError``; the SDK's ``ApiError`` or ``httpx.HTTPError`` when a node refuses
    or cannot be reached."""
    with Client(urls[0]) as reader:
        try:
            active: dict[str, Any] = reader.query("lifecycle", "contract", [name])
        except ApiError:
            active = {}
        if active.get("version") == version:
            log(f"{name} {version} is already active")
            return active
        try:
            members = consortium_config(reader)["organisations"]
        except GovernanceError as e:
            raise DeployError(f"cannot read the consortium's members: {e}") from None
    admins = [org for org in members if _has_admin(network, org)]
    if not admins:
        raise DeployError(f"no admin of a member organisation ({', '.join(members)}) in {network}")
    with Client(urls[0], Wallet.from_network(network, admins[0], "admin")) as first:
        proposal = _value(first.submit("lifecycle", "propose", [name, version, code]))
    log(
        f"{admins[0]}/admin proposed {name} {version} through the lifecycle "
        f"(lifecycle proposal {proposal['id']}, {proposal['status']})"
    )
    for i, org in enumerate(admins[1:], start=1):
        if proposal["status"] != "open":
            break
        with Client(urls[i % len(urls)], Wallet.from_network(network, org, "admin")) as admin:
            proposal = _value(admin.submit("lifecycle", "approve", [proposal["id"]]))
        log(f"   {org}/admin approved: {proposal['status']}")
    if proposal["status"] != "applied":
        raise DeployError(
            f"deploying {name} {version} did not apply (lifecycle proposal {proposal['id']} is "
            f"{proposal['status']} with approvals {proposal.get('approvals')}); the admins of "
            f"{', '.join(m for m in members if m not in admins) or 'no other member'} "
            "are not in this directory to approve it"
        )
    with Client(urls[0]) as reader:
        status: dict[str, Any] = reader.query("lifecycle", "contract", [name])
    return status


def _has_admin(network: Path, org: str) -> bool:
    try:
        find_credential(network, org, "admin")
    except KeyError:
        return False
    return True


def _value(result: dict[str, Any]) -> dict[str, Any]:
    receipt = result.get("receipt")
    if result.get("status") != "committed" or not isinstance(receipt, dict):
        raise DeployError(f"tx {result.get('id')} was not committed in time")
    if receipt["status"] != "ok":
        raise DeployError(f"{receipt['status']}: {receipt['message']}")
    value: dict[str, Any] = receipt["value"]
    return value
