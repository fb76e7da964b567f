"""Introduction: governance as a reader sees it — contracts and their versions, proposals with
who approved them when, and what each applied proposal changed.

Everything is derived from committed state and the event index, never from a query of the
system contracts (which answer only for the head and know neither heights nor tx ids):

* a proposal is ``<scope> NUL proposal/<id>`` in the state of its contract (``consortium`` or
  ``lifecycle``); each version in that key's history is one step of it (made, approved,
  decided), so the history says at which height each organisation approved;
* the tx of each step is the one whose event (``proposed``, ``approved``, ``applied``,
  ``failed``) names the proposal in that block's events;
* what a consortium proposal changed is the difference between the config before and after
  the block that applied it; for a lifecycle proposal, the contract's version before and after;
* a contract's versions are the history of ``lifecycle NUL active/<name>``, each joined to the
  proposal whose ``applied`` event shares its tx.

On a node whose ledger has a floor above 1 (pruned, or started from a snapshot) the events
and past states below the floor are gone, and so are all but the newest version of a key
below it: a proposal made, or a contract version activated, below the floor answers what the
current state still says, with ``held_from`` set to the floor — the tx ids, approval heights
and changes that lie below it are null, never guessed — instead of failing.

Reads are bounded: at most ``MAX_VERSIONS`` versions of a key, ``MAX_SCAN`` events examined per
looked-up step, ``limit`` proposals per page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from yulian.crypto.suite import Suite
from yulian.execution.overlay import state_key
from yulian.execution.system.consortium import CONSORTIUM_CONTRACT, config_view
from yulian.execution.system.lifecycle import (
    LIFECYCLE_CONTRACT,
    active_key,
    active_names,
    code_key,
    read_active,
)
from yulian.execution.system.proposals import OPEN, ProposalRecord
from yulian.ledger import EventCursor, Ledger
from yulian.types.consortium import ConsortiumConfig
from yulian.types.encoding import DecodeError, decode
from yulian.types.genesis import Genesis
from yulian.types.jsonvalue import to_json

SCOPES = (CONSORTIUM_CONTRACT, LIFECYCLE_CONTRACT)
MAX_VERSIONS = 1000  # versions of one contract, steps of one proposal
MAX_SCAN = 10_000  # events examined to find the tx of one step
STEP_EVENTS = ("proposed", "approved", "applied", "failed")


class GovernanceReads:
    def __init__(
        self,
        ledger: Ledger,
        suite: Suite,
        genesis: Genesis,
        system_names: Callable[[], list[str]],
        config_after: Callable[[int], ConsortiumConfig],
    ) -> None:
        self._ledger = ledger
        self._suite = suite
        self._genesis_sources = dict(genesis.contracts)
        self._system_names = system_names
        self._config_after = config_after

    # --- contracts ---------------------------------------------------------------------------
    def contracts(self) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name in self._system_names():
            out[name] = _contract_row(name, "system", None, None, None)
        for name, source in self._genesis_sources.items():
            code_hash = self._suite.hash(source.encode("utf-8")).hex()
            out[name] = _contract_row(name, "genesis", None, code_hash, 0)
        for name in active_names(self._ledger):
            active = read_active(self._ledger, name)
            if active is not None:
                version, digest, height = active
                out[name] = _contract_row(name, "deployed", version, digest.hex(), height)
        return [out[name] for name in sorted(out)]

    def contract(self, name: str) -> dict[str, Any] | None:
        row = next((c for c in self.contracts() if c["name"] == name), None)
        if row is None:
            return None
        versions: list[dict[str, Any]] = []
        if row["kind"] == "genesis" or (
            row["kind"] == "deployed" and name in self._genesis_sources
        ):
            versions.append(
                {
                    "version": None,
                    "code_hash": self._suite.hash(self._genesis_sources[name].encode()).hex(),
                    "height": 0,
                    "proposal": None,
                    "held_from": None,  # the genesis is every node's
                }
            )
        history = self._ledger.history(active_key(name), limit=MAX_VERSIONS)
        for at, data in reversed(history):
            if data is None:
                continue
            version, code_hash, _ = decode(data)
            versions.append(
                {
                    "version": str(version),
                    "code_hash": bytes(code_hash).hex(),
                    "height": at,
                    "proposal": (
                        self._applying_proposal(at, str(name), str(version))
                        if not self._below_floor(at)
                        else None
                    ),
                    "held_from": self._floor() if self._below_floor(at) else None,
                }
            )
        return {**row, "versions": versions}

    def contract_code(self, name: str, version: str | None) -> dict[str, Any] | None:
        """The source of ``version`` (None: the active one); None when there is none."""
        detail = self.contract(name)
        if detail is None or detail["kind"] == "system":
            return None
        wanted = detail["version"] if version is None else version
        for entry in reversed(detail["versions"]):
            if entry["version"] != wanted:
                continue
            if entry["height"] == 0:
                source: str | None = self._genesis_sources[name]
            else:
                raw = self._ledger.get(code_key(bytes.fromhex(entry["code_hash"])))
                source = raw.decode("utf-8") if raw is not None else None
            if source is None:
                return None
            return {
                "name": name,
                "version": entry["version"],
                "code_hash": entry["code_hash"],
                "height": entry["height"],
                "source": source,
            }
        return None

    def _applying_proposal(self, height: int, name: str, version: str) -> dict[str, Any] | None:
        """The lifecycle proposal that activated ``name`` ``version`` at ``height``."""
        events = list(self._events_at(height, LIFECYCLE_CONTRACT))
        activations = {
            e.cursor.tx_index
            for e, payload in events
            if e.name in ("deployed", "upgraded")
            and isinstance(payload, dict)
            and payload.get("name") == name
            and payload.get("version") == version
        }
        for e, payload in events:
            if (
                e.name == "applied"
                and e.cursor.tx_index in activations
                and isinstance(payload, dict)
                and isinstance(payload.get("id"), int)
            ):
                return self.proposal(LIFECYCLE_CONTRACT, payload["id"])
        return None

    # --- proposals ---------------------------------------------------------------------------
    def proposals(
        self, scope: str | None, status: str | None, before_id: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Newest first: up to ``limit`` of each scope (ids below ``before_id``), merged by the
        height they were made at; at most ``MAX_VERSIONS`` records examined per scope."""
        out: list[dict[str, Any]] = []
        for one_scope in SCOPES if scope is None else (scope,):
            top = self._next_id(one_scope) - 1
            if before_id is not None:
                top = min(top, before_id - 1)
            found = 0
            for pid in range(top, max(0, top - MAX_VERSIONS), -1):
                record = self._record(one_scope, pid)
                if record is None or (status is not None and self._status(record) != status):
                    continue
                out.append(self._view(one_scope, record))
                found += 1
                if found >= limit:
                    break
        out.sort(key=lambda p: (p["created"], p["scope"], p["id"]), reverse=True)
        return out[:limit]

    def proposal(self, scope: str, proposal_id: int) -> dict[str, Any] | None:
        record = self._record(scope, proposal_id)
        return self._view(scope, record) if record is not None else None

    def _next_id(self, scope: str) -> int:
        data = self._ledger.get(state_key(scope, "next_id"))
        return int(decode(data)) if data is not None else 1

    def _record(self, scope: str, pid: int) -> ProposalRecord | None:
        data = self._ledger.get(_proposal_key(scope, pid))
        if data is None:
            return None
        try:
            return ProposalRecord.from_value(decode(data))
        except (DecodeError, TypeError, ValueError):
            return None

    def _status(self, record: ProposalRecord) -> str:
        return str(record.view(self._ledger.height())["status"])

    def _view(self, scope: str, record: ProposalRecord) -> dict[str, Any]:
        steps = self._steps(scope, record.id)
        approvals = []
        seen: set[str] = set()
        decided_at: int | None = None
        for at, step in steps:
            for org in step.approvals:
                if org not in seen:
                    seen.add(org)
                    event = (
                        "proposed"
                        if at == record.created and org == record.proposer_org
                        else ("approved")
                    )
                    tx_id = self._step_tx(scope, at, event, record.id, org)
                    below = self._below_floor(at)  # the kept version: its height, not the step's
                    approvals.append({"org": org, "height": None if below else at, "tx_id": tx_id})
            if decided_at is None and step.status != OPEN:
                decided_at = at
        view = record.view(self._ledger.height())
        return {
            "scope": scope,
            "id": record.id,
            "kind": record.kind,
            "args": to_json(view["args"]),
            "proposer": {"org": record.proposer_org, "id": record.proposer_id},
            "created": record.created,
            "expires": record.expires,
            "status": view["status"],
            "note": record.note,
            "approvals": approvals,
            "decided_height": decided_at,
            "decided_tx_id": (
                self._step_tx(scope, decided_at, record.status, record.id)
                if decided_at is not None
                else None
            ),
            "changes": self._changes(scope, record, decided_at),
            "held_from": self._floor() if self._below_floor(record.created) else None,
        }

    def _floor(self) -> int:
        return self._ledger.floor()

    def _below_floor(self, height: int) -> bool:
        """``height``'s events and state are gone from this ledger (pruned, or a snapshot)."""
        floor = self._ledger.floor()
        return floor > 1 and height < floor

    def _steps(self, scope: str, pid: int) -> list[tuple[int, ProposalRecord]]:
        """Every stored version of the proposal, oldest first."""
        history = self._ledger.history(_proposal_key(scope, pid), limit=MAX_VERSIONS)
        out = []
        for at, data in reversed(history):
            if data is not None:
                out.append((at, ProposalRecord.from_value(decode(data))))
        return out

    def _step_tx(
        self, scope: str, height: int, event: str, pid: int, org: str | None = None
    ) -> str | None:
        """The tx of block ``height`` whose ``event`` names proposal ``pid`` (and ``org``);
        None below the floor, where the events are not held."""
        if self._below_floor(height):
            return None
        for e, payload in self._events_at(height, scope):
            if (
                e.name == event
                and isinstance(payload, dict)
                and payload.get("id") == pid
                and (org is None or payload.get("org") == org)
            ):
                return str(e.tx_id.hex())
        return None

    def _events_at(self, height: int, contract: str) -> Iterator[tuple[Any, Any]]:
        """The events of ``contract`` in block ``height``, with decoded payloads."""
        page = self._ledger.events(
            EventCursor.before(height), limit=1000, contract=contract, scan_limit=MAX_SCAN
        )
        for e in page.events:
            if e.cursor.height != height:
                break
            try:
                payload = decode(e.payload)
            except DecodeError:
                continue
            yield e, payload

    def _changes(
        self, scope: str, record: ProposalRecord, decided_at: int | None
    ) -> list[dict[str, Any]] | None:
        """What the applied proposal changed: paths with their values before and after."""
        if decided_at is None or record.status != "applied":
            return None
        if scope == LIFECYCLE_CONTRACT and self._below_floor(decided_at - 1):
            return None  # the version before is a past state the floor dropped
        if scope == LIFECYCLE_CONTRACT:
            name, version = str(record.args[0]), str(record.args[1])
            before = (
                self._ledger.get_at(active_key(name), decided_at - 1) if decided_at > 1 else None
            )
            old = str(decode(before)[0]) if before is not None else None
            return [{"path": f"contracts.{name}", "before": old, "after": version}]
        old_view = config_view(self._config_after(decided_at - 1), decided_at)
        new_view = config_view(self._config_after(decided_at), decided_at)
        return list(_diff("", to_json(old_view), to_json(new_view)))


def _contract_row(
    name: str, kind: str, version: str | None, code_hash: str | None, height: int | None
) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "version": version,
        "code_hash": code_hash,
        "height": height,
    }


def _proposal_key(scope: str, pid: int) -> bytes:
    return state_key(scope, f"proposal/{pid:012d}")


def _diff(path: str, before: Any, after: Any) -> Iterator[dict[str, Any]]:
    """Paths where two JSON values differ (lists of different lengths as a whole)."""
    if before == after:
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted({*before, *after}):
            yield from _diff(f"{path}.{key}" if path else str(key), before.get(key), after.get(key))
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            yield from _diff(f"{path}[{i}]", b, a)
    else:
        yield {"path": path, "before": before, "after": after}
