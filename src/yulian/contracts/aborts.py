"""Introduction: the ways an invocation ends early.

Every abort derives from ``ContractAbort``, a ``BaseException``: no ``except Exception`` in host
code can swallow one, and contract code has no ``try`` at all. The runtime maps each class to a
receipt status: ``OutOfSteps`` (and its subclasses) to ``out_of_steps`` with the whole budget
spent, ``SandboxFault`` (and its subclasses) to ``fault`` with the class name and message.
"""

from __future__ import annotations


class ContractAbort(BaseException):
    """Ends an invocation. Never caught by contract code (which has no ``try``)."""


class OutOfSteps(ContractAbort):
    """The step budget is spent."""


class CallDepthExceeded(OutOfSteps):
    """Calls nested deeper than ``MAX_CALL_DEPTH``; reported as out of steps."""


class ResourceExhausted(OutOfSteps):
    """A result past a hard memory cap (int bits, text or container length): no step budget
    can buy it, so it is reported as out of steps."""


class SandboxFault(ContractAbort):
    """A deterministic refusal by the sandbox; its message is part of the receipt."""


class LimitExceeded(SandboxFault):
    """A rule of the sandbox's boundary: nesting depth, format width, host value sizes."""


class AccessDenied(SandboxFault):
    """An attribute, item, iteration or conversion outside the allowlist."""


class InvalidValue(SandboxFault):
    """A value the host cannot accept (not encodable, bad key, bad type)."""


class ForbiddenOperation(SandboxFault):
    """An operation the dialect forbids that only shows at run time (floats, %-formatting)."""
