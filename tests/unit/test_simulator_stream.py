"""Stream-side helpers: Kafka-ready bytes and event times moved to now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from models.simulator import (
    SimulationResult,
    SimulatorConfig,
    iter_label_json,
    iter_transaction_json,
    shift_to_now,
    simulate,
)
from schemas.label import FraudLabel
from schemas.transaction import Transaction

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(SimulatorConfig.small(seed=4))


def test_transaction_json_is_what_the_contract_writes(result: SimulationResult) -> None:
    messages = list(iter_transaction_json(result.transactions))
    assert len(messages) == result.transactions.num_rows
    for (key, value), row in zip(messages, result.transactions.to_pylist(), strict=True):
        parsed = Transaction.model_validate_json(value)
        assert key == row["card_id"].encode()
        assert parsed.transaction_id == row["transaction_id"]
        assert parsed.model_dump_json().encode() == value
        assert b"is_fraud" not in value and b"fraud_scenario" not in value


def test_transaction_json_follows_event_time_even_from_a_shuffled_table(
    result: SimulationResult,
) -> None:
    shuffled = result.transactions.take(pa.array(list(range(result.transactions.num_rows))[::-1]))
    ids = [
        Transaction.model_validate_json(value).transaction_id
        for _, value in iter_transaction_json(shuffled)
    ]
    assert ids == result.transactions.column("transaction_id").to_pylist()


def test_label_json_matches_the_label_contract(result: SimulationResult) -> None:
    messages = list(iter_label_json(result.labels))
    assert len(messages) == result.labels.num_rows
    for key, value in messages:
        label = FraudLabel.model_validate_json(value)
        assert key == label.card_id.encode()
        assert label.model_dump_json().encode() == value


def test_shift_to_now_keeps_spacing_and_moves_labels_alike(result: SimulationResult) -> None:
    moved, labels = shift_to_now(result.transactions, result.labels, now=NOW)
    assert labels is not None
    old = pc.cast(result.transactions.column("event_time"), pa.int64()).to_numpy()
    new = pc.cast(moved.column("event_time"), pa.int64()).to_numpy()
    assert new[0] == int(NOW.timestamp() * 1_000_000)
    assert ((new - new[0]) == (old - old[0])).all()
    delays_before = [row["labelled_at"] - row["event_time"] for row in result.labels.to_pylist()]
    delays_after = [row["labelled_at"] - row["event_time"] for row in labels.to_pylist()]
    assert delays_before == delays_after


def test_shift_to_now_compresses_time(result: SimulationResult) -> None:
    moved, _ = shift_to_now(result.transactions, now=NOW, speedup=24.0)
    span = pc.max(moved.column("event_time")).as_py() - pc.min(moved.column("event_time")).as_py()
    original = pc.max(result.transactions.column("event_time")).as_py() - NOW.replace(
        year=2025, month=1, day=6, hour=0
    )
    assert span < original / 24 + timedelta(seconds=1)
    order = pc.sort_indices(
        moved, sort_keys=[("event_time", "ascending"), ("transaction_id", "ascending")]
    )
    assert order.to_pylist() == list(range(moved.num_rows))


def test_shift_to_now_refuses_naive_times_and_bad_speedups(result: SimulationResult) -> None:
    with pytest.raises(ValueError):
        shift_to_now(result.transactions, now=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        shift_to_now(result.transactions, now=NOW, speedup=0)
