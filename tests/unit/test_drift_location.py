"""The location test and the creep detector on the training percentile sketch."""

from __future__ import annotations

import numpy as np
import pytest

from models.drift.compare import feature_drift
from models.drift.location import (
    Cusum,
    LocationHistory,
    LocationShift,
    between_chunk_variance,
    location_shift,
    material_shift,
    reference_error,
)
from models.drift.window import FeatureTally
from models.profile import REFERENCE_CHUNKS, bin_index, mid_ranks, profile_feature
from schemas.drift import AlertSeverity, AlertThresholds, DriftStatistic
from schemas.model_package import FeatureProfile

RNG_SEED = 5
THRESHOLDS = AlertThresholds()


def _amounts(n: int, scale: float = 1.0, seed: int = RNG_SEED) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(3.0, 1.0, n) * scale


def _tally(profile: FeatureProfile, values: np.ndarray) -> FeatureTally:
    counts = np.bincount(bin_index(values, profile.bin_edges), minlength=len(profile.bin_edges) + 1)
    return FeatureTally(counts, 0, 0, float(mid_ranks(values, profile.quantiles).sum()))


def test_the_reference_sits_at_rank_one_half_continuous_or_tied() -> None:
    continuous = profile_feature("amount", _amounts(20_000), categorical=False)
    assert len(continuous.quantiles) == 99
    assert continuous.rank_variance == pytest.approx(1 / 12, rel=0.01)
    tied = np.where(np.arange(20_000) % 10 == 0, 1.0, 0.0)  # 90 % zeros: a count feature
    profile = profile_feature("card_small_count_1h", tied, categorical=False)
    assert float(mid_ranks(tied, profile.quantiles).mean()) == pytest.approx(0.5, abs=0.01)
    assert profile.rank_variance is not None and profile.rank_variance < 1 / 12
    assert len(profile.chunk_rank_means) == REFERENCE_CHUNKS


def test_chunks_that_move_more_than_sampling_raise_the_noise_floor() -> None:
    steady = profile_feature("amount", _amounts(28_000), categorical=False)
    # Every other stretch of the reference 10 % larger: clean traffic that wanders.
    values = _amounts(28_000).reshape(REFERENCE_CHUNKS, -1)
    values[::2] *= 1.1
    wandering = profile_feature("amount", values.ravel(), categorical=False)
    assert between_chunk_variance(steady) < 2e-5
    assert between_chunk_variance(wandering) > 1e-4
    assert material_shift(wandering, 0.01, 0.0) > material_shift(steady, 0.01, 0.0) >= 0.01


def test_a_shift_inside_the_decile_bins_is_seen_by_location_not_psi() -> None:
    profile = profile_feature("amount", _amounts(30_000), categorical=False)
    same = feature_drift(profile, _tally(profile, _amounts(2_400, seed=9)), THRESHOLDS)[0]
    assert same.location_z is not None and abs(same.location_z) < 4
    drift, alerts = feature_drift(
        profile, _tally(profile, _amounts(2_400, scale=1.3, seed=9)), THRESHOLDS
    )
    assert drift.psi is not None and drift.psi < THRESHOLDS.psi_minor
    assert drift.location_z is not None and drift.location_z > THRESHOLDS.location_z_major
    assert drift.location_floor is not None and drift.location_shift is not None
    assert drift.location_shift > 2 * drift.location_floor
    [location] = [a for a in alerts if a.statistic is DriftStatistic.LOCATION_Z]
    assert location.severity is AlertSeverity.CRITICAL and location.subject == "amount"


def test_no_sketch_no_location_statistic() -> None:
    profile = profile_feature("amount", _amounts(5_000), categorical=False)
    bare = profile.model_copy(update={"quantiles": [], "rank_variance": None})
    assert location_shift(bare, 1200.0, 2_400) is None
    drift, _ = feature_drift(bare, _tally(profile, _amounts(2_400)), THRESHOLDS, LocationHistory())
    assert drift.location_z is None and drift.cusum is None


def test_cusum_adds_only_the_excess_over_the_floor_and_allowance_on_either_side() -> None:
    cusum = Cusum()
    assert cusum.update(LocationShift(0.005, 0.005), floor=0.01) == 0.0  # within the floor
    assert cusum.update(LocationShift(0.02, 0.005), floor=0.01) == pytest.approx(1.5)
    assert cusum.update(LocationShift(0.02, 0.005), floor=0.01) == pytest.approx(3.0)
    assert cusum.update(LocationShift(-0.01, 0.005), floor=0.01) == pytest.approx(0.0)
    for _ in range(5):
        side = cusum.update(LocationShift(-0.03, 0.005), floor=0.01)
    assert side == pytest.approx(17.5) and cusum.lower == side


