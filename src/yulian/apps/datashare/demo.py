"""Introduction: the government data-sharing story (数据共享) on a running local network.

``run_datashare_story(network, urls, say, config)`` plays one seed case (``configs/*.toml``;
一网通办 by default) step by step through the SDK, each step at the acting organisation's
node, and checks every outcome: the collection is defined by vote and the ``datashare``
contract deployed; providers publish their datasets and a first version of each; a consumer's
caseworker is refused a read before consent; it files a request, the provider's admin grants
and approves it, and the read succeeds, on the trail; the provider publishes a new version,
the consumer sees it in the change feed (数据变化实时探知) and reads it; the regulator sees the
trail (访问全程留痕) and who holds what, and cannot read a value.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from yulian.apps.datashare import (
    CASEWORKER,
    CONTRACT_NAME,
    DATASHARE_VERSION,
    PUBLISHER,
    AccessRequest,
    Dataset,
    DataShareClient,
    ShareConfig,
    configs,
    contract_source,
)
from yulian.apps.deploy import deploy_with_local_admins
from yulian.apps.privacy_setup import PrivacyStoryError as StoryError
from yulian.apps.privacy_setup import (
    ensure_collection,
    ensure_member,
    ensure_read_policy,
    expect_refused,
    held_by_node,
    org_urls,
)
from yulian.sdk import ApiError, Client
from yulian.sdk.private import PrivateValue

DEFAULT_CONFIG = "yiwangtongban"


@dataclass(frozen=True)
class ShareOutcome:
    """What the story published (values with this run's tag) and the reads it recorded."""

    collection: str
    values: dict[str, tuple[bytes, ...]]  # dataset id -> the versions this run published
    access_ids: tuple[int, ...]


def run_datashare_story(
    network: Path,
    urls: Sequence[str],
    say: Callable[[str], None],
    config: ShareConfig | None = None,
) -> ShareOutcome:
    case = config or configs()[DEFAULT_CONFIG]
    at = org_urls(urls)
    missing = [o for o in case.organisations if o not in at]
    if missing:
        raise StoryError(
            f"the story needs organisations {sorted(case.organisations)}; missing {missing}"
        )
    name = case.collection.name
    say(f"{case.title}: " + "; ".join(f"{o} = {who}" for o, who in case.organisations.items()))
    say(f"1. the {name} private data collection, by vote of the organisations")
    ensure_collection(network, list(urls), case.collection, log=say)
    say("2. the datashare contract through the lifecycle; its state readable by members only")
    deploy_with_local_admins(
        network, list(urls), CONTRACT_NAME, DATASHARE_VERSION, contract_source(), log=say
    )
    ensure_read_policy(network, list(urls), CONTRACT_NAME, "members", log=say)

    tag = secrets.token_hex(3)
    clients: list[DataShareClient] = []

    def client(org: str, who: str, attributes: dict[str, str] | None = None) -> DataShareClient:
        c = DataShareClient(Client(at[org], ensure_member(network, org, who, attributes)))
        clients.append(c)
        return c

    def admin(org: str) -> DataShareClient:
        from yulian.sdk import Wallet

        c = DataShareClient(Client(at[org], Wallet.from_network(network, org, "admin")))
        clients.append(c)
        return c

    published: dict[str, list[bytes]] = {}
    try:
        say("3. providers publish their datasets (values stay in the collection)")
        for d in case.datasets:
            dataset = replace(d, id=f"{d.id}-{tag}")
            provider = client(d.provider, "publisher", PUBLISHER)
            provider.publish(dataset, name)
            value = f"{d.values[0]} #{tag}".encode()
            change = provider.update(dataset.id, name, value)
            published[dataset.id] = [value]
            say(
                f"   {d.provider} published {dataset.id} ({d.title}): version "
                f"{change['version']}, digest {str(change['digest'])[:16]}… on chain"
            )
        access_ids: list[int] = []
        for n, r in enumerate(case.requests, start=4):
            source = next(d for d in case.datasets if d.id == r.dataset)
            share = _Share(
                name=name,
                dataset_id=f"{r.dataset}-{tag}",
                request=r,
                source=source,
                consumer=client(r.org, "caseworker", CASEWORKER),
                provider=client(source.provider, "publisher", PUBLISHER),
                provider_admin=admin(source.provider),
                say=say,
            )
            access_ids.extend(share.play(n, published, tag))
        regulator = client(case.regulator, "inspector")
        trail = _whole_trail(regulator, name)
        ours = [r for r in trail if r["id"] in access_ids]
        if len(ours) != len(access_ids):
            raise StoryError(f"the trail should hold the {len(access_ids)} reads, has {ours}")
        say(f"{len(case.requests) + 4}. the regulator ({case.regulator}) sees the trail:")
        for a in ours:
            say(
                f"   #{a['id']} {a['reader_org']} {a['reader_attributes']} read {a['key']} "
                f"v{a['version']} for {a['purpose']!r} at height {a['height']} "
                f"(grant {a['grant_id']})"
            )
        first = next(iter(published))
        why = expect_refused(
            "the regulator reads a value",
            lambda: regulator.read(first, name, "audit"),
            "is not a member",
        )
        say(f"   the regulator reads a value itself: refused — {why}")
        for org, url in sorted(at.items()):
            held = held_by_node(network, org, url)
            say(f"   {org}'s node holds private values of: {held or 'nothing'}")
    except ApiError as e:
        raise StoryError(f"the chain refused a step: {e}") from None
    finally:
        for c in clients:
            c.client.close()
    return ShareOutcome(name, {k: tuple(v) for k, v in published.items()}, tuple(access_ids))


@dataclass
class _Share:
    """One access request played through: refused, filed, granted, read, updated, read."""

    name: str
    dataset_id: str
    request: AccessRequest
    source: Dataset
    consumer: DataShareClient
    provider: DataShareClient
    provider_admin: DataShareClient
    say: Callable[[str], None]

    def play(self, n: int, published: dict[str, list[bytes]], tag: str) -> list[int]:
        r, dataset_id, say = self.request, self.dataset_id, self.say
        why = expect_refused("a read before consent", self._read, "no consent in force")
        say(f"{n}. {r.org}'s caseworker reads {dataset_id}: refused — {why}")
        filed = self.consumer.request(dataset_id, r.purpose)
        say(f"   {r.org} files request {filed['number']} for {r.purpose!r}")
        approved = self.provider_admin.grant_and_approve(
            dataset_id, self.name, filed, f"{r.org}:client:role=caseworker"
        )
        say(
            f"   {self.source.provider}'s admin grants consent {approved['grant_id']} and "
            f"approves request {approved['number']}"
        )
        read = self._read()
        if read.value != published[dataset_id][0]:
            raise StoryError(f"{r.org} read another value of {dataset_id} than was published")
        say(
            f"   {r.org} reads version {read.version}: {read.value.decode()[:60]}… — access "
            f"record {read.access['id']} at height {read.access['height']}"
        )
        ids = [int(read.access["id"])]
        if len(self.source.values) > 1:
            value = f"{self.source.values[1]} #{tag}".encode()
            self.provider.update(dataset_id, self.name, value)
            published[dataset_id].append(value)
            feed = self.consumer.changes(dataset_id, read.version)
            say(
                f"   {self.source.provider} publishes version {feed[-1]['version']}; {r.org}'s "
                f"change feed (数据变化实时探知) shows it at height {feed[-1]['height']}"
            )
            again = self._read()
            if again.value != value:
                raise StoryError(f"{r.org} did not read the new version of {dataset_id}")
            ids.append(int(again.access["id"]))
            say(f"   {r.org} reads version {again.version}: access record {again.access['id']}")
        return ids

    def _read(self) -> PrivateValue:
        return self.consumer.read(self.dataset_id, self.name, self.request.purpose)


def _whole_trail(regulator: DataShareClient, collection: str) -> list[dict[str, object]]:
    """Every access record of ``collection``, page by page (the API answers 100 at a time)."""
    items: list[dict[str, object]] = []
    while True:
        page = regulator.private.trail(collection, len(items), 100)
        items.extend(page["items"])
        if not page["items"] or len(items) >= page["total"]:
            return items
