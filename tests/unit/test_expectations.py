"""Input expectations from a hand-made profile: each kind of violation, and none for normal rows."""

from __future__ import annotations

import numpy as np

from models.expectations import ExpectationChecker
from schemas.model_package import FeatureProfile

NAN = float("nan")


def _numeric(name: str, low: float, high: float, missing_rate: float) -> FeatureProfile:
    return FeatureProfile(
        name=name, kind="numeric", missing_rate=missing_rate, min=low, max=high, mean=None,
        std=None, bin_edges=[], bin_shares=[], categories={},
    )  # fmt: skip


PROFILES = [
    _numeric("amount", 1.0, 100.0, missing_rate=0.0),
    _numeric("ratio", 0.0, 5.0, missing_rate=0.1),  # training saw it missing: allowed
    FeatureProfile(
        name="channel",
        kind="categorical",
        missing_rate=0.0,
        min=0.0,
        max=1.0,
        mean=None,
        std=None,
        bin_edges=[],
        bin_shares=[],
        categories={"0": 0.6, "1": 0.4},
    ),
]


def _kinds(row: list[float]) -> list[tuple[str, str]]:
    found = ExpectationChecker(PROFILES).check(np.array([row]))[0]
    return sorted((v.feature, v.kind) for v in found)


def test_rows_inside_the_training_ranges_pass() -> None:
    assert _kinds([1.0, 0.0, 0.0]) == []
    assert _kinds([100.0, 5.0, 1.0]) == []  # the bounds themselves are inside


def test_above_the_training_maximum() -> None:
    assert _kinds([100.01, 1.0, 0.0]) == [("amount", "above_max")]


def test_below_the_training_minimum() -> None:
    assert _kinds([0.5, -1.0, 0.0]) == [("amount", "below_min"), ("ratio", "below_min")]


def test_missing_only_where_training_never_had_it_missing() -> None:
    assert _kinds([NAN, NAN, NAN]) == [("amount", "missing"), ("channel", "missing")]


def test_a_category_training_never_saw() -> None:
    # Categorical codes are checked against the seen set, not against min/max.
    assert _kinds([10.0, 1.0, 2.0]) == [("channel", "unseen_category")]


def test_violations_carry_the_value_and_a_readable_detail() -> None:
    found = ExpectationChecker(PROFILES).check(np.array([[250.0, 1.0, 0.0], [10.0, 1.0, 0.0]]))
    assert found[1] == []
    (violation,) = found[0]
    assert violation.observed == 250.0
    assert violation.detail == "250.0 > training max 100.0"


def test_the_row_by_row_check_finds_exactly_what_the_vectorised_one_does() -> None:
    rng = np.random.default_rng(5)
    checker = ExpectationChecker(PROFILES)
    rows = rng.choice([NAN, -5.0, 0.5, 1.0, 3.0, 50.0, 250.0], size=(300, 3))
    assert checker.check_rows(rows.tolist()) == checker.check(rows)
    assert sum(map(len, checker.check_rows(rows.tolist()))) > 100  # the rows do break them
