"""Introduction: admission — the boundary check every transaction passes before the mempool.

Order of checks (cheap first, each failure a stable problem code, none with a side effect):
size → decode (limits, canonical) → chain_id → expiry window → contract known → signer
certificate (chain to an organisation root, validity at ``now_ms``, role) → signature →
duplicate (pending or committed). Only a transaction that passes all of them becomes an
``ExecTx``; nothing invalid reaches the mempool, a block or the store.

A signature may also be checked elsewhere first (``preverify.preverify`` in a worker process):
``note_verified`` then records the pair ``(tx id, signature)`` and the signature check passes
for exactly that pair. This is sound because the tx id is the hash of the signed body, and the
body carries the chain id and the signer's certificate (hence its public key): the pair fixes
everything the signature was checked over. Every other check still runs on every admission.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from yulian.crypto.membership import Identity, Membership, MembershipError
from yulian.crypto.suite import Suite
from yulian.execution.executor import ExecTx, SenderInfo
from yulian.types.encoding import DecodeError
from yulian.types.genesis import ChainParams
from yulian.types.tx import MAX_SIGNATURE_BYTES, SignedTx, Tx, tx_sign_bytes

TX_ROLES = ("client", "admin")
# system contracts that nodes themselves call (e.g. to report a validator's equivocation)
NODE_CONTRACTS = frozenset({"misbehaviour"})
# governance contracts: their state-changing methods also check the sender's role themselves
ADMIN_CONTRACTS = frozenset({"consortium", "lifecycle"})
NODE_TX_ROLES = ("client", "admin", "node")


@dataclass
class AdmissionError(Exception):
    """A refused transaction: ``code`` is stable API, ``status`` the HTTP status to answer."""

    code: str
    status: int
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


# tx ids whose signature this node already checked. A pending tx that comes back in a proposal
# is rechecked from the mempool (Replica._txs_for_block); this cache covers the other order (a
# proposal before the gossip) and so only needs to be about the size of a mempool: 200,000
# entries were ~50 MiB of heap that the stability test saw grow for 14 minutes.
VERIFIED_CACHE_SIZE = 30_000
# senders by certificate; a node sees few distinct signers, so past this many it starts over
SENDER_CACHE_SIZE = 10_000


_MEMBERSHIP_STATUS = {
    "malformed_certificate": 400,
    "unknown_ca": 403,
    "organisation_mismatch": 403,
    "certificate_expired": 403,
    "certificate_not_yet_valid": 403,
    "certificate_revoked": 403,
    "role_not_allowed": 403,
}


class Admission:
    def __init__(
        self,
        suite: Suite,
        chain_id: str,
        params: ChainParams,
        membership: Membership,
        *,
        contract_exists: Callable[[str], bool],
        is_known: Callable[[bytes], bool],
        is_known_many: Callable[[Sequence[bytes]], list[bool]] | None = None,
    ) -> None:
        """``is_known(tx_id)``: pending or committed. ``is_known_many(tx_ids)``: the same for a
        batch, one answer per id in order (e.g. the mempool plus one ``Ledger.has_txs`` read);
        without it ``admit_many`` asks ``is_known`` per id."""
        self._suite = suite
        self._chain_id = chain_id
        self._params = params
        self._membership = membership
        self._contract_exists = contract_exists
        self._is_known = is_known
        self._is_known_many = is_known_many
        self._verified: OrderedDict[bytes, bytes] = OrderedDict()  # tx id -> signature
        self._senders: dict[str, SenderInfo] = {}  # identity id -> its sender
        self.signatures_verified = 0  # here or by a verifier process (note_verified): metrics

    @property
    def suite_name(self) -> str:
        """The suite to hand ``preverify`` for the pairs given to ``note_verified``."""
        return self._suite.name

    def reconfigure(self, params: ChainParams, membership: Membership) -> None:
        """A committed block changed the consortium config: check later txs against it."""
        self._params = params
        self._membership = membership

    def admit(self, data: bytes, *, next_height: int, now_ms: int) -> ExecTx:
        """Check ``data`` (an encoded envelope) for the mempool, to be included at
        ``next_height``; also refuses ids that are pending or committed."""
        tx = self.check(data, height=next_height, at_ms=now_ms)
        if self._is_known(tx.tx_id):
            raise _duplicate(tx.tx_id)
        return tx

    def admit_many(
        self, datas: Sequence[bytes], *, next_height: int, now_ms: int
    ) -> list[ExecTx | AdmissionError]:
        """``admit`` for a batch (e.g. one gossip message), with the duplicate check against
        pending and committed txs asked once for the batch (``is_known_many``).

        One verdict per item, in order: the ``ExecTx`` or the ``AdmissionError`` that ``admit``
        would have returned or raised had the caller run, for each item in turn, ``admit``
        and then ``mempool.add`` of each success. A second copy of a tx id within the batch is
        therefore a ``duplicate_tx`` like a pending one. The caller must still, in order:
        refuse up front when the mempool is full (as ``submit`` does), and ``mempool.add``
        each returned ``ExecTx``, handling its ``mempool_full``; nothing here touches the
        mempool. (Only if such an ``add`` fails does the sequence differ: a later copy of that
        tx in the batch reports ``duplicate_tx`` where the sequence would try it again.)
        """
        verdicts: list[ExecTx | AdmissionError] = []
        for data in datas:
            try:
                verdicts.append(self.check(data, height=next_height, at_ms=now_ms))
            except AdmissionError as e:
                verdicts.append(e)
        ids = [v.tx_id for v in verdicts if isinstance(v, ExecTx)]
        if not ids:
            return verdicts
        if self._is_known_many is not None:
            known = self._is_known_many(ids)
            if len(known) != len(ids):
                raise ValueError(f"is_known_many answered {len(known)} of {len(ids)} tx ids")
        else:
            known = [self._is_known(tx_id) for tx_id in ids]
        answers = iter(known)
        seen: set[bytes] = set()
        for i, verdict in enumerate(verdicts):
            if not isinstance(verdict, ExecTx):
                continue
            if next(answers) or verdict.tx_id in seen:
                verdicts[i] = _duplicate(verdict.tx_id)
            else:
                seen.add(verdict.tx_id)
        return verdicts

    def note_verified(self, tx_id: bytes, signature: bytes) -> None:
        """Record that ``signature`` verifies over the body whose hash is ``tx_id`` (a pair
        ``preverify(self.suite_name, ...)`` returned): the next ``check`` of that exact pair
        skips the signature check, and only that. Raises ``ValueError`` for a malformed pair."""
        if type(tx_id) is not bytes or len(tx_id) != self._suite.hash_size:
            raise ValueError(f"tx_id must be {self._suite.hash_size} bytes")
        if type(signature) is not bytes or not 0 < len(signature) <= MAX_SIGNATURE_BYTES:
            raise ValueError(f"signature must be 1 to {MAX_SIGNATURE_BYTES} bytes")
        self.signatures_verified += 1
        self._remember(tx_id, signature)

    def check(self, data: bytes, *, height: int, at_ms: int) -> ExecTx:
        """Every check but the duplicate one, for inclusion at ``height`` at time ``at_ms``.

        Validators run this on the txs of a proposed block with the block's height and time,
        so every honest validator reaches the same verdict.
        """
        self._check_size(len(data))
        try:
            signed = SignedTx.decode(data)
        except DecodeError as e:
            raise AdmissionError("malformed_tx", 400, str(e)) from None
        tx = signed.tx
        if tx.chain_id != self._chain_id:
            raise AdmissionError(
                "wrong_chain", 400, f"tx is for chain {tx.chain_id!r}, this is {self._chain_id!r}"
            )
        identity = self._check_in_force(tx, height, at_ms)
        tx_id = self._suite.hash(signed.body)
        self._verify_once(tx_id, identity.public_key, signed)
        return ExecTx(tx_id, signed, self._sender(identity), bytes(data))

    def recheck(self, tx: ExecTx, *, height: int, at_ms: int) -> ExecTx:
        """``check`` for a tx this node admitted before (``tx`` came out of ``check``): the
        same verdict without decoding, hashing or verifying the same bytes again — only what
        depends on the height, the time or the consortium config is checked anew."""
        self._check_size(len(tx.envelope))
        sender = self._sender(self._check_in_force(tx.signed.tx, height, at_ms))
        return tx if sender == tx.sender else ExecTx(tx.tx_id, tx.signed, sender, tx.envelope)

    def _check_size(self, size: int) -> None:
        if size > self._params.max_tx_bytes:
            raise AdmissionError(
                "tx_too_large", 413, f"{size} bytes exceed the limit of {self._params.max_tx_bytes}"
            )

    def _check_in_force(self, tx: Tx, height: int, at_ms: int) -> Identity:
        """The checks that depend on the height, the time and the consortium config: the
        expiry window, the contract, and the signer's certificate (members, revocations,
        validity, role). Returns the signer."""
        if tx.expires_at < height:
            raise AdmissionError(
                "tx_expired", 400, f"tx expired at height {tx.expires_at}; next block is {height}"
            )
        if tx.expires_at > height + self._params.max_tx_ttl_blocks:
            raise AdmissionError(
                "tx_ttl_too_long",
                400,
                f"expires_at may be at most {self._params.max_tx_ttl_blocks} blocks ahead",
            )
        if not self._contract_exists(tx.contract):
            raise AdmissionError("unknown_contract", 404, f"no contract named {tx.contract!r}")
        roles = NODE_TX_ROLES if tx.contract in NODE_CONTRACTS else TX_ROLES
        try:
            return self._membership.validate(tx.signer, at_ms=at_ms, roles=roles)
        except MembershipError as e:
            raise AdmissionError(e.code, _MEMBERSHIP_STATUS.get(e.code, 403), e.args[0]) from None

    def _verify_once(self, tx_id: bytes, public_key: bytes, signed: SignedTx) -> None:
        """Verify a tx's signature once per node: a tx seen through the API or gossip is not
        verified again when it arrives inside a proposal. The cache is keyed by the tx id (the
        hash of the signed body) *and* the signature bytes, so another signature over the same
        body is still checked."""
        if self._verified.get(tx_id) == signed.signature:
            return
        self.signatures_verified += 1
        if not self._suite.verify(
            public_key, tx_sign_bytes(signed.tx.chain_id, signed.body), signed.signature
        ):
            raise AdmissionError(
                "bad_signature", 401, "the signature does not verify under the signer's certificate"
            )
        self._remember(tx_id, signed.signature)

    def _sender(self, identity: Identity) -> SenderInfo:
        """The sender of ``identity``: a function of its certificate (``identity.id`` hashes
        it), so built once per certificate rather than once per tx."""
        sender = self._senders.get(identity.id)
        if sender is None:
            if len(self._senders) >= SENDER_CACHE_SIZE:
                self._senders.clear()
            sender = SenderInfo(
                org=identity.org, role=identity.role, id=identity.id, attributes=identity.attributes
            )
            self._senders[identity.id] = sender
        return sender

    def _remember(self, tx_id: bytes, signature: bytes) -> None:
        self._verified[tx_id] = signature
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)


def _duplicate(tx_id: bytes) -> AdmissionError:
    return AdmissionError("duplicate_tx", 409, f"tx {tx_id.hex()} was already submitted")
