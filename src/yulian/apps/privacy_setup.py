"""Introduction: setting up who may see what on a local network — collections, read policies
and member identities — the way ``apps/deploy.py`` deploys a contract.

On a network made by ``yulian network init`` every organisation's admin key is in one
directory, so these helpers play every part: the first admin proposes a collection (or a read
policy) to the ``collections`` (or ``access``) system contract and the others approve it until
the ``privacy`` policy is met; the chain applies it only because enough organisations agreed.
``ensure_member`` issues an identity from an organisation's CA with the attributes a story
needs (``role=doctor``, ``subject=P-001``). Each is a no-op when the chain or the directory
already has what is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from yulian.apps.deploy import DeployError
from yulian.apps.stories.stage import StoryError
from yulian.crypto.x509 import parse_certificate
from yulian.pki.layout import find_credential
from yulian.pki.members import issue_cert
from yulian.sdk import ApiError, Client, Wallet
from yulian.sdk.governance import consortium_config
from yulian.sdk.private import PrivateData
from yulian.types.access import ReadPolicy
from yulian.types.privacy import CollectionDef

Log = Callable[[str], None]


class PrivacyStoryError(StoryError):
    """A step of a privacy story did not end as the rules say it must."""


def org_urls(urls: Sequence[str]) -> dict[str, str]:
    """The API URL of one node of each organisation, as the nodes say."""
    out: dict[str, str] = {}
    for url in urls:
        with Client(url) as c:
            out.setdefault(str(c.health()["org"]), url)
    return out


def expect_refused(what: str, action: Callable[[], Any], *fragments: str) -> str:
    """Run ``action``, which the rules say must be refused for one of the reasons
    ``fragments``; the refusal's detail."""
    try:
        action()
    except ApiError as e:
        detail = str(e.problem.get("detail", ""))
        if not any(f in detail for f in fragments):
            raise PrivacyStoryError(
                f"{what}: refused, but not because {' or '.join(fragments)}: {detail}"
            ) from None
        return detail
    raise PrivacyStoryError(f"{what}: expected a refusal ({fragments[0]}), but it succeeded")


def held_by_node(network: Path, org: str, url: str) -> dict[str, int]:
    """What ``org``'s node holds (values per collection), asked by a member of ``org``."""
    with Client(url, ensure_member(network, org, "auditor-self")) as c:
        held: dict[str, int] = PrivateData(c).status()["held"]
        return held


def govern_with_local_admins(
    network: Path,
    urls: Sequence[str],
    contract: str,
    kind: str,
    args: Sequence[Any],
    *,
    log: Log = lambda _m: None,
) -> dict[str, Any]:
    """Propose ``kind(args)`` to ``contract`` and have the members' admins approve it until it
    is decided; the proposal as decided. Raises ``DeployError`` unless it applied."""
    with Client(urls[0], _any_admin(network)) as reader:
        members = consortium_config(reader)["organisations"]
    admins = [org for org in members if _has(network, org, "admin")]
    if not admins:
        raise DeployError(f"no admin of a member organisation in {network}")
    with Client(urls[0], Wallet.from_network(network, admins[0], "admin")) as first:
        proposal = _value(first.submit(contract, "propose", [kind, list(args)]))
    log(f"   {admins[0]}/admin proposed {contract}.{kind} (proposal {proposal['id']})")
    for i, org in enumerate(admins[1:], start=1):
        if proposal["status"] != "open":
            break
        with Client(urls[i % len(urls)], Wallet.from_network(network, org, "admin")) as admin:
            proposal = _value(admin.submit(contract, "approve", [proposal["id"]]))
        log(f"   {org}/admin approved: {proposal['status']}")
    if proposal["status"] != "applied":
        raise DeployError(
            f"{contract}.{kind} did not apply: proposal {proposal['id']} is "
            f"{proposal['status']} ({proposal.get('note') or proposal.get('approvals')})"
        )
    return proposal


def ensure_collection(
    network: Path, urls: Sequence[str], definition: CollectionDef, *, log: Log = lambda _m: None
) -> dict[str, Any]:
    """Make the chain's collection ``definition.name`` equal to ``definition`` (define it, or
    amend it by vote); its definition as the chain has it."""
    with Client(urls[0], _any_admin(network)) as reader:
        try:
            current: dict[str, Any] | None = reader.query(
                "collections", "collection", [definition.name]
            )
        except ApiError:
            current = None
    if current is not None and CollectionDef.from_view(_definition(current)) == definition:
        log(f"   collection {definition.name} is already defined as asked")
        return current
    kind = "define" if current is None else "amend"
    govern_with_local_admins(network, urls, "collections", kind, [definition.to_value()], log=log)
    with Client(urls[0], _any_admin(network)) as reader:
        defined: dict[str, Any] = reader.query("collections", "collection", [definition.name])
    return defined


def ensure_read_policy(
    network: Path, urls: Sequence[str], contract: str, policy: str, *, log: Log = lambda _m: None
) -> None:
    """Make ``policy`` the read policy of ``contract`` (``*``: the default) by vote."""
    wanted = ReadPolicy.parse(policy).text()
    with Client(urls[0], _any_admin(network)) as reader:
        policies = reader.query("access", "policies", [])
    current = policies["default"] if contract == "*" else policies["contracts"].get(contract)
    if current == wanted:
        return
    if contract == "*":
        govern_with_local_admins(network, urls, "access", "default_policy", [wanted], log=log)
    else:
        govern_with_local_admins(
            network, urls, "access", "read_policy", [contract, wanted], log=log
        )


def ensure_member(
    network: Path, org: str, name: str, attributes: Mapping[str, str] | None = None
) -> Wallet:
    """Member ``name`` of ``org`` with ``attributes``, issued by its CA if missing."""
    if not _has(network, org, name):
        issue_cert(network, org, "client", name, attributes=dict(attributes or {}))
    wallet = Wallet.from_network(network, org, name)
    have = dict(parse_certificate(wallet.cert).attributes)
    if have != dict(attributes or {}):
        raise DeployError(
            f"{org}/{name} exists with attributes {have}, not {dict(attributes or {})}"
        )
    return wallet


def _any_admin(network: Path) -> Wallet:
    """A local organisation admin: reads sign as a member, so they work under a ``members``
    read policy too."""
    for org_dir in sorted((network / "orgs").iterdir()):
        if _has(network, org_dir.name, "admin"):
            return Wallet.from_network(network, org_dir.name, "admin")
    raise DeployError(f"no organisation admin in {network}")


def _definition(view: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k != "keys"}


def _has(network: Path, org: str, name: str) -> bool:
    try:
        find_credential(network, org, name)
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
