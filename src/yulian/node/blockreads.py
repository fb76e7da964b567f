"""Introduction: reads of committed blocks for lists — summaries, a block's txs, signing stats.

The explorer lists blocks twenty at a time, a block's txs a page at a time, and the
validators' record over a window of blocks. Each of those would otherwise decode whole blocks
per request. Committed blocks never change, so what is derived from one (its ``BlockSummary``,
a signer certificate's fields) is computed once, on first use, and kept in bounded caches.

Signing statistics come from commit certificates, the only votes the ledger keeps: a
certificate holds the first precommits over two thirds of the power that the committing node
gathered, so "missed" means "not in the certificate", not necessarily "did not vote".
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from yulian.api.port import BlockSummary, TxBrief
from yulian.consensus.consortium_view import ConsortiumView
from yulian.crypto.suite import Suite
from yulian.crypto.x509 import CertificateError, parse_certificate
from yulian.execution.system.consortium import CONFIG_KEY
from yulian.ledger import MAX_HISTORY_LIMIT, Ledger
from yulian.types.block import Block
from yulian.types.commit import CommitCertificate
from yulian.types.consortium import ConsortiumConfig
from yulian.types.receipt import Receipt
from yulian.types.tx import SignedTx

SUMMARY_CACHE = 4096  # block summaries kept (a few hundred bytes each)
SIGNER_CACHE = 1024  # parsed signer certificates kept, by their DER
UNKNOWN_SIGNER = ("", "", "")


class BlockReads:
    def __init__(
        self, ledger: Ledger, suite: Suite, genesis_config: Callable[[], ConsortiumConfig]
    ) -> None:
        self._ledger = ledger
        self._suite = suite
        self._genesis_config = genesis_config
        self._summaries: OrderedDict[int, BlockSummary] = OrderedDict()
        self._signers: OrderedDict[bytes, tuple[str, str, str]] = OrderedDict()

    # --- summaries ---------------------------------------------------------------------------
    def summary(self, height: int) -> BlockSummary | None:
        cached = self._summaries.get(height)
        if cached is not None:
            self._summaries.move_to_end(height)
            return cached
        data, block_hash = self._ledger.block(height), self._ledger.block_hash(height)
        if data is None or block_hash is None:
            return None
        summary = self._summarise(height, data, block_hash)
        self._keep(height, summary)
        return summary

    def summaries(self, before: int, limit: int) -> list[BlockSummary]:
        top = min(before - 1, self._ledger.height())
        out = []
        for height in range(top, max(0, top - limit), -1):
            summary = self.summary(height)
            if summary is not None:
                out.append(summary)
        return out

    def _summarise(self, height: int, data: bytes, block_hash: bytes) -> BlockSummary:
        header = Block.decode(data).header
        commit_bytes = self._ledger.commit(height)
        commit = CommitCertificate.decode(commit_bytes) if commit_bytes is not None else None
        return BlockSummary(
            header=header,
            block_hash=block_hash,
            size_bytes=len(data),
            round=commit.round if commit is not None else 0,
            signers=tuple(s.validator for s in commit.signatures) if commit is not None else (),
        )

    def _keep(self, height: int, summary: BlockSummary) -> None:
        self._summaries[height] = summary
        self._summaries.move_to_end(height)
        while len(self._summaries) > SUMMARY_CACHE:
            self._summaries.popitem(last=False)

    # --- a block's txs -----------------------------------------------------------------------
    def txs(self, height: int, offset: int, limit: int) -> list[TxBrief] | None:
        data = self._ledger.block(height)
        if data is None:
            return None
        envelopes = Block.decode(data).txs[offset : offset + limit]
        out = []
        for k, envelope in enumerate(envelopes):
            index = offset + k
            signed = SignedTx.decode(envelope)
            receipt_bytes = self._ledger.receipt(height, index)
            receipt = Receipt.decode(receipt_bytes) if receipt_bytes is not None else None
            org, name, role = self._signer(signed.tx.signer)
            out.append(
                TxBrief(
                    tx_id=self._suite.hash(signed.body),
                    index=index,
                    contract=signed.tx.contract,
                    method=signed.tx.method,
                    signer_org=org,
                    signer_name=name,
                    signer_role=role,
                    status=receipt.status if receipt is not None else "",
                    message=receipt.message if receipt is not None else "",
                )
            )
        return out

    def _signer(self, der: bytes) -> tuple[str, str, str]:
        """(org, name, role) of a certificate that signed a committed tx (it was valid then)."""
        known = self._signers.get(der)
        if known is None:
            try:
                info = parse_certificate(der)
                known = (info.org, info.name, info.role)
            except CertificateError:
                known = UNKNOWN_SIGNER
            self._signers[der] = known
            while len(self._signers) > SIGNER_CACHE:
                self._signers.popitem(last=False)
        return known

    # --- who signed, missed and proposed ----------------------------------------------------
    def validator_stats(self, window: int) -> dict[str, Any]:
        head = self._ledger.height()
        # below the floor (pruned, or a snapshot) no certificate is held: the answer's
        # ``window`` is the blocks counted, never blocks silently missing from it
        first = max(1, self._ledger.floor(), head - window + 1)
        configs = self._configs_in_force(first)
        rows: dict[str, dict[str, Any]] = {}

        def row(name: str, org: str, power: int) -> dict[str, Any]:
            if name not in rows:
                rows[name] = {
                    "name": name,
                    "org": org,
                    "power": power,
                    "signed": 0,
                    "missed": 0,
                    "proposed": 0,
                    "last_signed_height": None,
                }
            return rows[name]

        current = ConsortiumView.of(configs(head), head + 1, self._suite).validator_list
        for v in current:
            row(v.name, v.org, v.power)
        for height in range(first, head + 1):
            summary = self.summary(height)
            if summary is None:
                continue
            signers = set(summary.signers)
            for v in ConsortiumView.of(configs(height - 1), height, self._suite).validator_list:
                entry = row(v.name, v.org, v.power)
                if v.name in signers:
                    entry["signed"] += 1
                    entry["last_signed_height"] = height
                else:
                    entry["missed"] += 1
            proposer = rows.get(summary.header.proposer)
            if proposer is not None:
                proposer["proposed"] += 1
        in_set = {v.name for v in current}
        return {
            "height": head,
            "window": head - first + 1 if head else 0,
            "validators": [
                {**r, "in_set": r["name"] in in_set} for r in sorted(rows.values(), key=_by_name)
            ],
        }

    def _configs_in_force(self, first: int) -> Callable[[int], ConsortiumConfig]:
        """``config_after(h)`` for ``h >= first - 1`` from one read of the config's history."""
        versions = self._ledger.history(CONFIG_KEY, limit=MAX_HISTORY_LIMIT)  # newest first
        decoded: dict[int, ConsortiumConfig] = {}

        def config_after(height: int) -> ConsortiumConfig:
            for at, data in versions:
                if at <= height and data is not None:
                    if at not in decoded:
                        decoded[at] = ConsortiumConfig.decode(data)
                    return decoded[at]
            return self._genesis_config()

        return config_after


def _by_name(row: dict[str, Any]) -> str:
    return str(row["name"])
