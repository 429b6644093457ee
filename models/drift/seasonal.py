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
are never counted twice.
"""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass

from models.drift.join import DAY_MS
from models.drift.location import LocationHistory
from models.drift.window import FeatureTally


@dataclass(frozen=True)
class PooledFeatures:
    features: tuple[FeatureTally, ...]
    events: int
    start_ms: int
    full_day: bool
    """True when the pooled windows cover at least a day: only then may they alert."""
    fresh: bool
    """True when this pooled day does not overlap the last one the location state took."""


def add_tallies(a: FeatureTally, b: FeatureTally) -> FeatureTally:
    return FeatureTally(
        bins=a.bins + b.bins,
        unseen=a.unseen + b.unseen,
        missing=a.missing + b.missing,
        rank_sum=a.rank_sum + b.rank_sum,
    )


class TrailingDay:
    def __init__(self) -> None:
        self._windows: deque[tuple[int, int, int, tuple[FeatureTally, ...]]] = deque()
        self._committed_ms: int | None = None
        """End of the last pooled day the location state advanced with."""

    def add(
        self, start_ms: int, end_ms: int, events: int, features: tuple[FeatureTally, ...]
    ) -> PooledFeatures:
        windows = self._windows
        windows.append((start_ms, end_ms, events, features))
        # Drop the oldest window only while the next one still reaches back a day: the pool
        # covers at least a day (count windows do not start on boundaries), at most a window more.
        while len(windows) > 1 and windows[1][0] <= end_ms - DAY_MS:
            windows.popleft()
        pooled = list(windows[0][3])
        for _, _, _, tallies in list(windows)[1:]:
            pooled = [add_tallies(a, b) for a, b in zip(pooled, tallies, strict=True)]
        full_day = windows[0][0] <= end_ms - DAY_MS
        fresh = full_day and (self._committed_ms is None or end_ms - self._committed_ms >= DAY_MS)
        if fresh:
            self._committed_ms = end_ms
        events = sum(w[2] for w in windows)
        return PooledFeatures(tuple(pooled), events, windows[0][0], full_day, fresh)


def history_for(history: LocationHistory, fresh: bool) -> LocationHistory:
    """The feature's location state itself on a fresh day, else a throw-away copy."""
    return history if fresh else copy.deepcopy(history)
