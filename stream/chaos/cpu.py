"""How busy the machine was, second by second: the CPU of the broker, the workers and the load.

A roll or a kill costs more fallbacks the less headroom the cores have (at 500 events/s on two
cores the broker and two workers already took ~85 %: docs/reliability.md), so a chaos run
reports the CPU beside its fallbacks. Read from `/proc/<pid>/stat` (user + system time) every
half second, for the broker, every worker process this run started (old processes and warm
successors alike) and this process (the load generator and the checks). A process is counted
from the first sample that sees it; the CPU it used before that (at most one interval) is not.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

PROC = Path("/proc")
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, proc: Path = PROC) -> float | None:
    """User + system CPU time of `pid` so far; None once it is gone."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ")".
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


class CpuSampler:
    """Samples in a thread of its own; `by_second` says % of one core per group and second."""

    def __init__(
        self, groups: Callable[[], dict[str, list[int]]], t0: float, interval_s: float = 0.5
    ) -> None:
        self._groups = groups
        self._t0 = t0  # time.monotonic() of the load's start: seconds as the progress lines'
        self._interval_s = interval_s
        self._last: dict[int, float] = {}
        self._last_at: float | None = None
        self._used: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        # Wall time the second's samples covered: a rate, whichever second a sample lands in.
        self._span: dict[int, float] = defaultdict(float)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def sample(self, now: float) -> None:
        second = int(now - self._t0)
        if self._last_at is not None:
            self._span[second] += now - self._last_at
        self._last_at = now
        for group, pids in self._groups().items():
            for pid in pids:
                used = cpu_seconds(pid)
                if used is None:
                    continue
                before = self._last.get(pid)
                self._last[pid] = used
                if before is not None:
                    self._used[second][group] += used - before

    def by_second(self) -> dict[int, dict[str, float]]:
        """% of one core each group used, by second since the load began."""
        return {
            second: {
                group: round(100 * used / self._span[second], 1) for group, used in groups.items()
            }
            for second, groups in sorted(self._used.items())
            if self._span[second] > 0
        }

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.sample(time.monotonic())


def median_before(
    by_second: dict[int, dict[str, float]], end: int, skip: int = 5
) -> dict[str, float]:
    """Each group's median % of a core over seconds [skip, end): steady load before a
    disruption (the first seconds hold the start-up's own costs; a short run skips at most its
    first half)."""
    skip = min(skip, end // 2)
    seconds = [s for s in by_second if skip <= s < end]
    groups = sorted({g for s in seconds for g in by_second[s]})
    return {
        group: round(statistics.median(by_second[s].get(group, 0.0) for s in seconds), 1)
        for group in groups
    }
