"""Introduction: what the test harness hands back — call results, events, and an SDK-shaped client.

``CallResult`` is one receipt as a test reads it (status, message, steps, value, events, and
the block it landed in). ``HarnessClient`` answers ``submit`` and ``query`` with the same shapes
and errors as ``yulian.sdk.Client`` does over HTTP, so an application's client module runs
unchanged against the harness in tests and against a node in production.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from yulian.mempool.admission import AdmissionError
from yulian.sdk.client import ApiError
from yulian.sdk.wallet import Wallet
from yulian.types.jsonvalue import to_json


@dataclass(frozen=True)
class EventRecord:
    """One event of a committed receipt, with where it happened."""

    height: int
    time_ms: int
    tx_id: str
    contract: str
    name: str
    payload: Any


@dataclass(frozen=True)
class CallResult:
    """A transaction's receipt as the harness committed it (``value`` as plain lists/dicts)."""

    tx_id: str
    height: int
    time_ms: int
    index: int
    contract: str
    method: str
    signer: str  # name@org
    status: str
    message: str
    steps: int
    value: Any
    events: tuple[EventRecord, ...]

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def unwrap(self) -> Any:
        """The value of an ``ok`` call; raises ``CallFailed`` with the receipt otherwise."""
        if not self.ok:
            raise CallFailed(self)
        return self.value

    def event_names(self) -> list[str]:
        return [e.name for e in self.events]

    def as_api(self) -> dict[str, Any]:
        """The body ``POST /v1/txs?wait=true`` answers for this tx."""
        return {
            "id": self.tx_id,
            "status": "committed",
            "height": self.height,
            "index": self.index,
            "receipt": {
                "tx_id": self.tx_id,
                "status": self.status,
                "message": self.message,
                "steps": self.steps,
                "value": to_json(self.value),
                "events": [
                    {"contract": e.contract, "name": e.name, "payload": to_json(e.payload)}
                    for e in self.events
                ],
            },
        }


class CallFailed(AssertionError):
    """A call a test expected to succeed did not; the message names the receipt."""

    def __init__(self, result: CallResult) -> None:
        self.result = result
        super().__init__(
            f"{result.contract}.{result.method} by {result.signer} at height {result.height}: "
            f"{result.status}: {result.message}"
        )


class DeployFailed(RuntimeError):
    """The lifecycle refused a deployment or the approvals did not apply it."""


# the harness's call and query, as the client needs them
Submit = Callable[[Wallet, str, str, Sequence[Any]], CallResult]
Query = Callable[[str, str, Sequence[Any]], CallResult]


class HarnessClient:
    """``yulian.sdk.Client``'s ``submit``/``query`` over the harness: same bodies, same
    ``ApiError`` codes (a refused tx carries the admission code, a failed query the status)."""

    def __init__(self, wallet: Wallet | None, submit: Submit, query: Query) -> None:
        self.wallet = wallet
        self._submit = submit
        self._query = query

    def submit(
        self, contract: str, method: str, args: Sequence[Any] = (), **_options: Any
    ) -> dict[str, Any]:
        if self.wallet is None:
            raise ValueError("submitting needs a wallet")
        try:
            return self._submit(self.wallet, contract, method, args).as_api()
        except AdmissionError as e:  # what the API answers with a problem document
            raise ApiError(e.status, {"code": e.code, "detail": e.detail}) from None

    def query(self, contract: str, method: str, args: Sequence[Any] = ()) -> Any:
        result = self._query(contract, method, args)
        if not result.ok:
            raise ApiError(400, {"code": result.status, "detail": result.message})
        return to_json(result.value)

    def close(self) -> None:
        """Nothing to release; present so code written for ``Client`` runs unchanged."""

    def __enter__(self) -> HarnessClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
