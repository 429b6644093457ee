"""The score and decision-rate span: whole weeks, whatever the windows' length."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from models.drift.join import DAY_MS
from models.drift.span import PredictionSpan
from models.drift.window import PredictionTally

HOUR_MS = 3_600_000


def _tally(index: int) -> PredictionTally:
    """One window's predictions, distinct per window so that sums show which are in."""
    return PredictionTally(
        np.array([index, 1], dtype=np.int64),
        0.5 * index,
        index + 1,
        Counter({"APPROVE": index + 1, "REVIEW": index % 3}),
    )


def _sum(indices: range) -> PredictionTally:
    total = _tally(indices[0])
    for index in indices[1:]:
        total = total + _tally(index)
    return total


def test_hourly_windows_are_compared_over_the_last_week_and_only_once_one_was_seen() -> None:
    span = PredictionSpan(7, windows_are_days=False)
    hours = 9 * 24
    totals = [span.add(h * HOUR_MS, (h + 1) * HOUR_MS, _tally(h)) for h in range(hours)]
    week = 7 * 24
    # Full only when the first window starts a whole week before the newest one's end.
    assert [t.full for t in totals].index(True) == week - 1
    assert not any(t.full for t in totals[: week - 1])
    last = totals[-1]
    assert last.windows == week
    expected = _sum(range(hours - week, hours))
    assert last.tally.score_bins is not None and expected.score_bins is not None
    assert last.tally.score_bins.tolist() == expected.score_bins.tolist()
    assert (last.tally.scores, last.tally.outcomes) == (expected.scores, expected.outcomes)
    assert last.tally.score_sum == pytest.approx(expected.score_sum)


def test_daily_windows_keep_the_last_n_windows() -> None:
    span = PredictionSpan(3, windows_are_days=True)
    totals = [span.add(d * DAY_MS, (d + 1) * DAY_MS, _tally(d)) for d in range(5)]
    assert [t.windows for t in totals] == [1, 2, 3, 3, 3]
    assert [t.full for t in totals] == [False, False, True, True, True]
    assert totals[-1].tally.scores == _sum(range(2, 5)).scores


def test_a_count_window_longer_than_the_span_is_kept_alone() -> None:
    # Count windows at a trickle of traffic can outlast the whole span.
    span = PredictionSpan(1, windows_are_days=False)
    span.add(0, DAY_MS // 2, _tally(0))
    total = span.add(DAY_MS // 2, 3 * DAY_MS, _tally(1))
    assert (total.windows, total.full, total.tally.scores) == (1, True, _tally(1).scores)


def test_a_span_needs_a_window_or_a_day() -> None:
    with pytest.raises(ValueError):
        PredictionSpan(0, windows_are_days=True)
