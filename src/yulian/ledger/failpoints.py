"""Named crash points for crash-consistency tests.

Introduction
------------
``failpoint(name)`` is a no-op unless ``name`` is enabled; an enabled failpoint kills the current
process at once with ``SIGKILL`` — no ``finally`` blocks, no ``atexit``, no buffered flushes —
which is what a power cut or ``kill -9`` does to a node. Tests then restart the node (or reopen
the store) and check that nothing acknowledged was lost and nothing partial is visible.

Enabling
--------
* The environment variable ``YULIAN_FAILPOINTS``, read once at import: a comma-separated list of
  specs. A spec is ``name`` (crash on the first hit) or ``name@N`` (crash on the N-th hit of
  that name in this process, N >= 1), e.g. ``YULIAN_FAILPOINTS=commit.after_write@5``.
* ``configure(specs)`` replaces the enabled set at run time (hit counters restart at zero);
  ``configure(())`` disables everything.

Failpoints of the ledger commit path (in the order they are reached in ``commit_block``):

* ``commit.before_write`` — the block is validated, no write transaction has begun;
* ``commit.after_block``  — inside the transaction: block, commit, hash and root are written;
* ``commit.after_state``  — inside the transaction: everything but the head is written;
* ``commit.after_write``  — the transaction is committed and synced (the block is durable).

Other modules (consensus WAL, safety) may call ``failpoint`` with their own names.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable

__all__ = [
    "COMMIT_AFTER_BLOCK",
    "COMMIT_AFTER_STATE",
    "COMMIT_AFTER_WRITE",
    "COMMIT_BEFORE_WRITE",
    "COMMIT_FAILPOINTS",
    "ENV_VAR",
    "configure",
    "enabled",
    "failpoint",
    "parse_specs",
]

ENV_VAR = "YULIAN_FAILPOINTS"

COMMIT_BEFORE_WRITE = "commit.before_write"
COMMIT_AFTER_BLOCK = "commit.after_block"
COMMIT_AFTER_STATE = "commit.after_state"
COMMIT_AFTER_WRITE = "commit.after_write"
#: The ledger's failpoints, in the order ``commit_block`` reaches them.
COMMIT_FAILPOINTS = (
    COMMIT_BEFORE_WRITE,
    COMMIT_AFTER_BLOCK,
    COMMIT_AFTER_STATE,
    COMMIT_AFTER_WRITE,
)

#: Exit status used if SIGKILL somehow does not end the process (128 + 9, as a shell reports).
_FALLBACK_EXIT_STATUS = 137
_MAX_SPECS = 64

# name -> the hit number (1-based) on which to crash; name -> hits so far.
_crash_on_hit: dict[str, int] = {}
_hits: dict[str, int] = {}


def parse_specs(text: str) -> dict[str, int]:
    """Parse ``"a,b@3"`` into ``{"a": 1, "b": 3}``; raise ``ValueError`` on a malformed spec."""
    result: dict[str, int] = {}
    for raw in text.split(","):
        spec = raw.strip()
        if not spec:
            continue
        name, sep, count = spec.partition("@")
        name = name.strip()
        if not name or not name.isprintable() or " " in name:
            raise ValueError(f"malformed failpoint spec {spec!r}")
        hit = 1
        if sep:
            if not count.strip().isdigit() or int(count) < 1:
                raise ValueError(f"failpoint hit count must be an int >= 1 in {spec!r}")
            hit = int(count)
        result[name] = hit
    if len(result) > _MAX_SPECS:
        raise ValueError(f"more than {_MAX_SPECS} failpoints enabled")
    return result


def configure(specs: Iterable[str] | str) -> None:
    """Enable exactly ``specs`` (names or ``name@N``; a str is parsed as the env var is)."""
    text = specs if isinstance(specs, str) else ",".join(specs)
    parsed = parse_specs(text)
    _crash_on_hit.clear()
    _crash_on_hit.update(parsed)
    _hits.clear()


def enabled() -> dict[str, int]:
    """The enabled failpoints: name -> the hit number on which they crash."""
    return dict(_crash_on_hit)


def failpoint(name: str) -> None:
    """Kill this process now if ``name`` is enabled and this is its configured hit."""
    if not _crash_on_hit:
        return
    crash_on = _crash_on_hit.get(name)
    if crash_on is None:
        return
    hit = _hits.get(name, 0) + 1
    _hits[name] = hit
    if hit == crash_on:
        _crash_now()


def _crash_now() -> None:
    os.kill(os.getpid(), signal.SIGKILL)
    os._exit(_FALLBACK_EXIT_STATUS)  # pragma: no cover - SIGKILL does not return


configure(os.environ.get(ENV_VAR, ""))
