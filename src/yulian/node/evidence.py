"""Introduction: the node's evidence handling — an equivocation seen becomes a signed tx.

When the consensus core reports two conflicting votes of one validator, the replica hands them
to ``EvidenceReporter``: it keeps the evidence (``pending``, for operators and the simulator)
and, on a node with a node certificate, builds the ``misbehaviour.report`` tx that puts the
offence on chain (RELIABILITY B1), signed through the safety rules' ``sign_tx`` (the only
holder of the node's key; decision 0085). Each offence is reported once:
``evidence_key`` names the offence, not the pair of votes.

Bounded: the keys already reported are remembered up to ``MAX_REPORTED`` (oldest forgotten
first; a forgotten offence reported again costs one tx that the contract records idempotently)
and ``pending`` keeps the latest ``MAX_PENDING_EVIDENCE`` pieces.
"""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from collections.abc import Callable

from yulian.consensus.evidence import DuplicateVoteEvidence, evidence_key, evidence_tx
from yulian.crypto.suite import Suite
from yulian.types.consensus import Vote
from yulian.types.tx import SignedTx, Tx

log = logging.getLogger("yulian.replica")

EVIDENCE_TTL_BLOCKS = 100  # an evidence tx may be included this many blocks after it is made
MAX_REPORTED = 1024
MAX_PENDING_EVIDENCE = 256


class EvidenceReporter:
    def __init__(
        self,
        suite: Suite,
        chain_id: str,
        name: str,
        node_cert: bytes,
        sign_tx: Callable[[Tx], SignedTx] | None,
    ) -> None:
        self._suite = suite
        self._chain_id = chain_id
        self._name = name
        self._node_cert = node_cert
        self._sign_tx = sign_tx
        self._reported: OrderedDict[str, None] = OrderedDict()
        self.pending: deque[DuplicateVoteEvidence] = deque(maxlen=MAX_PENDING_EVIDENCE)

    def report(self, first: Vote, second: Vote, *, tip_height: int) -> bytes | None:
        """Keep the evidence of ``first`` and ``second``; the envelope of its tx to submit, or
        ``None`` when this offence was reported already or the node cannot sign txs."""
        evidence = DuplicateVoteEvidence.of(first, second)
        key = evidence_key(evidence)
        if key in self._reported:
            return None
        self._reported[key] = None
        if len(self._reported) > MAX_REPORTED:
            self._reported.popitem(last=False)
        self.pending.append(evidence)
        log.warning(
            "%s: equivocation by %s at height %d round %d",
            self._name,
            first.validator,
            first.height,
            first.round,
        )
        if not self._node_cert or self._sign_tx is None:
            return None
        nonce = int.from_bytes(self._suite.hash(key.encode())[:8], "big") >> 1
        tx = evidence_tx(
            self._chain_id, evidence, self._node_cert, nonce, tip_height + EVIDENCE_TTL_BLOCKS
        )
        return self._sign_tx(tx).encode()
