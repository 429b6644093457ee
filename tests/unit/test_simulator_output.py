"""The simulator's output: contract-valid, ordered, deterministic, realistic in its rates."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from models.datasets.columns import LABELS_SCHEMA, TRANSACTIONS_SCHEMA, decimal_to_cents
from models.datasets.parquet import canonical_parquet_bytes
from models.datasets.store import canonical_transactions
from models.simulator import SCENARIOS, SimulationResult, SimulatorConfig, simulate
from schemas.codes import COUNTRIES, CURRENCIES
from schemas.transaction import Transaction


@pytest.fixture(scope="module")
def small() -> SimulationResult:
    return simulate(SimulatorConfig.small())


@pytest.fixture(scope="module")
def default() -> SimulationResult:
    """The default config: ~0.8M rows in a few seconds; shared by the tests of this module."""
    return simulate(SimulatorConfig())


def _parquet_sha(table: Any) -> str:
    return hashlib.sha256(canonical_parquet_bytes(canonical_transactions(table))).hexdigest()


def test_tables_have_the_stored_schemas(small: SimulationResult) -> None:
    assert small.transactions.schema.equals(TRANSACTIONS_SCHEMA)
    assert small.labels.schema.equals(LABELS_SCHEMA)


def test_every_row_of_the_small_config_is_a_valid_transaction(small: SimulationResult) -> None:
    for row in small.transactions.to_pylist():
        transaction = Transaction.model_validate(row)
        assert transaction.schema_version == 1
    assert {"is_fraud", "fraud_scenario"}.isdisjoint(Transaction.model_fields)


def test_a_sample_of_the_default_config_is_valid(default: SimulationResult) -> None:
    rng = np.random.default_rng(0)
    sample = default.transactions.take(
        rng.choice(default.transactions.num_rows, 3000, replace=False)
    )
    for row in sample.to_pylist():
        Transaction.model_validate(row)


def test_codes_are_real_and_ids_unique(small: SimulationResult) -> None:
    table = small.transactions
    assert set(pc.unique(table.column("country")).to_pylist()) <= COUNTRIES
    assert set(pc.unique(table.column("currency")).to_pylist()) <= CURRENCIES
    assert pc.count_distinct(table.column("transaction_id")).as_py() == table.num_rows


def test_rows_are_ordered_by_event_time_then_id(small: SimulationResult) -> None:
    table = small.transactions
    order = pc.sort_indices(
        table, sort_keys=[("event_time", "ascending"), ("transaction_id", "ascending")]
    )
    assert order.to_pylist() == list(range(table.num_rows))
    start, end = SimulatorConfig.small().start, SimulatorConfig.small().end
    bounds = pc.min_max(table.column("event_time")).as_py()
    assert start <= bounds["min"] and bounds["max"] < end


def test_channel_decides_the_card_present_fields(small: SimulationResult) -> None:
    rows = small.transactions.to_pylist()
    for row in rows:
        present = row["channel"] in ("POS", "ATM")
        assert row["card_present"] is present
        assert (row["customer_lat"] is not None) is present
        assert (row["device_id_hash"] is not None) is (row["channel"] == "ECOM")
        if row["channel"] == "ECOM":
            assert row["entry_mode"] in ("ECOM", "CREDENTIAL_ON_FILE")


def test_same_seed_and_config_give_identical_bytes() -> None:
    first = simulate(SimulatorConfig.small(seed=11))
    second = simulate(SimulatorConfig.small(seed=11))
    assert _parquet_sha(first.transactions) == _parquet_sha(second.transactions)
    assert first.labels.equals(second.labels)


def test_another_seed_gives_other_data(small: SimulationResult) -> None:
    other = simulate(SimulatorConfig.small(seed=8))
    assert _parquet_sha(other.transactions) != _parquet_sha(small.transactions)


def test_default_config_fraud_rate_is_realistic(default: SimulationResult) -> None:
    table = default.transactions
    assert 500_000 <= table.num_rows <= 1_000_000
    fraud_rate = pc.mean(pc.cast(table.column("is_fraud"), pa.float64())).as_py()
    assert 0.002 <= fraud_rate <= 0.006
    scenarios = set(pc.unique(table.column("fraud_scenario")).drop_null().to_pylist())
    assert scenarios == set(SCENARIOS)


def test_ground_truth_columns_agree(small: SimulationResult) -> None:
    table = small.transactions
    is_fraud = table.column("is_fraud").to_pylist()
    scenario = table.column("fraud_scenario").to_pylist()
    assert all((name is not None) is flag for flag, name in zip(is_fraud, scenario, strict=True))
    assert set(scenario) - {None} == set(SCENARIOS)


def test_amounts_have_two_decimals_and_plausible_sizes(default: SimulationResult) -> None:
    cents = decimal_to_cents(default.transactions.column("amount"))
    assert cents.min() >= 1
    median = np.median(cents) / 100
    assert 10 < median < 100
    atm = pc.equal(default.transactions.column("channel"), "ATM").to_numpy(zero_copy_only=False)
    assert np.all(cents[atm] % 1000 == 0)  # cash comes in notes


def test_fraud_cards_keep_their_legit_spending(small: SimulationResult) -> None:
    table = small.transactions
    fraud_cards = set(table.filter(table.column("is_fraud")).column("card_id").to_pylist())
    legit_cards = set(
        table.filter(pc.invert(table.column("is_fraud"))).column("card_id").to_pylist()
    )
    assert len(fraud_cards & legit_cards) >= 0.9 * len(fraud_cards)


def test_daily_rhythm_has_quiet_nights(default: SimulationResult) -> None:
    hours = pc.hour(default.transactions.column("event_time")).to_numpy()
    per_hour = np.bincount(hours, minlength=24)
    # Most cards are in UTC+1: 02-04 UTC is 03-05 local, the quietest time.
    assert per_hour[2:5].sum() < 0.02 * per_hour.sum()
    assert per_hour[10:13].sum() > 5 * per_hour[2:5].sum()
