"""Windows shorter than a day: features judged over the trailing day, not the window alone.

The training profile covers whole days. A window of a few hours holds that time of day only:
on clean simulated traffic, 95 of 101 windows of 1,000 events (~10 h each) alerted, nearly all
on card_secs_since_last (gaps between a card's payments are long overnight), and 28 of 31
judged 6-hour windows did. Same-hour references would need hour-by-hour profiles in the package
(not built). Instead, a short window's feature statistics are computed on the counts of every
window back to the one that reaches 24 h before this one's end: a whole daily cycle, like the
profile, updated at each short window. (The score and decision rates already pool a trailing span.)

Until a full day has been seen, a short window's features are reported but not alerted on.
A sudden shift shows in a share of the pooled day at first and in all of it after 24 h. The
location tests remember one state per day: the CUSUM and the two-windows rule advance once per
day of windows (a fresh, non-overlapping day), and in between read a copy, so overlapping days
are never counted twice. Raw-field quality (models.drift.quality) is pooled the same way
(coordinates and device hashes are filled mostly online, whose share follows the hour) and
learns its baseline from non-overlapping days only.

The pool is kept as running totals: a closing window is added and the windows that fell out of
the day subtracted, so each close costs one window's counts whatever the number of windows a
day holds (re-summing the whole day at each close cost windows-per-day squared a day: at 1M
events a day in 2,500-event windows, 400 windows summed 400 times).
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass

from models.drift.join import DAY_MS
from models.drift.location import LocationHistory
from models.drift.quality import FieldTally
from models.drift.window import FeatureTally


@dataclass(frozen=True)
class _Window:
    start_ms: int
    end_ms: int
    events: int
    features: tuple[FeatureTally, ...]
    fields: FieldTally | None


@dataclass(frozen=True)
class PooledFeatures:
    features: tuple[FeatureTally, ...]
    fields: FieldTally | None
    events: int
    start_ms: int
    full_day: bool
    """True when the pooled windows cover at least a day: only then may they alert."""
    fresh: bool
    """True when this pooled day does not overlap the last one the location state took."""


def add_tallies(a: FeatureTally, b: FeatureTally, sign: int = 1) -> FeatureTally:
    """a + b, or a - b with `sign` -1 (b's counts are part of a)."""
    return FeatureTally(
        bins=a.bins + sign * b.bins,
        unseen=a.unseen + sign * b.unseen,
        missing=a.missing + sign * b.missing,
        rank_sum=a.rank_sum + sign * b.rank_sum,
    )


class TrailingDay:
    def __init__(self) -> None:
        self._windows: deque[_Window] = deque()
        self._committed_ms: int | None = None
        """End of the last pooled day the location state advanced with."""
        # Running totals of the windows in the deque.
        self._features: tuple[FeatureTally, ...] = ()
        self._fields: FieldTally | None = None
        self._events = 0

    def add(
        self,
        start_ms: int,
        end_ms: int,
        events: int,
        features: tuple[FeatureTally, ...],
        fields: FieldTally | None = None,
    ) -> PooledFeatures:
        """The pooled day up to this window. Its `fields` is the running total itself: read it
        before the next `add`."""
        windows = self._windows
        window = _Window(start_ms, end_ms, events, features, fields)
        windows.append(window)
        self._count(window, 1)
        # Drop the oldest window only while the next one still reaches back a day: the pool
        # covers at least a day (count windows do not start on boundaries), at most a window more.
        while len(windows) > 1 and windows[1].start_ms <= end_ms - DAY_MS:
            self._count(windows.popleft(), -1)
        full_day = windows[0].start_ms <= end_ms - DAY_MS
        fresh = full_day and (self._committed_ms is None or end_ms - self._committed_ms >= DAY_MS)
        if fresh:
            self._committed_ms = end_ms
        return PooledFeatures(
            self._features, self._fields, self._events, windows[0].start_ms, full_day, fresh
        )

    def _count(self, window: _Window, sign: int) -> None:
        self._events += sign * window.events
        if not self._features:
            self._features = window.features
        else:
            self._features = tuple(
                add_tallies(total, part, sign)
                for total, part in zip(self._features, window.features, strict=True)
            )
        if window.fields is None:
            return
        if self._fields is None:
            self._fields = FieldTally(
                window.fields.max_keys, window.fields.bounds, window.fields.features
            )
        if sign > 0:
            self._fields.include(window.fields)
        else:
            self._fields.exclude(window.fields)


def history_for(history: LocationHistory, fresh: bool) -> LocationHistory:
    """The feature's location state itself on a fresh day, else a throw-away copy."""
    return history if fresh else copy.deepcopy(history)
