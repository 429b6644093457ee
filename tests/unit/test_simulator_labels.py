"""Delayed labels: late, for fraud (mostly), rarely for genuine transactions, sometimes twice."""

from __future__ import annotations

from datetime import timedelta

import pyarrow.compute as pc
import pytest

from models.simulator import LabelConfig, SimulationResult, SimulatorConfig, simulate


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    labels = LabelConfig(never_labelled_share=0.3, duplicate_share=0.3, cleared_share=0.01)
    return simulate(SimulatorConfig.small(seed=5, labels=labels))


def test_every_label_comes_after_its_transaction(result: SimulationResult) -> None:
    for label in result.labels.to_pylist():
        assert label["labelled_at"] - label["event_time"] >= timedelta(days=1)


def test_labels_point_at_real_transactions_and_agree_with_the_truth(
    result: SimulationResult,
) -> None:
    truth = {
        row["transaction_id"]: (row["is_fraud"], row["card_id"], row["event_time"])
        for row in result.transactions.select(
            ["transaction_id", "is_fraud", "card_id", "event_time"]
        ).to_pylist()
    }
    for label in result.labels.to_pylist():
        is_fraud, card_id, event_time = truth[label["transaction_id"]]
        assert label["is_fraud"] is is_fraud
        assert (label["card_id"], label["event_time"]) == (card_id, event_time)
        expected = {"chargeback", "confirmed_fraud"} if is_fraud else {"cleared"}
        assert label["label_source"] in expected


def test_shares_of_unreported_and_duplicate_fraud(result: SimulationResult) -> None:
    fraud_ids = set(
        result.transactions.filter(result.transactions.column("is_fraud"))
        .column("transaction_id")
        .to_pylist()
    )
    fraud_labels = result.labels.filter(result.labels.column("is_fraud"))
    labelled = fraud_labels.column("transaction_id").to_pylist()
    unlabelled_share = 1 - len(set(labelled)) / len(fraud_ids)
    assert 0.1 < unlabelled_share < 0.5  # never_labelled_share=0.3 per victim report
    duplicated = len(labelled) - len(set(labelled))
    assert 0.15 * len(set(labelled)) < duplicated < 0.45 * len(set(labelled))
    genuine_labels = result.labels.num_rows - fraud_labels.num_rows
    assert genuine_labels > 0


def test_delays_are_skewed_days_to_weeks(result: SimulationResult) -> None:
    first = result.labels.filter(pc.equal(result.labels.column("label_source"), "chargeback"))
    days = sorted(
        (label["labelled_at"] - label["event_time"]).total_seconds() / 86400
        for label in first.to_pylist()
    )
    median = days[len(days) // 2]
    assert 4 < median < 25
    assert days[-1] < 60 + 5 + 10 + 1  # max delay + longest incident + duplicate lag + jitter


def test_labels_are_ordered_by_when_they_become_known(result: SimulationResult) -> None:
    times = result.labels.column("labelled_at").to_pylist()
    assert times == sorted(times)
