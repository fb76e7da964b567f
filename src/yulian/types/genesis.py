"""Introduction: the genesis — the consortium's founding agreement.

It fixes the chain id, the crypto suite, the organisations with their CA roots, the validators
with their voting power, the policies, the chain parameters and the contracts installed at
height 0. Every node of the chain holds the same genesis; its hash (the suite hash of its
canonical encoding) is the ``prev_hash`` of block 1, so a node with another genesis can never
accept this chain's blocks. The JSON file form is for humans; the hash is over msgpack.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from yulian.types.block import BLOCK_OVERHEAD_BYTES, MAX_BLOCK_BYTES, MAX_BLOCK_TXS, block_tx_bytes
from yulian.types.commit import MAX_VALIDATORS
from yulian.types.encoding import Value, encode
from yulian.types.tx import MAX_TX_BYTES

GENESIS_VERSION = 1
POLICIES = ("ANY", "MAJORITY", "ALL")
# what the consortium config's decoder accepts (``types/consortium.py``), in UTF-8 bytes
MAX_ORG_NAME_BYTES = 64
MAX_VALIDATOR_NAME_BYTES = 64
MAX_ADDRESS_BYTES = 256
MAX_PUBLIC_KEY_BYTES = 1024
MAX_CA_CERT_BYTES = 64 * 1024


class GenesisError(ValueError):
    """A genesis that is malformed or internally inconsistent."""


@dataclass(frozen=True)
class Organisation:
    name: str
    ca_cert: bytes  # DER of the organisation's root CA certificate

    def to_value(self) -> tuple[Value, ...]:
        return (self.name, self.ca_cert)


@dataclass(frozen=True)
class Validator:
    name: str
    org: str
    public_key: bytes
    power: int = 1
    address: str = ""  # host:port of its p2p listener, so other nodes can dial it ("" = unknown)

    def to_value(self) -> tuple[Value, ...]:
        return (self.name, self.org, self.public_key, self.power, self.address)

    @classmethod
    def from_value(cls, value: Value) -> Validator:
        name, org, public_key, power, address = value
        return cls(str(name), str(org), bytes(public_key), int(power), str(address))


# upper bounds, so no parameter vote can make the chain unusable (heights and times stay far
# inside 64 bits, a block and a tx stay decodable, a timeout stays finite)
PARAM_LIMITS = {
    "block_interval_ms": 600_000,
    "max_block_txs": MAX_BLOCK_TXS,
    "max_tx_bytes": MAX_TX_BYTES,
    "step_limit": 1_000_000_000,
    "max_tx_ttl_blocks": 10_000_000,
    "timeout_propose_ms": 600_000,
    "timeout_prevote_ms": 600_000,
    "timeout_precommit_ms": 600_000,
    "timeout_delta_ms": 600_000,
    "proposal_ttl_blocks": 10_000_000,
    "max_block_bytes": MAX_BLOCK_BYTES,
    "max_block_steps": 10_000_000_000,
}


@dataclass(frozen=True)
class ChainParams:
    block_interval_ms: int = 200
    max_block_txs: int = 2000
    max_tx_bytes: int = 64 * 1024
    step_limit: int = 1_000_000
    max_tx_ttl_blocks: int = 10_000
    timeout_propose_ms: int = 3000
    timeout_prevote_ms: int = 1000
    timeout_precommit_ms: int = 1000
    timeout_delta_ms: int = 500
    proposal_ttl_blocks: int = 100_000  # governance proposals expire this many blocks after
    # a block's encoding, header included (decision 0015); always holds a tx of max_tx_bytes
    max_block_bytes: int = 4 * 1024 * 1024
    # contract steps one block may execute (decision 0072: 3,000,000 at ~350 ns a step, the
    # measured worst, is ~1 s); at least step_limit, so every tx fits an empty block
    max_block_steps: int = 3_000_000

    def to_value(self) -> tuple[Value, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    @classmethod
    def from_value(cls, value: Value) -> ChainParams:
        values = tuple(value)
        names = [f.name for f in fields(cls)]
        if len(values) != len(names) or not all(type(v) is int for v in values):
            raise ValueError(f"chain params are {len(names)} integers")
        return cls(*values)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def check(self) -> None:
        """Raise ``GenesisError`` for parameters no chain can run with."""
        for name, value in self.as_dict().items():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise GenesisError(f"chain parameter {name} must be a positive integer")
            if value > PARAM_LIMITS[name]:
                raise GenesisError(f"chain parameter {name} may be at most {PARAM_LIMITS[name]}")
        if self.max_block_steps < self.step_limit:
            raise GenesisError(
                f"chain parameter max_block_steps ({self.max_block_steps}) must be at least "
                f"step_limit ({self.step_limit}): a block must hold one tx at its whole budget"
            )
        least = self.min_block_bytes()
        if self.max_block_bytes < least:
            raise GenesisError(
                f"chain parameter max_block_bytes must hold a tx of max_tx_bytes "
                f"({self.max_tx_bytes}): at least {least}"
            )

    def min_block_bytes(self) -> int:
        """The smallest ``max_block_bytes`` that holds one tx of ``max_tx_bytes``: every tx
        admission accepts then fits an empty block, so a pool never holds a tx no block can
        carry."""
        return BLOCK_OVERHEAD_BYTES + block_tx_bytes(self.max_tx_bytes)


@dataclass(frozen=True)
class Genesis:
    chain_id: str
    suite: str
    time_ms: int
    organisations: tuple[Organisation, ...]
    validators: tuple[Validator, ...]
    policies: dict[str, str] = field(default_factory=dict)
    params: ChainParams = ChainParams()
    contracts: tuple[tuple[str, str], ...] = ()  # (name, source) installed at height 0

    def __post_init__(self) -> None:
        check_genesis(self)

    def to_value(self) -> tuple[Value, ...]:
        return (
            GENESIS_VERSION,
            self.chain_id,
            self.suite,
            self.time_ms,
            tuple(o.to_value() for o in self.organisations),
            tuple(v.to_value() for v in self.validators),
            tuple(sorted(self.policies.items())),
            self.params.to_value(),
            tuple(self.contracts),
        )

    def encode(self) -> bytes:
        return encode(self.to_value())

    def organisation(self, name: str) -> Organisation | None:
        return next((o for o in self.organisations if o.name == name), None)

    def total_power(self) -> int:
        return sum(v.power for v in self.validators)

    def validators_value(self) -> tuple[Value, ...]:
        return tuple(v.to_value() for v in self.validators)

    # --- the JSON file form -------------------------------------------------------------
    def to_json(self) -> str:
        doc: dict[str, Any] = {
            "version": GENESIS_VERSION,
            "chain_id": self.chain_id,
            "suite": self.suite,
            "time_ms": self.time_ms,
            "organisations": [
                {"name": o.name, "ca_cert": _b64(o.ca_cert)} for o in self.organisations
            ],
            "validators": [
                {
                    "name": v.name,
                    "org": v.org,
                    "public_key": v.public_key.hex(),
                    "power": v.power,
                    "address": v.address,
                }
                for v in self.validators
            ],
            "policies": dict(sorted(self.policies.items())),
            "params": self.params.as_dict(),
            "contracts": [{"name": n, "source": s} for n, s in self.contracts],
        }
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Genesis:
        try:
            doc = json.loads(text)
            if doc.get("version") != GENESIS_VERSION:
                raise GenesisError(f"unsupported genesis version {doc.get('version')!r}")
            return cls(
                chain_id=doc["chain_id"],
                suite=doc["suite"],
                time_ms=int(doc["time_ms"]),
                organisations=tuple(
                    Organisation(o["name"], base64.b64decode(o["ca_cert"], validate=True))
                    for o in doc["organisations"]
                ),
                validators=tuple(
                    Validator(
                        v["name"],
                        v["org"],
                        bytes.fromhex(v["public_key"]),
                        int(v["power"]),
                        str(v.get("address", "")),
                    )
                    for v in doc["validators"]
                ),
                policies=dict(doc.get("policies", {})),
                params=ChainParams(**doc.get("params", {})),
                contracts=tuple((c["name"], c["source"]) for c in doc.get("contracts", [])),
            )
        except GenesisError:
            raise
        except (KeyError, TypeError, ValueError) as e:
            raise GenesisError(f"malformed genesis: {type(e).__name__}: {e}") from None

    @classmethod
    def load(cls, path: str | Path) -> Genesis:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_genesis(g: Genesis) -> None:
    """Raise ``GenesisError`` unless the genesis is internally consistent."""
    if not g.chain_id or len(g.chain_id.encode()) > 64:
        raise GenesisError("chain_id must be 1..64 bytes")
    org_names = [o.name for o in g.organisations]
    if not org_names:
        raise GenesisError("a consortium needs at least one organisation")
    for o in g.organisations:
        _check_bytes(o.name, MAX_ORG_NAME_BYTES, "organisation name")
        if not 0 < len(o.ca_cert) <= MAX_CA_CERT_BYTES:
            raise GenesisError(
                f"the CA certificate of {o.name} must be 1..{MAX_CA_CERT_BYTES} bytes"
            )
    if len(set(org_names)) != len(org_names):
        raise GenesisError("organisation names must be unique")
    if not g.validators:
        raise GenesisError("at least one validator is required")
    if len(g.validators) > MAX_VALIDATORS:
        raise GenesisError(f"at most {MAX_VALIDATORS} validators (a commit certificate's limit)")
    for v in g.validators:
        _check_bytes(v.name, MAX_VALIDATOR_NAME_BYTES, "validator name")
        _check_bytes(v.address, MAX_ADDRESS_BYTES, "validator address", allow_empty=True)
        if not 0 < len(v.public_key) <= MAX_PUBLIC_KEY_BYTES:
            raise GenesisError(
                f"the public key of {v.name} must be 1..{MAX_PUBLIC_KEY_BYTES} bytes"
            )
    names = [v.name for v in g.validators]
    if len(set(names)) != len(names):
        raise GenesisError("validator names must be unique")
    keys = [v.public_key for v in g.validators]
    if len(set(keys)) != len(keys):
        raise GenesisError("validator public keys must be unique")
    for v in g.validators:
        if v.org not in org_names:
            raise GenesisError(f"validator {v.name} names unknown organisation {v.org}")
        if v.power <= 0:
            raise GenesisError(f"validator {v.name} needs a positive power")
    for scope, policy in g.policies.items():
        if policy not in POLICIES and not is_n_of_m(policy):
            raise GenesisError(f"policy {scope}={policy!r} is not ANY, MAJORITY, ALL or N-of-M")
    g.params.check()
    contract_names = [n for n, _ in g.contracts]
    if len(set(contract_names)) != len(contract_names):
        raise GenesisError("contract names must be unique")


def _check_bytes(text: str, max_bytes: int, what: str, *, allow_empty: bool = False) -> None:
    if not isinstance(text, str):
        raise GenesisError(f"{what} must be a string")
    size = len(text.encode("utf-8"))
    if size > max_bytes or (size == 0 and not allow_empty):
        raise GenesisError(f"{what} {text!r} must be 1..{max_bytes} bytes in UTF-8, not {size}")


def is_n_of_m(policy: str) -> bool:
    parts = policy.split("-of-")
    return (
        len(parts) == 2 and all(p.isdigit() for p in parts) and 0 < int(parts[0]) <= int(parts[1])
    )
