"""Introduction: a node runs with a secret hash seed, or not at all.

Contracts use dicts whose keys are str or bytes (``contracts/guards.py`` refuses every other
key, because an int's hash is the int itself). CPython hashes str and bytes with SipHash under
a key drawn at random for each process, so no one can choose keys that collide in a node's
dicts. A fixed ``PYTHONHASHSEED`` fixes that key: ``0`` switches the randomisation off, any
other value makes the key one of 2^32 known ones, and a contract author who knows or guesses
it can fill a dict with keys that all land in one probe sequence, making every insert and
lookup scan them all — work the metering does not see. Execution itself does not depend on
the seed (no contract can observe a hash or a set's order), so a node loses nothing by it
being random; it is refused at start-up (decision 0073).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

VARIABLE = "PYTHONHASHSEED"


def fixed_hash_seed(environ: Mapping[str, str] | None = None, flags: Any = None) -> str | None:
    """The fixed seed this process hashes str and bytes with, or None when it is random."""
    environ = os.environ if environ is None else environ
    flags = sys.flags if flags is None else flags
    if not flags.hash_randomization:
        return environ.get(VARIABLE, "0") or "0"
    value = environ.get(VARIABLE, "")
    if flags.ignore_environment or value in ("", "random"):
        return None
    return value


def refusal(environ: Mapping[str, str] | None = None, flags: Any = None) -> str | None:
    """Why a node must not start under this process's hash seed, or None."""
    seed = fixed_hash_seed(environ, flags)
    if seed is None:
        return None
    return (
        f"{VARIABLE}={seed} fixes the key str and bytes are hashed with, so dict keys in "
        f"contracts could be chosen to collide; unset {VARIABLE} (or set it to 'random') "
        "and start the node again"
    )
