"""Introduction: what happens to a contract once, at deploy time.

``dialect`` checks the source against the AST allowlist and normalises it; ``instrument``
decides where the running code pays (block charges, call depth, guarded operators). The
runtime (``contracts.runtime``) runs both, then RestrictedPython, and compiles the result.
"""
