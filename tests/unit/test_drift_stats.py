"""The drift statistics on hand-made bins, and how they are graded against thresholds."""

from __future__ import annotations

import math

import pytest

from models.drift.alerts import grade
from models.drift.stats import (
    SHARE_FLOOR,
    binned_ks,
    cohens_w,
    psi,
    shares_of,
    total_variation,
)
from schemas.drift import AlertSeverity, AlertThresholds


def test_psi_of_identical_distributions_is_zero() -> None:
    shares = [0.1, 0.2, 0.3, 0.4]
    assert psi(shares, shares) == 0.0
    assert total_variation(shares, shares) == 0.0
    assert binned_ks(shares, shares) == 0.0


def test_psi_known_value() -> None:
    # (0.3-0.5)·ln(0.3/0.5) + (0.7-0.5)·ln(0.7/0.5) = 0.2·ln(7/3)
    assert psi([0.3, 0.7], [0.5, 0.5]) == pytest.approx(0.2 * math.log(7 / 3), rel=1e-12)
    assert psi([0.3, 0.7], [0.5, 0.5]) == pytest.approx(0.16946, abs=1e-5)


def test_psi_is_symmetric_and_grows_with_the_shift() -> None:
    base = [0.25, 0.25, 0.25, 0.25]
    small, large = [0.3, 0.25, 0.25, 0.2], [0.45, 0.25, 0.2, 0.1]
    assert psi(small, base) == pytest.approx(psi(base, small))
    assert 0 < psi(small, base) < psi(large, base)


def test_an_empty_bin_adds_a_finite_term_set_by_the_floor() -> None:
    value = psi([0.0, 1.0], [0.1, 0.9])
    expected = (SHARE_FLOOR - 0.1) * math.log(SHARE_FLOOR / 0.1) + 0.1 * math.log(1 / 0.9)
    assert value == pytest.approx(expected)
    assert math.isfinite(psi([1.0, 0.0], [0.0, 1.0]))


def test_total_variation_is_the_share_that_moved() -> None:
    assert total_variation([0.5, 0.3, 0.2], [0.6, 0.3, 0.1]) == pytest.approx(0.1)
    assert total_variation([1.0, 0.0], [0.0, 1.0]) == 1.0


def test_binned_ks_is_the_largest_cdf_gap_at_the_edges() -> None:
    # CDFs at the two inner edges: live 0.1, 0.5 vs reference 0.3, 0.6 → gaps 0.2, 0.1
    assert binned_ks([0.1, 0.4, 0.5], [0.3, 0.3, 0.4]) == pytest.approx(0.2)
    assert binned_ks([1.0], [1.0]) == 0.0


def test_cohens_w_against_reference_shares() -> None:
    # live 50/30/20 against 60/30/10: sqrt(0.01/0.6 + 0 + 0.01/0.1)
    assert cohens_w([50, 30, 20], [0.6, 0.3, 0.1]) == pytest.approx(
        math.sqrt(0.01 / 0.6 + 0.01 / 0.1)
    )
    assert cohens_w([60, 30, 10], [0.6, 0.3, 0.1]) == pytest.approx(0.0)
    # Categories training never saw are left out (the unseen share reports them)
    assert cohens_w([60, 30, 10, 500], [0.6, 0.3, 0.1, 0.0]) == pytest.approx(0.0)
    assert cohens_w([0, 0, 0, 7], [0.6, 0.3, 0.1, 0.0]) is None


def test_shares_of_counts() -> None:
    assert shares_of([1, 3]).tolist() == [0.25, 0.75]
    assert shares_of([0, 0]).tolist() == [0.0, 0.0]


def test_mismatched_bins_are_refused() -> None:
    with pytest.raises(ValueError, match="one length"):
        psi([0.5, 0.5], [0.2, 0.3, 0.5])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (0.0, None),
        (0.0999, None),
        (0.1, AlertSeverity.WARNING),
        (0.1999, AlertSeverity.WARNING),
        (0.2, AlertSeverity.CRITICAL),
        (3.0, AlertSeverity.CRITICAL),
    ],
)
def test_grading_against_the_psi_convention(
    value: float | None, expected: AlertSeverity | None
) -> None:
    t = AlertThresholds()
    assert (t.psi_minor, t.psi_major) == (0.1, 0.2)
    assert grade(value, t.psi_minor, t.psi_major) is expected


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="minor threshold"):
        AlertThresholds(psi_minor=0.3, psi_major=0.2)
