"""Introduction: who is calling — signed requests, read policies and per-caller rate limits.

``Authenticator.caller(request, body)`` answers with a ``Caller``: anonymous when the request
carries none of the four headers of ``types.signed_request``, else the member identity they
prove, checked cheapest first (decision 0078): the headers are well-formed, the time is within
``SKEW_MS`` of the node's clock, the certificate is a member's at the head (chain to an
organisation root, validity, not revoked, any member role), the signature verifies, and the
``(certificate, nonce)`` pair is unseen in the window. Each failure is a 401 problem with its
own code. Every caller then spends a token of its bucket (``RateLimiter``): per identity, or
per client address when anonymous; an empty bucket is a 429 ``rate_limited`` with
``Retry-After``.

``ReadGuard.require(caller, contract)`` applies the contract's read policy from the ``access``
system contract (decision 0079): 401 ``authentication_required`` when the policy needs an
identity and there is none, 403 ``read_not_allowed`` when the identity does not satisfy it.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from yulian.api.port import NodePort
from yulian.api.problems import Problem
from yulian.consensus.consortium_view import ConsortiumView
from yulian.contracts import Sender
from yulian.crypto.membership import Identity, Membership, MembershipError
from yulian.crypto.suite import get_suite
from yulian.crypto.x509 import MAX_CERTIFICATE_BYTES
from yulian.execution.overlay import StateView
from yulian.execution.system.access import BUILT_IN_POLICIES, read_policy
from yulian.types.access import ReadPolicy
from yulian.types.consortium import ConsortiumConfig
from yulian.types.signed_request import (
    AUTH_HEADERS,
    CERTIFICATE_HEADER,
    NONCE_HEADER,
    NONCE_HEX_CHARS,
    SIGNATURE_HEADER,
    TIME_HEADER,
    request_sign_bytes,
)

SKEW_MS = 300_000
REPLAY_CACHE_SIZE = 100_000
MAX_SIGNATURE_CHARS = 256
MEMBER_ROLES = ("client", "admin", "node")
ANONYMOUS_SENDER = Sender(org="", role="anonymous", id="", attributes={})
DEFAULT_RATE_PER_S = 100.0
DEFAULT_RATE_BURST = 200
MAX_BUCKETS = 10_000
LOOPBACK = frozenset({"127.0.0.1", "::1"})


@dataclass(frozen=True)
class ApiOptions:
    """The node's API settings that shape answers (``[api]`` in the node config)."""

    tls: bool = False
    rate_per_s: float = DEFAULT_RATE_PER_S
    rate_burst: int = DEFAULT_RATE_BURST


@dataclass(frozen=True)
class Caller:
    """Who made a request: a member identity, or anonymous from ``address``."""

    identity: Identity | None
    address: str

    @property
    def sender(self) -> Sender:
        """The caller as ``ctx.sender`` of a read-only call."""
        i = self.identity
        if i is None:
            return ANONYMOUS_SENDER
        return Sender(org=i.org, role=i.role, id=i.id, attributes=dict(i.attributes))

    def describe(self) -> str:
        i = self.identity
        return "an anonymous caller" if i is None else f"{i.name}@{i.org} ({i.role})"


class RateLimiter:
    """A token bucket per key: ``rate_per_s`` tokens a second, at most ``burst`` saved."""

    def __init__(self, rate_per_s: float, burst: int) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, now_s: float | None = None) -> float:
        """Spend one token of ``key``: 0 if there was one, else the seconds until there is."""
        if self.rate_per_s <= 0:
            return 0.0
        now_s = time.monotonic() if now_s is None else now_s
        tokens, last = self._buckets.pop(key, (float(self.burst), now_s))
        tokens = min(float(self.burst), tokens + (now_s - last) * self.rate_per_s)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate_per_s
        self._buckets[key] = (tokens, now_s)
        while len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
        return wait


