"""Introduction: the stage a demo story plays on — a running local network and its members.

A story (``yulian demo NAME``) is a short scenario of one application, told one step at a time:
who acts (a member, from which organisation, in which role), what it asked the chain, and what
the chain answered (committed at a height in a tx, or refused with the contract's own message).
``Stage`` gives a story what it needs for that and nothing else:

- the network directory, the nodes that are validators now, the genesis, and the consortium's
  current member organisations that have their keys in the directory;
- ``member(org, role)``: a ``Door`` — a client of one of the organisation's members the chain
  still accepts (a revoked or expired one is skipped; when none is left the organisation's CA
  issues one), at the organisation's own node when it has one (one chain, many doors);
  ``admin(org)`` the same for the organisation's admin; ``public()`` a client with no identity;
- ``deploy``: the application's contract through the lifecycle, all local admins voting
  (``apps.deploy``), once: a later run finds it active;
- ``ensure_roles``: the roles a story casts, granted by a governing admin when the deployed
  code did not found them (a network whose members changed since the deployment);
- ``step``: run one action and print its line; a refusal the story expects is printed as such,
  any other refusal stops the story with ``StoryError``;
- ``tag``: a suffix that makes the ids of this run new (the same directory is played again and
  again: ``make run`` after the README's walkthrough, after another ``make run``).

Nothing here is consensus code: the clock and randomness a story uses only name its ids.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from yulian.apps.deploy import deploy_with_local_admins
from yulian.apps.shared import AppError
from yulian.sdk import ApiError, Client, Wallet
from yulian.sdk.governance import GovernanceError
from yulian.types.genesis import Genesis

Say = Callable[[str], None]


class StoryError(RuntimeError):
    """The story cannot go on; the message says why and, where it can, what to do."""


class Door:
    """A member's client at one node that remembers the chain's last answer to it, so the story
    can say at which height and in which tx an action was committed. It is a ``Connection``
    (``yulian.apps.shared``): application clients take it as they take ``Client``."""

    def __init__(self, client: Client, who: str) -> None:
        self.client = client
        self.who = who
        self.last: dict[str, Any] = {}

    @property
    def org(self) -> str:
        return self.client.wallet.org if self.client.wallet is not None else ""

    def submit(
        self, contract: str, method: str, args: Sequence[Any] = (), **options: Any
    ) -> dict[str, Any]:
        self.last = self.client.submit(contract, method, args, **options)
        return self.last

    def query(self, contract: str, method: str, args: Sequence[Any] = ()) -> Any:
        return self.client.query(contract, method, args)

    def export_receipt(self, tx_id: str) -> dict[str, Any]:
        return self.client.export_receipt(tx_id)


@dataclass
class Stage:
    network: Path
    urls: list[str]  # the validators' API URLs, in directory order
    genesis: Genesis
    members: list[str]  # current member organisations whose keys are in the directory
    revoked: set[str]
    say: Say
    tag: str = field(default_factory=lambda: run_tag())
    node_of: dict[str, str] = field(default_factory=dict)  # org -> its own node's URL
    _wallets: dict[tuple[str, str], Wallet] = field(default_factory=dict)
    _clients: list[Client] = field(default_factory=list)
    _n: int = 0

    # --- who acts ----------------------------------------------------------------------------
    def cast(self, *roles: str) -> dict[str, str]:
        """The organisations that play ``roles``, in order: the members in turn (a network of
        fewer members than roles gives some of them two parts)."""
        if len(self.members) < 2:
            raise StoryError(
                f"a story needs two member organisations in {self.network}; found {self.members}"
            )
        return {role: self.members[i % len(self.members)] for i, role in enumerate(roles)}

    def member(self, org: str, role: str = "") -> Door:
        wallet = self._wallet(org, "client")
        return self._door(wallet, f"{wallet.org}/{wallet.name}" + (f" ({role})" if role else ""))

    def admin(self, org: str) -> Door:
        wallet = self._wallet(org, "admin")
        return self._door(wallet, f"{org}/admin")

    def public(self) -> Door:
        return self._door(None, "anyone")

    def url_of(self, org: str) -> str:
        return self.node_of.get(org) or self.urls[0]

    def _door(self, wallet: Wallet | None, who: str) -> Door:
        url = self.url_of(wallet.org) if wallet is not None else self.urls[0]
        client = Client(url, wallet)
        self._clients.append(client)
        return Door(client, who)

    def _wallet(self, org: str, kind: str) -> Wallet:
        if (org, kind) not in self._wallets:
            if kind == "admin":
                self._wallets[(org, kind)] = Wallet.from_network(self.network, org, "admin")
            else:
                self._wallets[(org, kind)] = usable_client(
                    self.network, org, self.revoked, self.say
                )
        return self._wallets[(org, kind)]

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()

    # --- what the story does -------------------------------------------------------------------
    def title(self, text: str) -> None:
        """A story's heading; its steps are numbered from 1."""
        self._n = 0
        self.say("")
        self.say(f"== {text} ==")

    def note(self, text: str) -> None:
        self.say(f"   {text}")

    def deploy(self, name: str, version: str, source: str) -> None:
        deploy_with_local_admins(
            self.network, self.urls, name, version, source, log=lambda m: self.say(f"   {m}")
        )

    def ensure_roles(self, app: Any, governor: str, roles: dict[str, str]) -> None:
        """Grant each ``role -> org`` that the organisation does not hold yet (``app`` is the
        application's client class; ``governor`` an organisation whose admin governs it)."""
        reader = app(self.public())
        missing = [
            (role, org)
            for role, org in roles.items()
            if not reader.conn.query(reader.contract, "has_role", [org, role])
        ]
        if missing:
            admin = app(self.admin(governor))
            for role, org in missing:
                self.step(
                    admin,
                    f"grants {org} the role {role}",
                    partial(admin.grant_role, org, role),
                )

    def step(
        self,
        actor: Any,
        action: str,
        act: Callable[[], Any],
        *,
        refused: bool = False,
        show: Callable[[Any], str] | None = None,
    ) -> Any:
        """Run ``act`` as ``door`` and print ``n. who action: answer``. With ``refused`` the
        chain is expected to refuse (the story shows an invariant at work); a refusal where
        none was expected, or success where one was, stops the story. ``actor`` is a ``Door``
        or an application client over one."""
        door: Door = actor if isinstance(actor, Door) else actor.conn
        self._n += 1
        door.last = {}
        try:
            value = act()
        except AppError as e:
            self.say(f"{self._n:2}. {door.who} {action}: refused — {e.message}")
            if not refused:
                raise StoryError(f"{door.who} {action}: the chain refused: {e.message}") from None
            return None
        except GovernanceError as e:
            self.say(f"{self._n:2}. {door.who} {action}: refused — {e.message or e.status}")
            if not refused:
                raise StoryError(f"{door.who} {action}: the chain refused: {e}") from None
            return None
        except ApiError as e:
            raise StoryError(f"{door.who} {action}: the node refused: {e}") from None
        answer = show(value) if show is not None else "ok"
        where = ""
        if door.last.get("status") == "committed":
            where = f" at height {door.last['height']}, tx {door.last['id']}"
        self.say(f"{self._n:2}. {door.who} {action}: {answer}{where}")
        if refused:
            raise StoryError(f"{door.who} {action}: the chain accepted what it must refuse")
        return value


