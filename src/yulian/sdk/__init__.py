"""Python SDK: ``Wallet`` (key + certificate), ``Client`` (REST, and the event stream as a
resuming iterator: ``Client.subscribe``), offline ``verify_receipt``; governance calls in
``yulian.sdk.governance``."""

from yulian.sdk.client import ApiError, Client
from yulian.sdk.events import EventSubscription, StreamClosed, StreamRefused, event_filter
from yulian.sdk.governance import GovernanceError
from yulian.sdk.verify import VerificationError, verify_receipt
from yulian.sdk.wallet import Wallet

__all__ = [
    "ApiError",
    "Client",
    "EventSubscription",
    "GovernanceError",
    "StreamClosed",
    "StreamRefused",
    "VerificationError",
    "Wallet",
    "event_filter",
    "verify_receipt",
]