@dataclass
class Authenticator:
    port: NodePort
    options: ApiOptions = field(default_factory=ApiOptions)

    def __post_init__(self) -> None:
        self.suite = get_suite(self.port.genesis.suite)
        self.limiter = RateLimiter(self.options.rate_per_s, self.options.rate_burst)
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._membership: tuple[int, ConsortiumConfig, Membership] | None = None

    def membership(self) -> Membership:
        """The members at the head (rebuilt only when the consortium config changed)."""
        height = self.port.head().height
        cached = self._membership
        if cached is not None and cached[0] == height:
            return cached[2]
        config = self.port.config_at(height)
        if cached is not None and cached[1] == config:
            membership = cached[2]
        else:
            membership = ConsortiumView.of(config, height + 1, self.suite).membership
        self._membership = (height, config, membership)
        return membership

    def caller(self, request: HTTPConnection, body: bytes = b"") -> Caller:
        """The caller of ``request`` (whose body is ``body``; a WebSocket handshake is a
        ``GET`` without one), rate-limited; raises ``Problem``."""
        address = request.client.host if request.client is not None else ""
        headers = request.headers
        if not any(h in headers for h in AUTH_HEADERS):
            if address not in LOOPBACK:  # local tools; a local proxy limits its own callers
                self._limit(f"address:{address}")
            return Caller(None, address)
        identity = self._verify(request, headers, body)
        self._limit(f"identity:{identity.id}")
        return Caller(identity, address)

    def _limit(self, key: str) -> None:
        wait = self.limiter.take(key)
        if wait > 0:
            retry = max(1, int(wait + 0.999))
            raise RateLimited(retry)

    def _verify(self, request: HTTPConnection, headers: Mapping[str, str], body: bytes) -> Identity:
        missing = [h for h in AUTH_HEADERS if h not in headers]
        if missing:
            raise Problem("malformed_auth", 401, f"a signed request also needs {missing[0]}")
        try:
            cert = base64.b64decode(headers[CERTIFICATE_HEADER], validate=True)
            signature = base64.b64decode(headers[SIGNATURE_HEADER], validate=True)
        except (binascii.Error, ValueError):
            raise Problem("malformed_auth", 401, "certificate and signature are base64") from None
        time_text, nonce = headers[TIME_HEADER], headers[NONCE_HEADER]
        if not 0 < len(cert) <= MAX_CERTIFICATE_BYTES or len(signature) > MAX_SIGNATURE_CHARS:
            raise Problem("malformed_auth", 401, "certificate or signature of impossible size")
        if not time_text.isdigit() or len(time_text) > 16:
            raise Problem("malformed_auth", 401, f"{TIME_HEADER} is a time in ms")
        if len(nonce) != NONCE_HEX_CHARS or any(c not in "0123456789abcdef" for c in nonce):
            raise Problem("malformed_auth", 401, f"{NONCE_HEADER} is {NONCE_HEX_CHARS} hex digits")
        time_ms, now_ms = int(time_text), time.time_ns() // 1_000_000
        if abs(now_ms - time_ms) > SKEW_MS:
            raise Problem(
                "stale_request",
                401,
                f"the request was signed at {time_ms} ms; this node's time is {now_ms} ms "
                f"(at most {SKEW_MS // 1000} s apart)",
            )
        try:
            identity = self.membership().validate(cert, at_ms=now_ms, roles=MEMBER_ROLES)
        except MembershipError as e:
            raise Problem(e.code, 401, str(e)) from None
        target = request.scope.get("raw_path", b"").decode("latin-1")
        query = request.scope.get("query_string", b"").decode("latin-1")
        if query:
            target += "?" + query
        message = request_sign_bytes(
            self.port.chain_id,
            request.scope.get("method", "GET"),
            target,
            time_ms,
            nonce,
            self.suite.hash(body),
        )
        if not self.suite.verify(identity.public_key, message, signature):
            raise Problem(
                "bad_signature",
                401,
                f"the request's signature does not verify under the certificate of "
                f"{identity.name}@{identity.org}",
            )
        self._remember(identity.id, nonce, now_ms)
        return identity

    def _remember(self, identity_id: str, nonce: str, now_ms: int) -> None:
        key = (identity_id, nonce)
        if key in self._seen and now_ms - self._seen[key] <= 2 * SKEW_MS:
            raise Problem("replayed_request", 401, "this signed request was already served")
        self._seen[key] = now_ms
        while len(self._seen) > REPLAY_CACHE_SIZE:
            self._seen.popitem(last=False)


