"""Introduction: the REST client of a node.

``submit`` signs with the wallet, posts the msgpack envelope and (with ``wait=True``) returns
once the tx is committed, with its receipt. Refusals raise ``ApiError`` carrying the RFC 9457
problem's stable ``code``. With a wallet, every read is a signed request (``auth.py``,
decision 0078): the node answers as that identity. ``trust`` (``tls.py``) verifies an HTTPS
node with nothing but the genesis; ``Client.for_network`` sets both from a network directory.
``subscribe`` follows the node's event stream (WebSocket) as an iterator that resumes by
itself (``sdk/events.py``); ``events`` reads one page of the same events over REST.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import msgpack

from yulian.sdk.auth import RequestSigner, auth_headers
from yulian.sdk.events import EventSubscription, event_filter
from yulian.sdk.tls import NodeTrust
from yulian.sdk.wallet import Wallet
from yulian.types.jsonvalue import to_json

DEFAULT_TTL_BLOCKS = 1000


class ApiError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code = str(problem.get("code", "http_error"))
        super().__init__(f"{status} {self.code}: {problem.get('detail', '')}")


class _Signing(httpx.Auth):
    """Sign reads as the wallet; submissions carry their own signature."""

    requires_request_body = True

    def __init__(self, client: Client, wallet: Wallet) -> None:
        self._client = client
        self._wallet = wallet

    def auth_flow(self, request: httpx.Request) -> Any:
        if request.method == "POST" and request.url.path in ("/v1/txs", "/v1/txs/batch"):
            yield request
            return
        yield from RequestSigner(self._wallet, self._client.chain_id()).auth_flow(request)


class Client:
    def __init__(
        self,
        url: str,
        wallet: Wallet | None = None,
        *,
        timeout_s: float = 30.0,
        auth: bool = True,
        trust: NodeTrust | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.wallet = wallet
        self.trust = trust
        options: dict[str, Any] = {}
        if trust is not None:
            options["verify"] = trust.ssl_context()
            options["event_hooks"] = {"response": [trust.check]}
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s, **options)
        self._signs = wallet is not None and auth
        if wallet is not None and auth:
            self._http.auth = _Signing(self, wallet)
        self._chain_id: str | None = None

    @classmethod
    def for_network(
        cls,
        url: str,
        network_dir: str | Any,
        org: str | None = None,
        name: str = "client1",
        **kwargs: Any,
    ) -> Client:
        """A client of the node at ``url`` that trusts the network's genesis (over HTTPS) and,
        given ``org``, signs as ``name`` of it."""
        from yulian.pki.layout import load_genesis

        wallet = Wallet.from_network(network_dir, org, name) if org is not None else None
        trust = (
            NodeTrust.for_genesis(load_genesis(network_dir)) if url.startswith("https") else None
        )
        return cls(url, wallet, trust=trust, **kwargs)

    def chain_id(self) -> str:
        """The chain the node serves (asked once, anonymously)."""
        if self._chain_id is None:
            response = self._http.get("/v1/health", auth=None)
            self._chain_id = str(self._check(response)["chain_id"])
        return self._chain_id

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _check(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"code": "http_error", "detail": response.text[:200]}
            raise ApiError(response.status_code, problem)
        return response.json()

    # --- reads ----------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._check(self._http.get("/v1/health", auth=None))
        self._chain_id = result["chain_id"]
        return result

    def tx(self, tx_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._check(self._http.get(f"/v1/txs/{tx_id}"))
        return result

    def block(self, height: int | str = "latest") -> dict[str, Any]:
        result: dict[str, Any] = self._check(self._http.get(f"/v1/blocks/{height}"))
        return result

    def state(self, contract: str, key: str) -> Any:
        return self._check(self._http.get(f"/v1/state/{contract}/{key}"))["value"]

    def history(self, contract: str, key: str, limit: int = 100) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._check(
            self._http.get(f"/v1/state/{contract}/{key}/history", params={"limit": limit})
        )["versions"]
        return result

    def events(
        self,
        *,
        contract: str | None = None,
        name: str | None = None,
        key_prefix: bytes | str = b"",
        payload_prefix: bytes = b"",
        after: str | None = None,
        from_height: int | None = None,
        limit: int = 100,
    ) -> dict[str, Any]:
        """One page of committed events (``GET /v1/events``): ``{"events", "next_after",
        "exhausted", "head"}``; continue with ``after=next_after``."""
        params: dict[str, Any] = {
            k: v
            for k, v in event_filter(contract, name, key_prefix, payload_prefix).items()
            if v != ""
        }
        params["limit"] = limit
        if after is not None:
            params["after"] = after
        if from_height is not None:
            params["from_height"] = from_height
        result: dict[str, Any] = self._check(self._http.get("/v1/events", params=params))
        return result

    def subscribe(
        self,
        *,
        contract: str | None = None,
        name: str | None = None,
        key_prefix: bytes | str = b"",
        payload_prefix: bytes = b"",
        filters: Sequence[dict[str, Any]] | None = None,
        blocks: bool = False,
        txs: Sequence[str] = (),
        after: str | None = None,
        from_height: int | None = None,
        queue: int | None = None,
        reconnect: bool = True,
        retry_for_s: float = 60.0,
        live_markers: bool = False,
    ) -> EventSubscription:
        """Follow the event stream: events passing ``filters`` (each made by
        ``sdk.events.event_filter``; or one filter from ``contract``, ``name``, ``key_prefix``,
        ``payload_prefix``), a ``block`` message per block with ``blocks``, a ``tx`` message
        when each of ``txs`` commits. Starts after cursor ``after``, or at block
        ``from_height``, or (neither) with the next block. Iterate the result; it reconnects
        and resumes by itself (see ``sdk/events.py``). Nothing asked for at all: every event."""
        if filters is None:
            one = (contract, name) != (None, None) or key_prefix or payload_prefix
            asked = one or blocks or txs
            filters = (
                [event_filter(contract, name, key_prefix, payload_prefix)]
                if one or not asked
                else []
            )
        request: dict[str, Any] = {"blocks": blocks, "txs": list(txs), "events": list(filters)}
        if after is not None:
            request["after"] = after
        if from_height is not None:
            request["from_height"] = from_height
        if queue is not None:
            request["queue"] = queue
        return EventSubscription(
            self.url,
            request,
            reconnect=reconnect,
            retry_for_s=retry_for_s,
            live_markers=live_markers,
            sign=self._sign_handshake if self._signs else None,
            ssl_context=self.trust.ssl_context() if self.trust is not None else None,
            check_peer=self.trust.check_certificate if self.trust is not None else None,
        )

    def _sign_handshake(self, target: str) -> dict[str, str]:
        """The signed-request headers of the stream's opening ``GET`` (no body)."""
        assert self.wallet is not None
        return auth_headers(self.wallet, self.chain_id(), "GET", target, b"")

    def query(self, contract: str, method: str, args: Sequence[Any] = ()) -> Any:
        result = self._check(
            self._http.post(
                "/v1/query",
                json={"contract": contract, "method": method, "args": to_json(list(args))},
            )
        )
        if result["status"] != "ok":
            raise ApiError(400, {"code": result["status"], "detail": result["message"]})
        return result["value"]

    # --- writes ---------------------------------------------------------------------------
    def submit(
        self,
        contract: str,
        method: str,
        args: Sequence[Any] = (),
        *,
        wait: bool = True,
        timeout_s: float = 30.0,
        expires_at: int | None = None,
    ) -> dict[str, Any]:
        if self.wallet is None:
            raise ValueError("submitting needs a wallet")
        if expires_at is None or self._chain_id is None:
            head = self.health()
            expires_at = (
                expires_at if expires_at is not None else head["height"] + DEFAULT_TTL_BLOCKS
            )
        assert self._chain_id is not None
        signed = self.wallet.sign_tx(self._chain_id, contract, method, args, expires_at=expires_at)
        return self.submit_envelope(signed.encode(), wait=wait, timeout_s=timeout_s)

    def submit_envelope(
        self, envelope: bytes, *, wait: bool = True, timeout_s: float = 30.0
    ) -> dict[str, Any]:
        response = self._http.post(
            "/v1/txs",
            content=envelope,
            params={"wait": "true" if wait else "false", "timeout": timeout_s},
            headers={"content-type": "application/msgpack"},
            timeout=timeout_s + 10,
        )
        result: dict[str, Any] = self._check(response)
        return result

    def submit_batch(self, envelopes: Sequence[bytes]) -> list[dict[str, Any]]:
        """Post up to 1,000 signed envelopes in one request (``POST /v1/txs/batch``). Per
        envelope, in order: ``{"id", "status": "pending"}`` or ``{"status": "refused", "code",
        "http_status", "detail"}``. Follow the accepted ones with ``tx``."""
        response = self._http.post(
            "/v1/txs/batch",
            content=msgpack.packb(list(envelopes)),
            headers={"content-type": "application/msgpack"},
        )
        result: list[dict[str, Any]] = self._check(response)["results"]
        return result

    def export_receipt(self, tx_id: str) -> dict[str, Any]:
        """The offline-verifiable document of a committed tx: ``{"proof", "summary"}``."""
        doc = self.tx(tx_id)
        if doc.get("status") != "committed":
            raise ApiError(409, {"code": "not_committed", "detail": f"tx is {doc.get('status')}"})
        return {"proof": doc["proof"], "summary": doc["summary"]}
