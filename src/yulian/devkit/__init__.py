"""The contract developer kit: an in-process test harness, the dialect check with advice, and
the scaffold of a new contract.

- ``Harness`` (``harness.py``): a chain in memory — real identities, admission, execution,
  metering and lifecycle, block heights and times set by the test; no network.
- ``check_source`` / ``check_file`` (``check.py``): the dialect checker's verdict as
  ``file:line: message`` problems that say what to write instead.
- ``new_contract`` (``scaffold.py``): a contract, its harness tests and a README from the
  templates shipped in ``templates/``.
"""

from yulian.devkit.harness import CallFailed, CallResult, DeployFailed, EventRecord, Harness

__all__ = ["CallFailed", "CallResult", "DeployFailed", "EventRecord", "Harness"]