class RateLimited(Problem):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "rate_limited", 429, f"too many requests from this caller; retry in {retry_after_s} s"
        )
        self.headers = {"retry-after": str(retry_after_s)}


class PortState:
    """The committed state through the port, as a ``StateView`` for the system readers."""

    def __init__(self, port: NodePort) -> None:
        self._port = port

    def get(self, key: bytes) -> bytes | None:
        contract, _, name = key.partition(b"\x00")
        return self._port.state_get(contract.decode("utf-8"), name.decode("utf-8"))

    def history(self, key: bytes, limit: int = 100) -> list[tuple[int, bytes | None]]:
        contract, _, name = key.partition(b"\x00")
        return self._port.state_history(contract.decode("utf-8"), name.decode("utf-8"), limit)

    def scan_prefix(
        self, prefix: bytes, limit: int, start_after: bytes | None = None
    ) -> list[tuple[bytes, bytes]]:
        """Within one contract's namespace (the port lists a contract's keys)."""
        contract, nul, name = prefix.partition(b"\x00")
        if not nul:
            raise ValueError("the API's state view scans within one contract's namespace")
        after = None
        if start_after is not None and start_after.startswith(contract + b"\x00"):
            after = start_after[len(contract) + 1 :].decode("utf-8")
        elif start_after is not None and start_after > prefix:
            return []  # after the whole namespace
        owner = contract.decode("utf-8")
        out: list[tuple[bytes, bytes]] = []
        for info in self._port.state_keys(owner, name.decode("utf-8"), after, limit):
            value = self._port.state_get(owner, info.key)
            if value is not None:
                out.append((contract + b"\x00" + info.key.encode("utf-8"), value))
        return out


class ReadGuard:
    """Read policies of contracts, applied to callers (decision 0079)."""

    def __init__(self, port: NodePort) -> None:
        self._view: StateView = PortState(port)

    def policy(self, contract: str) -> ReadPolicy:
        return read_policy(self._view, contract)

    def require_query(self, caller: Caller, contract: str) -> None:
        """Queries follow the read policy, but the privacy contracts' query methods answer
        each caller themselves (their raw state stays closed)."""
        if contract not in BUILT_IN_POLICIES:
            self.require(caller, contract)

    def allows(self, caller: Caller, contract: str) -> bool:
        return self._allows(caller, self.policy(contract))

    @staticmethod
    def _allows(caller: Caller, policy: ReadPolicy) -> bool:
        i = caller.identity
        return policy.allows(
            i.org if i is not None else None,
            i.role if i is not None else "anonymous",
            i.attributes if i is not None else {},
        )

    def readable(self, caller: Caller) -> ContractFilter:
        """Which contracts ``caller`` may read, asked once per contract and head height."""
        return ContractFilter(self, caller)

    def require(self, caller: Caller, contract: str) -> None:
        policy = self.policy(contract)
        i = caller.identity
        if self._allows(caller, policy):
            return
        if i is None:
            raise Problem(
                "authentication_required",
                401,
                f"reading {contract!r} needs a signed request (its read policy is "
                f"{policy.text()!r})",
            )
        raise Problem(
            "read_not_allowed",
            403,
            f"{caller.describe()} may not read {contract!r} (its read policy is {policy.text()!r})",
        )


class ContractFilter:
    """The contracts one caller may read: for answers that mix contracts (an unfiltered event
    page or stream, a tx's writes), which leave out what the caller may not see (decision
    0093). Policies change by governance, so answers are kept for one head height."""

    def __init__(self, guard: ReadGuard, caller: Caller) -> None:
        self._guard = guard
        self.caller = caller
        self._height = -1
        self._known: dict[str, bool] = {}

    def __call__(self, contract: str, height: int) -> bool:
        if height != self._height:
            self._height, self._known = height, {}
        known = self._known.get(contract)
        if known is None:
            known = self._known[contract] = self._guard.allows(self.caller, contract)
        return known
