"""Each distribution shift changes its own aspect, from its day on, and nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from models.datasets.columns import TRANSACTIONS_SCHEMA, decimal_to_cents
from models.simulator import (
    MccShift,
    NewCountryShift,
    ShiftConfig,
    SimulationResult,
    SimulatorConfig,
    simulate,
)
from schemas.transaction import Transaction

START_DAY = 12
CHANNEL_FIELDS = {
    "channel",
    "entry_mode",
    "card_present",
    "device_id_hash",
    "ip_hash",
    "customer_lat",
    "customer_lon",
}


def _run(**shift: Any) -> SimulationResult:
    config = SimulatorConfig.small(seed=9, shift=ShiftConfig(start_day=START_DAY, **shift))
    return simulate(config)


@pytest.fixture(scope="module")
def base() -> SimulationResult:
    return simulate(SimulatorConfig.small(seed=9))


def _changed_columns(base: Any, shifted: Any) -> set[str]:
    return {
        name
        for name in TRANSACTIONS_SCHEMA.names
        if not base.column(name).equals(shifted.column(name))
    }


def _after(table: Any, config: SimulatorConfig) -> Any:
    cut = pa.scalar(
        config.start + timedelta(days=START_DAY), type=table.schema.field("event_time").type
    )
    return pc.greater_equal(table.column("event_time"), cut)


def _before_part(table: Any, config: SimulatorConfig) -> Any:
    return table.filter(pc.invert(_after(table, config)))


def _share(table: Any, column: str, value: str) -> float:
    return float(pc.mean(pc.cast(pc.equal(table.column(column), value), pa.float64())).as_py())


def _check_untouched_elsewhere(base: SimulationResult, shifted: SimulationResult) -> None:
    config = shifted.config
    assert shifted.transactions.num_rows == base.transactions.num_rows
    assert _before_part(shifted.transactions, config).equals(
        _before_part(base.transactions, config)
    )
    assert shifted.labels.equals(base.labels)
    for row in shifted.transactions.to_pylist():
        Transaction.model_validate(row)


def test_amount_scale_changes_only_amounts_after_the_day(base: SimulationResult) -> None:
    shifted = _run(amount_scale=1.5)
    assert _changed_columns(base.transactions, shifted.transactions) == {"amount"}
    _check_untouched_elsewhere(base, shifted)
    after = _after(base.transactions, shifted.config)
    old = decimal_to_cents(base.transactions.filter(after).column("amount"))
    new = decimal_to_cents(shifted.transactions.filter(after).column("amount"))
    assert np.allclose(new / old, 1.5, atol=0.01)


def test_ecom_share_moves_shop_payments_online_and_only_that(base: SimulationResult) -> None:
    shifted = _run(ecom_share=0.4)
    assert _changed_columns(base.transactions, shifted.transactions) == CHANNEL_FIELDS
    _check_untouched_elsewhere(base, shifted)
    after = _after(base.transactions, shifted.config)
    before_share = _share(base.transactions.filter(after), "channel", "ECOM")
    after_share = _share(shifted.transactions.filter(after), "channel", "ECOM")
    assert after_share > before_share + 0.15


def test_new_country_appears_only_after_the_day(base: SimulationResult) -> None:
    shifted = _run(new_country=NewCountryShift(country="PT", share=0.3))
    # PT pays in euros like the merchants it replaces: amounts and currency stay.
    assert _changed_columns(base.transactions, shifted.transactions) == {
        "merchant_id",
        "terminal_id",
        "country",
    }
    _check_untouched_elsewhere(base, shifted)
    table = shifted.transactions
    portuguese = table.filter(pc.equal(table.column("country"), "PT"))
    assert portuguese.num_rows > 0
    assert set(portuguese.column("channel").to_pylist()) == {"ECOM"}
    assert pc.all(_after(portuguese, shifted.config)).as_py()
    assert not pc.any(pc.equal(base.transactions.column("country"), "PT")).as_py()


def test_mcc_shift_recategorises_merchants_and_only_that(base: SimulationResult) -> None:
    shifted = _run(mcc=MccShift(mcc="5993", merchant_share=0.3))
    assert _changed_columns(base.transactions, shifted.transactions) == {"mcc"}
    _check_untouched_elsewhere(base, shifted)
    new_mcc = shifted.transactions.filter(pc.equal(shifted.transactions.column("mcc"), "5993"))
    rows_after = pc.sum(pc.cast(_after(base.transactions, shifted.config), pa.int64())).as_py()
    assert new_mcc.num_rows > 0.1 * rows_after
    assert pc.all(_after(new_mcc, shifted.config)).as_py()


def test_unshifted_aspects_keep_their_distribution(base: SimulationResult) -> None:
    """The drift-test view: after the day, the shifted aspect moves and the others do not."""
    shifted = _run(amount_scale=2.0)
    after = _after(base.transactions, shifted.config)
    old, new = base.transactions.filter(after), shifted.transactions.filter(after)
    for column in ("channel", "country", "mcc", "entry_mode"):
        old_counts = pc.value_counts(old.column(column)).to_pylist()
        new_counts = pc.value_counts(new.column(column)).to_pylist()
        assert sorted(map(str, old_counts)) == sorted(map(str, new_counts))
    old_median = np.median(decimal_to_cents(old.column("amount")))
    assert np.median(decimal_to_cents(new.column("amount"))) == pytest.approx(
        2 * old_median, rel=0.01
    )
