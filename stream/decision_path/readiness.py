"""How long a worker took to become ready: from its process start, imports included."""

from __future__ import annotations

import os
import time
from pathlib import Path


def process_age_s(proc: Path = Path("/proc")) -> float | None:
    """Seconds since this process started, from /proc (None where there is no /proc)."""
    try:
        fields = (proc / "self" / "stat").read_text().rsplit(")", 1)[1].split()
        uptime_s = float((proc / "uptime").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    # Field 22 of stat (the 20th after the command name): start time in ticks since boot.
    started_s = int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return max(uptime_s - started_s, 0.0)


class ReadyClock:
    """Remembers when the worker first said ready; the operator's figure is the process's age
    then (a restart's whole cost: imports, model load, recovery, warm-up)."""

    def __init__(self) -> None:
        age = process_age_s()
        self._started = time.monotonic() - (age if age is not None else 0.0)
        self.seconds: float | None = None

    def mark_ready(self) -> float:
        if self.seconds is None:
            self.seconds = time.monotonic() - self._started
        return self.seconds
