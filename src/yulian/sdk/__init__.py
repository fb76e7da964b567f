"""Python SDK: ``Wallet`` (key + certificate), ``Client`` (REST), offline ``verify_receipt``;
governance calls in ``yulian.sdk.governance``."""

from yulian.sdk.client import ApiError, Client
from yulian.sdk.governance import GovernanceError
from yulian.sdk.verify import VerificationError, verify_receipt
from yulian.sdk.wallet import Wallet

__all__ = [
    "ApiError",
    "Client",
    "GovernanceError",
    "VerificationError",
    "Wallet",
    "verify_receipt",
]
