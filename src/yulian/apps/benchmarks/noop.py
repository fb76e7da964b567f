# mypy: ignore-errors
"""noop: a signed tx whose contract does nothing — the ceiling of the pipeline itself."""


def noop(ctx):
    return None
