"""Data profiles: decile edges, bin shares that sum to one, the shared bin rule, categories."""

from __future__ import annotations

import numpy as np
import pytest

from models.profile import bin_index, bin_shares, numeric_edges, profile_feature, profile_scores


def test_deciles_of_one_to_a_hundred_put_a_tenth_in_each_bin() -> None:
    values = np.arange(1.0, 101.0)
    profile = profile_feature("amount", values, categorical=False)
    assert profile.bin_edges == pytest.approx(
        [10.9, 20.8, 30.7, 40.6, 50.5, 60.4, 70.3, 80.2, 90.1]
    )
    assert profile.bin_shares == pytest.approx([0.1] * 10)
    assert sum(profile.bin_shares) == pytest.approx(1.0)
    assert (profile.min, profile.max, profile.mean) == (1.0, 100.0, 50.5)
    assert profile.missing_rate == 0.0


def test_a_value_on_an_edge_belongs_to_the_lower_bin() -> None:
    edges = [1.0, 2.0]
    assert list(bin_index(np.array([0.5, 1.0, 1.5, 2.0, 2.5]), edges)) == [0, 0, 1, 1, 2]


def test_missing_values_are_counted_apart_from_the_shares() -> None:
    values = np.array([1.0, 2.0, np.nan, 3.0, np.nan])
    profile = profile_feature("ratio", values, categorical=False)
    assert profile.missing_rate == pytest.approx(0.4)
    assert sum(profile.bin_shares) == pytest.approx(1.0)


def test_a_constant_feature_has_one_edge_and_all_rows_in_the_first_bin() -> None:
    values = np.full(50, 7.0)
    assert numeric_edges(values) == [7.0]
    assert bin_shares(values, [7.0]) == [1.0, 0.0]


def test_an_all_missing_feature_has_no_edges_and_no_summary() -> None:
    profile = profile_feature("empty", np.full(4, np.nan), categorical=False)
    assert profile.bin_edges == [] and profile.bin_shares == [0.0]
    assert profile.min is None and profile.missing_rate == 1.0


def test_categorical_shares_per_code() -> None:
    profile = profile_feature("channel", np.array([0.0, 1.0, 1.0, 3.0]), categorical=True)
    assert profile.categories == {"0": 0.25, "1": 0.5, "3": 0.25}
    assert profile.bin_edges == [] and profile.bin_shares == []


def test_score_profile_has_outcome_rates_summing_to_one() -> None:
    scores = np.linspace(0.0, 1.0, 20)
    outcomes = ["APPROVE"] * 15 + ["REVIEW"] * 4 + ["DECLINE"]
    profile = profile_scores(scores, outcomes)
    assert profile.outcome_rates == {"APPROVE": 0.75, "REVIEW": 0.2, "DECLINE": 0.05}
    assert sum(profile.bin_shares) == pytest.approx(1.0)
    assert profile.computed_on == "validation"
