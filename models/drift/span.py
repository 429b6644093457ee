"""The stretch of traffic the score and decision rates are compared over: whole weeks.

A model that reads calendar features scores a Saturday unlike a Tuesday and 3 a.m. unlike
3 p.m., so its score distribution matches the validation profile only over whole weekly cycles
(models.drift.monitor). With daily (or longer) windows the span is the last `span` windows: a
week by default. Windows shorter than a day (hourly, or counts that fill in hours at volume)
would make that a few hours: at ~24,000 events a day in hourly windows, the last 7 windows held
~7,000 events, enough to judge, and clean traffic raised score-PSI and REVIEW-rate alarms in 27
of 1,031 windows (docs/drift.md). So for those the span is the last `span` days of windows by
event time, and it is full (may alert) only once the monitor has seen that many days.

Kept as a running total: a closing window is added and the windows that fell out subtracted,
so each close costs one window's counts whatever the number of windows a week holds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from models.drift.join import DAY_MS
from models.drift.window import PredictionTally


@dataclass(frozen=True)
class SpanTotal:
    tally: PredictionTally
    windows: int
    full: bool
    """True when the span covers its whole period: only then may it alert."""


class PredictionSpan:
    def __init__(self, span: int, windows_are_days: bool) -> None:
        """`span`: windows when `windows_are_days` (each window a day or longer), else days."""
        if span < 1:
            raise ValueError("the prediction span must be at least one window or day")
        self._span = span
        self._by_time = not windows_are_days
        self._windows: deque[tuple[int, PredictionTally]] = deque()
        self._total: PredictionTally | None = None
        self._first_start_ms: int | None = None

    def add(self, start_ms: int, end_ms: int, tally: PredictionTally) -> SpanTotal:
        """A closed window's predictions; returns the span's total ending with it."""
        if self._first_start_ms is None:
            self._first_start_ms = start_ms
        self._windows.append((start_ms, tally))
        self._total = tally if self._total is None else self._total + tally
        if self._by_time:
            since_ms = end_ms - self._span * DAY_MS
            while len(self._windows) > 1 and self._windows[0][0] < since_ms:
                self._total = self._total - self._windows.popleft()[1]
            full = self._first_start_ms <= since_ms
        else:
            while len(self._windows) > self._span:
                self._total = self._total - self._windows.popleft()[1]
            full = len(self._windows) == self._span
        return SpanTotal(self._total, len(self._windows), full)
