"""The contract developer kit: an in-process test harness, the dialect check with advice, and
the scaffold of a new contract (``docs/apps/devkit.md``).

- ``Harness`` (``harness.py``): a chain in memory — real identities, admission, execution,
  metering and lifecycle, block heights and times set by the test; no network.
- ``check_file`` / ``check_source`` (``check.py``): what the lifecycle's compile refuses, as
  ``file:line: message — instead: advice``, and warnings for what compiles but misleads.
- ``new_contract`` (``scaffold.py``): a contract, its harness tests and a README from the
  templates shipped in ``templates/``.
"""

from yulian.devkit.check import Problem, check_file, check_source
from yulian.devkit.harness import CallFailed, CallResult, DeployFailed, EventRecord, Harness
from yulian.devkit.scaffold import ScaffoldError, new_contract

__all__ = [
    "CallFailed",
    "CallResult",
    "DeployFailed",
    "EventRecord",
    "Harness",
    "Problem",
    "ScaffoldError",
    "check_file",
    "check_source",
    "new_contract",
]
