"""Imbalance-aware metrics and thresholds, on examples small enough to check by hand."""

from __future__ import annotations

import numpy as np
import pytest

from models.evaluation import (
    COST_DECLINED_GENUINE,
    COST_REVIEW,
    card_precision_at_k,
    expected_cost,
    metric_set,
    policy_threshold_at_fpr,
    recall_at_fpr,
    threshold_at_fpr,
)

# Ten genuine payments scored 0.1 … 1.0, three frauds.
GENUINE = np.round(np.arange(1, 11) / 10, 1)
FRAUD = np.array([0.95, 0.85, 0.3])
SCORES = np.concatenate([GENUINE, FRAUD])
LABELS = np.array([False] * 10 + [True] * 3)


def _fpr(threshold: float) -> float:
    return float(np.greater_equal(GENUINE, threshold).mean())


def test_threshold_meets_the_fpr_exactly_when_it_can() -> None:
    threshold = threshold_at_fpr(SCORES, LABELS, 0.2)
    assert threshold == np.nextafter(0.8, np.inf)  # just above the third-highest genuine score
    assert _fpr(threshold) == 0.2
    # One ulp lower would flag a third genuine payment: the threshold is the lowest that fits.
    assert _fpr(np.nextafter(threshold, -np.inf)) == 0.3


def test_threshold_rounds_the_allowance_down() -> None:
    threshold = threshold_at_fpr(SCORES, LABELS, 0.25)  # 2.5 genuine payments: 2 allowed
    assert _fpr(threshold) == 0.2


def test_a_zero_fpr_threshold_is_above_every_genuine_score() -> None:
    threshold = threshold_at_fpr(SCORES, LABELS, 0.0)
    assert threshold > GENUINE.max()
    assert _fpr(threshold) == 0.0


def test_tied_genuine_scores_are_never_split_above_the_target() -> None:
    scores = np.array([0.9, 0.9, 0.5, 0.95])
    labels = np.array([False, False, False, True])
    threshold = threshold_at_fpr(scores, labels, 0.34)  # one of three allowed, but both tie
    assert np.mean(scores[~labels] >= threshold) == 0.0


def test_without_genuine_rows_the_threshold_is_the_midpoint() -> None:
    assert threshold_at_fpr(np.array([0.2, 0.7]), np.array([True, True]), 0.01) == 0.5


def test_recall_at_fpr_counts_frauds_above_that_threshold() -> None:
    assert recall_at_fpr(SCORES, LABELS, 0.2) == pytest.approx(2 / 3)
    assert recall_at_fpr(SCORES, LABELS, 0.0) == 0.0  # 0.95 < 1.0, the top genuine score
    assert recall_at_fpr(GENUINE, np.zeros(10, dtype=bool), 0.2) == 0.0


def test_card_precision_at_k_ranks_cards_per_day() -> None:
    scores = np.array([0.9, 0.1, 0.8, 0.05, 0.7, 0.6, 0.2])
    labels = np.array([False, True, False, False, True, True, False])
    cards = ["A", "A", "B", "C", "B", "D", "A"]
    days = np.array([0, 0, 0, 0, 1, 1, 1])
    # Day 0: A (max 0.9, one fraud), B (0.8), C (0.05): top 2 = A, B → 1 of 2.
    # Day 1: B (0.7, fraud), D (0.6, fraud), A (0.2): top 2 = B, D → 2 of 2.
    assert card_precision_at_k(scores, labels, cards, days, k=2) == 0.75
    # k larger than the cards of a day still divides by k: idle investigators count.
    assert card_precision_at_k(scores, labels, cards, days, k=4) == pytest.approx((1 + 2) / 8)


def test_expected_cost_adds_missed_fraud_declined_genuine_and_reviews() -> None:
    scores = np.array([0.9, 0.6, 0.95, 0.1, 0.2])
    labels = np.array([True, False, False, True, False])
    amounts = np.array([100.0, 20.0, 30.0, 50.0, 5.0])
    # Fraud declined: 0. Genuine reviewed: a review. Genuine declined. Fraud missed: 50.
    total = COST_REVIEW + COST_DECLINED_GENUINE + 50.0
    assert expected_cost(scores, labels, amounts, 0.5, 0.8) == pytest.approx(total / 5 * 1000)


def test_metric_set_on_one_class_does_not_fail() -> None:
    labels = np.zeros(4, dtype=bool)
    metrics = metric_set(
        np.array([0.1, 0.2, 0.3, 0.4]),
        labels,
        np.ones(4),
        ["a"] * 4,
        np.zeros(4, np.int64),
        0.5,
        0.9,
    )
    assert metrics.pr_auc == 0.0 and metrics.roc_auc == 0.5 and metrics.positives == 0


def test_a_policy_threshold_stays_a_probability_when_genuine_rows_score_one() -> None:
    scores = np.array([1.0, 1.0, 1.0, 0.2, 0.9])
    labels = np.array([False, False, False, False, True])
    assert threshold_at_fpr(scores, labels, 0.25) > 1.0  # what a policy would refuse
    assert policy_threshold_at_fpr(scores, labels, 0.25) == 1.0