def test_a_steady_offset_just_past_the_floor_never_accumulates() -> None:
    # Seed 7's clean card_count_7d: weeks at 1.2 floors (0.4 standard errors past the floor)
    # as the simulated population aged. Without the allowance it added 0.4 a window and alarmed.
    cusum = Cusum()
    for _ in range(365):
        side = cusum.update(LocationShift(-0.012, 0.005), floor=0.01)
    assert side == 0.0


def test_a_creep_too_small_for_any_window_is_caught_by_the_cusum() -> None:
    profile = profile_feature("amount", _amounts(30_000), categorical=False)
    history = LocationHistory()
    first: int | None = None
    for day in range(1, 31):
        live = _amounts(2_400, scale=1.01**day, seed=100 + day)
        _, alerts = feature_drift(profile, _tally(profile, live), THRESHOLDS, history)
        if any(a.statistic is DriftStatistic.CUSUM for a in alerts) and first is None:
            first = day
        if day < 8:
            assert not any(a.statistic is DriftStatistic.LOCATION_Z for a in alerts)
    print(f"\n1 %-a-day creep on a log-normal amount: CUSUM alert on day {first}")
    assert first is not None and first <= 15


def test_clean_windows_keep_the_cusum_quiet() -> None:
    profile = profile_feature("amount", _amounts(30_000), categorical=False)
    history = LocationHistory()
    for day in range(100):
        live = _amounts(2_400, seed=1000 + day)
        _, alerts = feature_drift(profile, _tally(profile, live), THRESHOLDS, history)
        assert alerts == [], day


def test_a_location_warning_needs_two_material_windows_a_critical_one_does_not() -> None:
    profile = profile_feature("amount", _amounts(30_000), categorical=False)
    history = LocationHistory()

    def severities(scale: float, seed: int) -> list[AlertSeverity]:
        live = _amounts(2_400, scale=scale, seed=seed)
        _, alerts = feature_drift(profile, _tally(profile, live), THRESHOLDS, history)
        return [a.severity for a in alerts if a.statistic is DriftStatistic.LOCATION_Z]

    # ×1.08 gives warning-sized z (4.6 and 4.5: between 4 and 6) on these 2,400 values.
    assert severities(1.08, seed=24) == []  # one window: maybe a one-day burst
    assert severities(1.08, seed=27) == [AlertSeverity.WARNING]  # the same way again
    assert severities(1.0, seed=23) == []
    assert severities(1.5, seed=24) == [AlertSeverity.CRITICAL]  # at once


def test_the_materiality_minimum_shrinks_with_the_reference() -> None:
    # 4.5 reference standard errors: the former fixed 0.01 for the simulation's 16,800-value
    # training week, a third of it for ten times the values; never below location_min_shift.
    week = profile_feature("amount", _amounts(16_800), categorical=False)
    busy_week = profile_feature("amount", _amounts(168_000), categorical=False)
    errors = THRESHOLDS.location_min_reference_errors
    assert errors * reference_error(week) == pytest.approx(0.010, abs=0.0005)
    assert errors * reference_error(busy_week) == pytest.approx(0.0032, abs=0.0002)
    huge = busy_week.model_copy(update={"chunk_rank_rows": [10**9] * REFERENCE_CHUNKS})
    no_chunks = huge.model_copy(update={"chunk_rank_means": []})
    assert material_shift(no_chunks, THRESHOLDS.location_min_shift, errors) == 0.003
    assert reference_error(busy_week.model_copy(update={"rank_variance": None})) == 0.0


def test_at_ten_times_the_traffic_a_one_percent_creep_alerts_within_five_days() -> None:
    # ~24,000 values a day against a 168,000-value training week: the creep's first days are
    # within the old fixed 0.01 minimum, which held it back until day 9 on simulated traffic.
    profile = profile_feature("amount", _amounts(168_000), categorical=False)
    creeping, clean = LocationHistory(), LocationHistory()
    first: int | None = None
    for day in range(1, 101):
        live = _amounts(24_000, scale=1.01**day, seed=300 + day)
        _, alerts = feature_drift(profile, _tally(profile, live), THRESHOLDS, creeping)
        if alerts and first is None:
            first = day
        same = _amounts(24_000, seed=3000 + day)
        _, false_alarms = feature_drift(profile, _tally(profile, same), THRESHOLDS, clean)
        assert false_alarms == [], day
    print(f"\n1 %-a-day creep, 24,000 values a day: first alert on day {first}")
    assert first is not None and first <= 5
