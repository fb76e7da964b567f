"""Introduction: the ``datashare`` application (数据共享) — client side (decision 0083).

Provider organisations publish datasets into a catalogue; each dataset's values live in a
private data collection (only member organisations' nodes hold them, the chain a salted
digest); consumers file access requests with a purpose; the provider's admin approves with a
consent grant on the dataset; every read is an ``access.read`` on the trail, and every update
a ``changed`` event and an entry in the dataset's change feed. ``DataShareClient`` is one
organisation's software over a node; ``ShareConfig`` a seed case (``configs/*.toml``: 一网通办,
公积金 / 信盟链); ``demo.py`` plays a configuration on a local network (``yulian demo
datashare``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from yulian.sdk import Client
from yulian.sdk.private import PrivateData, PrivateValue
from yulian.types.privacy import CollectionDef, PrivacyValueError

CONTRACT_NAME = "datashare"
DATASHARE_VERSION = "1.0"
PUBLISHER = {"role": "publisher"}
CASEWORKER = {"role": "caseworker"}


class DataShareError(RuntimeError):
    """A datashare call the chain refused (the contract's message)."""


def contract_source() -> str:
    return resources.files(__package__).joinpath("contract.py").read_text(encoding="utf-8")


@dataclass(frozen=True)
class Dataset:
    id: str
    provider: str
    title: str
    description: str
    schema: dict[str, str]
    values: tuple[str, ...]  # the versions the story publishes, in order


@dataclass(frozen=True)
class AccessRequest:
    dataset: str
    org: str
    purpose: str


@dataclass(frozen=True)
class ShareConfig:
    """A seed case: who the organisations are, the collection, the datasets and requests."""

    name: str
    title: str
    organisations: dict[str, str]
    regulator: str
    collection: CollectionDef
    datasets: tuple[Dataset, ...]
    requests: tuple[AccessRequest, ...]

    @classmethod
    def parse(cls, name: str, doc: Mapping[str, Any]) -> ShareConfig:
        try:
            collection = CollectionDef.from_view(dict(doc["collection"]))
            datasets = tuple(
                Dataset(
                    d["id"],
                    d["provider"],
                    d["title"],
                    d["description"],
                    dict(d["schema"]),
                    tuple(d["values"]),
                )
                for d in doc["datasets"]
            )
            requests = tuple(
                AccessRequest(r["dataset"], r["org"], r["purpose"]) for r in doc["requests"]
            )
            config = cls(
                name,
                doc["title"],
                dict(doc["organisations"]),
                doc["regulator"],
                collection,
                datasets,
                requests,
            )
        except (KeyError, TypeError, ValueError, PrivacyValueError) as e:
            raise DataShareError(f"datashare configuration {name}: {e!r}") from None
        known = {d.id for d in datasets}
        for r in requests:
            if r.dataset not in known or r.org not in collection.members:
                raise DataShareError(
                    f"datashare configuration {name}: request {r} names an unknown dataset or "
                    "an organisation that is not a member of the collection"
                )
        return config


def configs() -> dict[str, ShareConfig]:
    """The seed cases shipped with the application, by name."""
    folder = resources.files(__package__).joinpath("configs")
    out: dict[str, ShareConfig] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            name = entry.name.removesuffix(".toml")
            out[name] = ShareConfig.parse(name, tomllib.loads(entry.read_text(encoding="utf-8")))
    return out


class DataShareClient:
    """A provider's, a consumer's or a regulator's client of the datashare application."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.private = PrivateData(client)

    def _call(self, method: str, args: Sequence[Any]) -> Any:
        receipt = self.client.submit(CONTRACT_NAME, method, list(args))["receipt"]
        if receipt["status"] != "ok":
            raise DataShareError(f"datashare.{method}: {receipt['status']}: {receipt['message']}")
        return receipt["value"]

    def publish(self, dataset: Dataset, collection: str) -> dict[str, Any]:
        args = [dataset.id, dataset.title, dataset.description, dataset.schema, collection]
        result: dict[str, Any] = self._call("publish", args)
        return result

    def update(self, dataset_id: str, collection: str, value: bytes) -> dict[str, Any]:
        """Publish a new version of the dataset's value; the change (no value)."""
        item = self.private.prepare(collection, dataset_id, value)
        result = self.private.submit(
            CONTRACT_NAME, "update", [dataset_id, item.digest, len(value)], [item]
        )
        receipt = result["receipt"]
        if receipt["status"] != "ok":
            raise DataShareError(f"datashare.update: {receipt['status']}: {receipt['message']}")
        change: dict[str, Any] = receipt["value"]
        return change

    def request(self, dataset_id: str, purpose: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("request", [dataset_id, purpose])
        return result

    def grant_and_approve(
        self, dataset_id: str, collection: str, filed: Mapping[str, Any], audience: str
    ) -> dict[str, Any]:
        """As the provider's admin: a consent grant on the dataset for ``audience`` (an
        ``org:role[:attr=value]`` clause of the requester) and the purpose, then the approval
        that cites it."""
        grant = self.private.grant(collection, audience, [filed["purpose"]], key=dataset_id)
        result: dict[str, Any] = self._call("approve", [dataset_id, filed["number"], grant["id"]])
        return result

    def read(self, dataset_id: str, collection: str, purpose: str) -> PrivateValue:
        return self.private.read(collection, dataset_id, purpose)

    def catalogue(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.client.query(CONTRACT_NAME, "catalogue", [])
        return result

    def changes(self, dataset_id: str, since_version: int) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.client.query(
            CONTRACT_NAME, "changes", [dataset_id, since_version]
        )
        return result
