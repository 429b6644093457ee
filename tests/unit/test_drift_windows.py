"""Count and time windows: exact boundaries, late events, and counting across chunks."""

from __future__ import annotations

import numpy as np
import pytest

from models.drift import WindowSpec
from models.drift.window import WindowAccumulator, Windowing
from models.profile import bin_index
from schemas.drift import WindowKind
from tests.support.drift_data import DAY_MS, HOUR_MS, MISSING, T0_MS, event, reference


def test_a_count_window_closes_with_its_last_event() -> None:
    windows = Windowing(WindowSpec(WindowKind.COUNT, events=3), reference())
    closed = []
    for index in range(7):
        assert windows.due(T0_MS + index) is None  # count windows never close before an event
        windows.add(event(index), None)
        tally = windows.full()
        if tally is not None:
            closed.append((index, tally.n, tally.start_ms, tally.end_ms))
    assert closed == [
        (2, 3, T0_MS, T0_MS + 2000),
        (5, 3, T0_MS + 3000, T0_MS + 5000),
    ]
    assert windows.open_events == 1


def test_a_time_window_closes_when_an_event_reaches_its_end() -> None:
    spec = WindowSpec(WindowKind.TIME, length_ms=HOUR_MS)
    windows = Windowing(spec, reference())
    times = [T0_MS + 10, T0_MS + HOUR_MS - 1, T0_MS + HOUR_MS, T0_MS + 3 * HOUR_MS + 5]
    closed = []
    for index, at in enumerate(times):
        tally = windows.due(at)
        if tally is not None:
            closed.append((tally.start_ms, tally.end_ms, tally.n))
        windows.add(event(index, event_ms=at), None)
        assert windows.full() is None
    # [T0, T0+1h) holds two events; the event at T0+1h opens the next window; empty hours
    # in between produce no report.
    assert closed == [(T0_MS, T0_MS + HOUR_MS, 2), (T0_MS + HOUR_MS, T0_MS + 2 * HOUR_MS, 1)]
    last = windows.close()
    assert last is not None
    assert (last.start_ms, last.n) == (T0_MS + 3 * HOUR_MS, 1)
    assert windows.close() is None


def test_time_windows_are_aligned_to_the_epoch() -> None:
    spec = WindowSpec(WindowKind.TIME, length_ms=DAY_MS)
    assert spec.start_of(T0_MS + 5 * HOUR_MS) == T0_MS  # T0 is midnight UTC
    windows = Windowing(spec, reference())
    windows.add(event(0, event_ms=T0_MS + 5 * HOUR_MS), None)
    tally = windows.close()
    assert tally is not None
    assert (tally.start_ms, tally.end_ms) == (T0_MS, T0_MS + DAY_MS)


def test_an_event_older_than_the_open_window_counts_in_it_as_late() -> None:
    windows = Windowing(WindowSpec(WindowKind.TIME, length_ms=HOUR_MS), reference())
    windows.add(event(0, event_ms=T0_MS + HOUR_MS + 1), None)
    assert windows.due(T0_MS + 5) is None
    windows.add(event(1, event_ms=T0_MS + 5), None)
    tally = windows.close()
    assert tally is not None
    assert (tally.n, tally.late) == (2, 1)


def test_counts_across_chunks_equal_binning_everything_at_once() -> None:
    rng = np.random.default_rng(3)
    amounts = rng.uniform(0, 40, 1000)
    amounts[::17] = MISSING
    channels = rng.choice([0.0, 1.0, 2.0, 5.0], 1000, p=[0.5, 0.3, 0.15, 0.05])
    scores = rng.uniform(0, 1, 1000)
    accumulator = WindowAccumulator(reference(), chunk_rows=64)
    for index in range(1000):
        outcome = "REVIEW" if scores[index] > 0.9 else "APPROVE"
        accumulator.add(
            event(index, float(amounts[index]), float(channels[index])),
            (float(scores[index]), outcome),
        )
    tally = accumulator.close(WindowKind.COUNT, T0_MS, T0_MS + 999_000)
    present = amounts[~np.isnan(amounts)]
    expected = np.bincount(bin_index(present, [10.0, 20.0, 30.0]), minlength=4)
    assert tally.features[0].bins.tolist() == expected.tolist()
    assert tally.features[0].missing == int(np.isnan(amounts).sum())
    assert tally.features[1].bins.tolist() == [
        int((channels == code).sum()) for code in (0.0, 1.0, 2.0)
    ]
    assert tally.features[1].unseen == int((channels == 5.0).sum())
    prediction = tally.prediction
    assert prediction.score_bins is not None
    assert (
        prediction.score_bins.tolist()
        == np.bincount(bin_index(scores, [0.1, 0.5]), minlength=3).tolist()
    )
    assert prediction.scores == 1000
    assert prediction.score_sum == pytest.approx(scores.sum())
    assert prediction.outcomes["REVIEW"] == int((scores > 0.9).sum())
    # Closing starts afresh.
    assert accumulator.close(WindowKind.COUNT, 0, 0).n == 0


def test_window_spec_refuses_empty_windows() -> None:
    with pytest.raises(ValueError, match="at least one event"):
        WindowSpec(WindowKind.COUNT, events=0)