def run_tag() -> str:
    """A short suffix, new each run (seconds since 2025 in base 36), for the ids of a story."""
    seconds = int(time.time()) - 1_735_689_600
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while seconds:
        seconds, r = divmod(seconds, 36)
        out = digits[r] + out
    return out or "0"


def usable_client(network: Path, org: str, revoked_ids: set[str], say: Say) -> Wallet:
    """The first client of ``org`` the chain still accepts (not revoked, not expired); if
    there is none, one more issued by the organisation's CA, when its key is here."""
    from yulian.pki.files import PkiError
    from yulian.pki.layout import load_org
    from yulian.pki.members import issue_cert

    skipped = []
    clients = load_org(network, org).clients
    for cred in clients:
        wallet = Wallet.from_network(network, org, cred.name)
        problem = _unusable(wallet, revoked_ids)
        if problem is None:
            return wallet
        skipped.append(f"{cred.name} ({problem})")
    taken = {c.name for c in clients}
    name = next(f"client{k}" for k in range(1, len(taken) + 2) if f"client{k}" not in taken)
    try:
        issue_cert(network, org, "client", name)
    except PkiError as e:
        raise StoryError(
            f"{org} has no client the chain accepts ({', '.join(skipped) or 'none'}) and its CA "
            f"cannot issue one here: {e}. Issue one where the CA key is: `yulian ca issue "
            f"--org {org} --role client --name {name} --network {network}`, then run again"
        ) from None
    say(f"   {org}: {', '.join(skipped)}; its CA issued {org}/{name} for the demo")
    return Wallet.from_network(network, org, name)


def _unusable(wallet: Wallet, revoked_ids: set[str]) -> str | None:
    from yulian.crypto.x509 import parse_certificate

    if wallet.id in revoked_ids:
        return "revoked"
    not_after = parse_certificate(wallet.cert).not_after_ms
    if not_after <= datetime.now(UTC).timestamp() * 1000:
        return "expired"
    return None
