"""Introduction: the bench process at the terminal — its console, progress bar and SIGTERM.

``console`` prints the tables at the terminal's width, or 120 columns into a file or pipe;
``RichProgress`` turns the load driver's progress reports into a bar on stderr;
``sigterm_as_exit`` makes a SIGTERM unwind like Ctrl-C, so the ``finally`` that stops the
network's processes runs also when the bench itself is terminated.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any


def console() -> Any:
    """A rich console for the tables (stdout)."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=120)


def progress_bar(enabled: bool) -> contextlib.AbstractContextManager[RichProgress | None]:
    """A progress bar on stderr when ``enabled`` and stderr is a terminal, else none."""
    if enabled and sys.stderr.isatty():
        return RichProgress()
    return contextlib.nullcontext()


class RichProgress:
    """A rich progress bar fed by the driver's progress reports (on stderr)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.progress.add_task("starting", total=None, info="")

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def __call__(self, s: dict[str, Any]) -> None:
        if s.get("setup"):
            self.progress.update(self.task, description=s["phase"], total=None, info="")
            return
        if s.get("planned_s"):
            total, done = float(s["planned_s"]), min(float(s["elapsed"]), float(s["planned_s"]))
        else:
            total, done = float(s["planned_txs"]), float(s["committed"])
        self.progress.update(
            self.task,
            description=f"bench: {s['phase']}",
            total=total,
            completed=done,
            info=f"sent {s['submitted']:,} committed {s['committed']:,} ({s['tps']:,.0f} tx/s)",
        )


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """Turn SIGTERM into ``SystemExit`` while a run lasts, so that ``finally`` stops the
    network's processes also when the bench itself is terminated."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
