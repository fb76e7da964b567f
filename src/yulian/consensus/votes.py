"""Introduction: commit certificates — creating and verifying them.

Invariant: a certificate verifies only if its signatures are from distinct validators of the
validator set of its height, each signature is a valid precommit over exactly
``(chain_id, height, round, block_hash)``, and the signers' voting power is strictly more than
two thirds of the set's total power. Verification is offline: the set and the suite are inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from yulian.crypto.suite import Suite
from yulian.types.commit import PRECOMMIT, CommitCertificate, CommitSignature, vote_sign_bytes
from yulian.types.genesis import Validator


class InvalidCommit(ValueError):
    """A commit certificate that does not prove its block; the message names the reason."""


@dataclass(frozen=True)
class ValidatorSet:
    """The validators of one height. A validator whose key is revoked keeps its power in the
    total (until governance removes it) but its signatures no longer count: ``signer`` is
    ``None`` for it."""

    validators: tuple[Validator, ...]
    revoked_keys: frozenset[tuple[str, bytes]] = frozenset()  # (org, public key)

    def __post_init__(self) -> None:
        names = [v.name for v in self.validators]
        assert len(set(names)) == len(names), "validator names are unique"

    def by_name(self, name: str) -> Validator | None:
        return next((v for v in self.validators if v.name == name), None)

    def signer(self, name: str) -> Validator | None:
        """The validator ``name`` if its signatures count at this height."""
        validator = self.by_name(name)
        if validator is None or (validator.org, validator.public_key) in self.revoked_keys:
            return None
        return validator

    @property
    def total_power(self) -> int:
        return sum(v.power for v in self.validators)

    def quorum(self) -> int:
        """The least voting power that is strictly more than two thirds of the total."""
        return self.total_power * 2 // 3 + 1


def sign_commit(
    chain_id: str,
    height: int,
    round_: int,
    block_hash: bytes,
    signers: Sequence[tuple[str, Callable[[bytes], bytes]]],
) -> CommitCertificate:
    """A certificate from precommit signatures of ``signers`` (name, sign function)."""
    message = vote_sign_bytes(chain_id, PRECOMMIT, height, round_, block_hash)
    signatures = tuple(
        CommitSignature(validator=name, signature=sign(message))
        for name, sign in sorted(signers, key=lambda s: s[0])
    )
    return CommitCertificate(
        height=height, round=round_, block_hash=block_hash, signatures=signatures
    )


def verify_commit(
    suite: Suite,
    chain_id: str,
    validators: ValidatorSet,
    cert: CommitCertificate,
    *,
    height: int,
    block_hash: bytes,
) -> None:
    """Raise ``InvalidCommit`` unless ``cert`` proves ``block_hash`` at ``height``."""
    if cert.height != height:
        raise InvalidCommit(f"certificate is for height {cert.height}, expected {height}")
    if cert.block_hash != block_hash:
        raise InvalidCommit("certificate is for another block hash")
    message = vote_sign_bytes(chain_id, PRECOMMIT, cert.height, cert.round, cert.block_hash)
    seen: set[str] = set()
    power = 0
    for sig in cert.signatures:
        if sig.validator in seen:
            raise InvalidCommit(f"validator {sig.validator} signed twice")
        seen.add(sig.validator)
        validator = validators.signer(sig.validator)
        if validator is None:
            why = "is revoked" if validators.by_name(sig.validator) else "is not a validator"
            raise InvalidCommit(f"signer {sig.validator} {why} at height {height}")
        if not suite.verify(validator.public_key, message, sig.signature):
            raise InvalidCommit(f"bad signature from validator {sig.validator}")
        power += validator.power
    if power < validators.quorum():
        raise InvalidCommit(
            f"signers hold {power} of {validators.total_power} voting power; "
            f"{validators.quorum()} needed"
        )
