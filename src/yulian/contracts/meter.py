"""Introduction: the meter — the step budget and call depth of one invocation.

Contract code is charged only by the calls the instrumented code and the guards make it
perform, never by bytecode counting or tracing, so a step means the same thing on every
CPython version (see ``costs`` for the rates).

Invariant: ``Meter.used <= Meter.limit`` always; going over raises ``OutOfSteps`` instead.
"""

from __future__ import annotations

from yulian.contracts.aborts import CallDepthExceeded, OutOfSteps, ResourceExhausted
from yulian.contracts.costs import (
    BYTES_PER_STEP,
    CALL_STEPS,
    ITEMS_PER_STEP,
    LOOP_STEPS,
    MAX_CALL_DEPTH,
    MAX_CONTAINER_LEN,
    MAX_STR_LEN,
    WIDE_CHAR_BYTES,
)


class Meter:
    """Counts the steps and the call depth of one invocation, and the in-place changes to
    containers (``mutations``: the host may reuse what it exported of a value only while no
    container changed since)."""

    __slots__ = ("budget", "depth", "limit", "mutations", "used")

    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError("step limit must be positive")
        self.limit = limit
        self.budget = limit  # the transaction's whole budget: a callee's limit is what is left
        self.used = 0
        self.depth = 0
        self.mutations = 0

    def charge(self, steps: int) -> None:
        used = self.used + steps
        if used > self.limit:
            self.used = self.limit
            raise OutOfSteps(f"step limit of {self.budget} exceeded")
        self.used = used

    def tick(self) -> None:
        """One item pulled by an iteration."""
        self.charge(LOOP_STEPS)

    def pay(self, steps: int) -> bool:
        """A block's charge; true, so that it can stand as a comprehension condition."""
        self.charge(steps)
        return True

    def enter(self) -> None:
        self.charge(CALL_STEPS)
        self.depth += 1
        if self.depth > MAX_CALL_DEPTH:
            raise CallDepthExceeded(f"call depth limit of {MAX_CALL_DEPTH} exceeded")

    def leave(self) -> None:
        self.depth -= 1

    def charge_chars(self, n: int, wide: bool = False) -> None:
        """Charge for creating a str/bytes of ``n`` chars (``wide``: a str not all ASCII, up to
        4 bytes a char), then enforce the cap."""
        # text_units(n, wide), inline: this runs for every text a contract makes
        self.charge(1 + (n * WIDE_CHAR_BYTES if wide else n) // BYTES_PER_STEP)
        if n > MAX_STR_LEN:
            raise ResourceExhausted(f"string longer than {MAX_STR_LEN}")

    def charge_items(self, n: int) -> None:
        """Charge for creating a container of ``n`` items, then enforce the cap."""
        self.charge(1 + n // ITEMS_PER_STEP)
        if n > MAX_CONTAINER_LEN:
            raise ResourceExhausted(f"container longer than {MAX_CONTAINER_LEN}")
