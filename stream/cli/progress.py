"""A step-by-step progress display on stderr, so stdout stays the command's result.

On a terminal the running step has a spinner; every finished step is printed with its time,
which also makes logs of non-interactive runs (CI, pipes) show where the minutes went.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.status import Status


class StepProgress:
    """Call it with each new step's description; use it as a context manager."""

    def __init__(self, console: Console | None = None) -> None:
        self._console = console or Console(stderr=True, highlight=False)
        self._status: Status | None = None
        self._step: str | None = None
        self._step_started = 0.0
        self._started = 0.0

    def __enter__(self) -> StepProgress:
        self._started = time.monotonic()
        if self._console.is_terminal:
            self._status = self._console.status("starting")
            self._status.start()
        return self

    def __call__(self, message: str) -> None:
        self._finish_step()
        self._step, self._step_started = message, time.monotonic()
        if self._status is not None:
            self._status.update(message)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            self._finish_step()
        elif self._step is not None:
            self._console.print(f"  [red]✗[/red] {self._step}", markup=True)
        if self._status is not None:
            self._status.stop()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def _finish_step(self) -> None:
        if self._step is None:
            return
        took = time.monotonic() - self._step_started
        self._console.print(f"  ✓ {self._step} ({took:.1f} s)", markup=False)
        self._step = None
