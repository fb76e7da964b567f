"""Introduction: governance through the SDK — consortium changes and contract lifecycle.

Thin builders over ``Client.submit`` / ``Client.query`` for the ``consortium`` and
``lifecycle`` system contracts. Every write returns the proposal as the contract reports it
after the tx::

    {"id", "scope", "kind", "args", "proposer", "created", "expires", "approvals",
     "status": "open" | "applied" | "failed" | "expired", "note"}

A write whose tx is not committed in time, or whose receipt is not ``ok`` (a client identity
proposing, an unknown organisation, a proposal already decided, ...), raises
``GovernanceError`` carrying the receipt's status and message. A proposal that was approved
but could not be applied is *not* an error of the call: it comes back with status
``"failed"`` and the reason in ``note``. Reads raise the client's ``ApiError``.

Writes need a ``Client`` whose wallet is an organisation admin (``Wallet.from_network(dir,
org, "admin")``); only admins may propose and approve, and each organisation counts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from yulian.sdk.client import Client
from yulian.types.jsonvalue import from_json

CONSORTIUM = "consortium"
LIFECYCLE = "lifecycle"


class GovernanceError(Exception):
    """A governance call that did not succeed; ``status`` and ``message`` are the receipt's
    (``status`` is ``"pending"`` when the tx was not committed in time)."""

    def __init__(self, call: str, status: str, message: str, tx_id: str = "") -> None:
        self.call = call
        self.status = status
        self.message = message
        self.tx_id = tx_id
        super().__init__(f"{call}: {status}: {message}" if message else f"{call}: {status}")


# --- consortium ---------------------------------------------------------------------------


def propose_add_org(client: Client, name: str, ca_cert_der: bytes) -> dict[str, Any]:
    """Propose organisation ``name`` with its root CA certificate (DER)."""
    return _propose(client, "add_org", [name, bytes(ca_cert_der)])


def propose_remove_org(client: Client, name: str) -> dict[str, Any]:
    """Propose that ``name`` leaves; its validators leave with it."""
    return _propose(client, "remove_org", [name])


def propose_add_validator(
    client: Client, name: str, org: str, public_key: bytes, power: int, address: str
) -> dict[str, Any]:
    """Propose validator ``name`` of ``org`` (its node key, voting power and p2p
    ``host:port``); in force ``VALIDATOR_SET_DELAY`` blocks after it is applied."""
    return _propose(client, "add_validator", [name, org, bytes(public_key), power, address])


def propose_remove_validator(client: Client, name: str) -> dict[str, Any]:
    return _propose(client, "remove_validator", [name])


def propose_set_power(client: Client, name: str, power: int) -> dict[str, Any]:
    return _propose(client, "set_power", [name, power])


def propose_set_policy(client: Client, scope: str, policy: str) -> dict[str, Any]:
    """Propose ``policy`` (``ANY``, ``MAJORITY``, ``ALL`` or ``N-of-M``) for ``scope``."""
    return _propose(client, "set_policy", [scope, policy])


def propose_set_params(client: Client, params: Mapping[str, int]) -> dict[str, Any]:
    """Propose new values of chain parameters, e.g. ``{"block_interval_ms": 300}``."""
    if not params:
        raise ValueError("set_params needs at least one parameter")
    return _propose(client, "set_params", [[[k, params[k]] for k in sorted(params)]])


def propose_revoke(client: Client, cert_der: bytes) -> dict[str, Any]:
    """Propose revoking a certificate (DER) and its public key. The certificate's own
    organisation revokes alone; any other needs the ``revocation`` policy."""
    return _propose(client, "revoke", [bytes(cert_der)])


def approve(client: Client, proposal_id: int) -> dict[str, Any]:
    """Approve consortium proposal ``proposal_id`` for the wallet's organisation."""
    return _write(client, CONSORTIUM, "approve", [proposal_id])


def consortium_config(client: Client) -> dict[str, Any]:
    """The consortium config at the node's head: organisations, validators, schedule,
    policies, params, revocations."""
    return _read(client, CONSORTIUM, "config", [])


def proposal(client: Client, proposal_id: int) -> dict[str, Any]:
    return _read(client, CONSORTIUM, "proposal", [proposal_id])


def proposals(client: Client) -> list[dict[str, Any]]:
    """The consortium proposals still open (or expired but not yet pruned)."""
    return _read_list(client, CONSORTIUM, "proposals", [])


def validators(client: Client, height: int | None = None) -> list[dict[str, Any]]:
    """The validator set that signs block ``height`` (default: the next block)."""
    return _read_list(client, CONSORTIUM, "validators", [] if height is None else [height])


# --- lifecycle ----------------------------------------------------------------------------


def propose_contract(client: Client, name: str, version: str, code: str) -> dict[str, Any]:
    """Propose deploying ``name`` at ``version`` (or upgrading it, if it is active); the code
    is checked against the contract dialect before anyone votes."""
    return _write(client, LIFECYCLE, "propose", [name, version, code])


def approve_contract(client: Client, proposal_id: int) -> dict[str, Any]:
    return _write(client, LIFECYCLE, "approve", [proposal_id])


def contract_status(client: Client, name: str) -> dict[str, Any]:
    """``{"name", "version", "code_hash", "height"}`` of the active contract ``name``."""
    return _read(client, LIFECYCLE, "contract", [name])


def contracts(client: Client) -> list[dict[str, Any]]:
    """Every contract activated through the lifecycle (genesis contracts are not listed)."""
    return _read_list(client, LIFECYCLE, "contracts", [])


def contract_proposal(client: Client, proposal_id: int) -> dict[str, Any]:
    return _read(client, LIFECYCLE, "proposal", [proposal_id])


def contract_proposals(client: Client) -> list[dict[str, Any]]:
    return _read_list(client, LIFECYCLE, "proposals", [])


def contract_code(client: Client, name: str) -> str:
    """The source of the active version of ``name``."""
    code = client.query(LIFECYCLE, "code", [name])
    if not isinstance(code, str):
        raise GovernanceError(f"{LIFECYCLE}.code", "missing", f"no code stored for {name!r}")
    return code


# --- helpers ------------------------------------------------------------------------------


def _propose(client: Client, kind: str, args: list[Any]) -> dict[str, Any]:
    return _write(client, CONSORTIUM, "propose", [kind, args])


def _write(client: Client, contract: str, method: str, args: list[Any]) -> dict[str, Any]:
    call = f"{contract}.{method}"
    result = client.submit(contract, method, args)
    receipt = result.get("receipt")
    if result.get("status") != "committed" or not isinstance(receipt, dict):
        raise GovernanceError(
            call,
            str(result.get("status", "unknown")),
            f"tx {result.get('id', '?')} was not committed in time",
            str(result.get("id", "")),
        )
    if receipt.get("status") != "ok":
        raise GovernanceError(
            call, str(receipt.get("status")), str(receipt.get("message", "")), str(result["id"])
        )
    value = from_json(receipt.get("value"))
    if not isinstance(value, dict):
        raise GovernanceError(call, "malformed", f"expected a proposal, got {value!r}")
    return value


def _read(client: Client, contract: str, method: str, args: list[Any]) -> dict[str, Any]:
    value = from_json(client.query(contract, method, args))
    if not isinstance(value, dict):
        raise GovernanceError(f"{contract}.{method}", "malformed", f"expected a map: {value!r}")
    return value


def _read_list(client: Client, contract: str, method: str, args: list[Any]) -> list[Any]:
    value = from_json(client.query(contract, method, args))
    if not isinstance(value, list):
        raise GovernanceError(f"{contract}.{method}", "malformed", f"expected a list: {value!r}")
    return value
