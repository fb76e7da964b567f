"""Introduction: the ``trace`` application (溯源) — client side.

The contract (``contract.py``, shipped as data and deployed through the lifecycle) keeps
product batches, their signed lifecycle events, custody hand-overs, splits and merges. This
module is what an organisation's software calls: ``TraceApp`` over any ``Connection`` (a
node's ``yulian.sdk.Client``, or the test harness), the templates (``templates.py``), and
``public_trace``, which assembles everything a consumer's scan of a batch shows: the batch,
its events, and those of every batch it came from (the page ``trace_page_url`` names, which
the batch's QR code encodes, shows the same).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from importlib import resources
from typing import Any
from urllib.parse import quote

from yulian.apps.shared import Connection, call, govern
from yulian.apps.trace.templates import TEMPLATES, roles_of

CONTRACT_NAME = "trace"
TRACE_VERSION = "1.0"
PAGE = 64  # events per query (the contract's MAX_PAGE)
MAX_TRACE_BATCHES = 64  # batches a public trace walks back through
TRACE_PAGE = "/explorer/trace.html"  # the public, read-only page of a batch (the explorer's)


def trace_page_url(base_url: str, batch_id: str) -> str:
    """The public trace page of a batch at a node: what the batch's QR code encodes."""
    return f"{base_url.rstrip('/')}{TRACE_PAGE}?batch={quote(batch_id, safe='')}"


def contract_source(
    governors: Sequence[str] = ("org1",),
    founding_roles: Mapping[str, Sequence[str]] | None = None,
) -> str:
    """The contract's source, ready to propose, with ``governors`` (organisations whose
    admins grant roles and define templates) and ``founding_roles`` (role -> organisations
    holding it from the start) written in."""
    source = resources.files(__package__).joinpath("contract.py").read_text(encoding="utf-8")
    return govern(source, governors, founding_roles)


def quantity_text(quantity: Decimal | int | str) -> str:
    """A quantity as the contract takes it: a decimal string (floats are refused: they
    cannot say 0.1 exactly)."""
    if isinstance(quantity, float | bool):
        raise TypeError("quantities are Decimal, int or decimal strings, never float")
    value = Decimal(str(quantity))
    if not value.is_finite() or value <= 0:
        raise ValueError(f"a quantity is a positive number, got {quantity!r}")
    return format(value, "f")


class TraceApp:
    """The trace contract's methods, called through ``conn`` as its wallet's organisation."""

    def __init__(self, conn: Connection, contract: str = CONTRACT_NAME) -> None:
        self.conn = conn
        self.contract = contract

    def _call(self, method: str, *args: Any) -> Any:
        return call(self.conn, self.contract, method, *args)

    def _query(self, method: str, *args: Any) -> Any:
        return self.conn.query(self.contract, method, list(args))

    # --- governance (an admin of a governing organisation) ------------------------------
    def grant_role(self, org: str, role: str) -> None:
        self._call("grant_role", org, role)

    def revoke_role(self, org: str, role: str) -> None:
        self._call("revoke_role", org, role)

    def define_template(self, template: Mapping[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "define_template", template["name"], list(template["create"]), dict(template["rules"])
        )
        return result

    def install_templates(self, names: Iterable[str] = tuple(TEMPLATES)) -> list[str]:
        """Define the shipped templates ``names`` on chain; returns the roles they use."""
        roles: set[str] = set()
        for name in names:
            self.define_template(TEMPLATES[name])
            roles.update(roles_of(TEMPLATES[name]))
        return sorted(roles)

    # --- batches ---------------------------------------------------------------------------
    def create(
        self,
        batch_id: str,
        template: str,
        product: str,
        quantity: Decimal | int | str,
        unit: str,
        data: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "create", batch_id, template, product, quantity_text(quantity), unit, dict(data or {})
        )
        return result

    def record(
        self, batch_id: str, kind: str, data: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call("record", batch_id, kind, dict(data or {}))
        return result

    def hand_over(self, batch_id: str, to_org: str) -> None:
        self._call("hand_over", batch_id, to_org)

    def take_over(self, batch_id: str) -> None:
        self._call("take_over", batch_id)

    def cancel_hand_over(self, batch_id: str) -> None:
        self._call("cancel_hand_over", batch_id)

    def split(self, batch_id: str, parts: Mapping[str, Decimal | int | str]) -> list[str]:
        """Split a batch into parts ``{new id: quantity}`` that sum to its quantity."""
        ids: list[str] = self._call(
            "split", batch_id, [[k, quantity_text(q)] for k, q in parts.items()]
        )
        return ids

    def merge(self, new_id: str, batch_ids: Sequence[str]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("merge", new_id, list(batch_ids))
        return result

    # --- reading ---------------------------------------------------------------------------
    def batch(self, batch_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._query("get_batch", batch_id)
        return result

    def events(self, batch_id: str) -> list[dict[str, Any]]:
        """Every event of the batch, oldest first (read a page at a time)."""
        count = self.batch(batch_id)["events"]
        out: list[dict[str, Any]] = []
        while len(out) < count:
            out.extend(self._query("get_events", batch_id, len(out), PAGE))
        return out

    def public_trace(self, batch_id: str) -> dict[str, Any]:
        """What a consumer sees for a batch: the batch and its events, and for every batch it
        came from (through splits and merges, nearest first, at most ``MAX_TRACE_BATCHES``)
        the same. Read-only: anyone may ask."""
        seen: list[str] = []
        queue = [batch_id]
        lineage: list[dict[str, Any]] = []
        while queue and len(seen) < MAX_TRACE_BATCHES:
            current = queue.pop(0)
            if current in seen:
                continue
            seen.append(current)
            record = self.batch(current)
            lineage.append({"batch": record, "events": self.events(current)})
            queue.extend(record["parents"])
        return {
            "batch": lineage[0]["batch"],
            "events": lineage[0]["events"],
            "origins": lineage[1:],
            "complete": not queue,
        }
