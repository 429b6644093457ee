"""Each fraud scenario has its documented shape, and a windowed feature sees it."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from models.datasets.columns import decimal_to_cents
from models.simulator import SimulationResult, SimulatorConfig, simulate
from models.simulator.geography import haversine_km

HOUR_US = 3_600_000_000


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(SimulatorConfig.small(seed=3))


def _columns(table: Any) -> dict[str, npt.NDArray[Any]]:
    return {
        "card": np.asarray(table.column("card_id").to_pylist()),
        "merchant": np.asarray(table.column("merchant_id").to_pylist()),
        "time": pc.cast(table.column("event_time"), pa.int64()).to_numpy(),
        "cents": decimal_to_cents(table.column("amount")),
        "channel": np.asarray(table.column("channel").to_pylist()),
        "country": np.asarray(table.column("country").to_pylist()),
        "lat": table.column("customer_lat").to_numpy(zero_copy_only=False),
        "lon": table.column("customer_lon").to_numpy(zero_copy_only=False),
        "scenario": np.asarray(table.column("fraud_scenario").to_pylist(), dtype=object),
    }


def test_card_testing_is_small_online_probes_then_a_cash_out(result: SimulationResult) -> None:
    c = _columns(result.transactions)
    rows = c["scenario"] == "card_testing"
    assert set(c["channel"][rows]) == {"ECOM"}
    for card in np.unique(c["card"][rows]):
        mine = rows & (c["card"] == card)
        small = mine & (c["cents"] < 500)
        large = mine & (c["cents"] >= 25_000)
        assert small.sum() >= 5 and large.sum() >= 1
        assert c["time"][large].min() > c["time"][small].min()


def test_card_testing_shows_in_a_one_hour_count_of_small_online_payments(
    result: SimulationResult,
) -> None:
    c = _columns(result.transactions)
    small_online = (c["channel"] == "ECOM") & (c["cents"] < 500)
    counts = _recent_count_per_card(c, small_online, HOUR_US)
    probes = small_online & (c["scenario"] == "card_testing")
    legit = small_online & (c["scenario"] == None)  # noqa: E711 (elementwise)
    assert np.median(counts[probes]) >= 3
    assert np.mean(counts[legit] >= 3) < 0.01


def test_impossible_travel_is_too_fast_for_any_journey(result: SimulationResult) -> None:
    c = _columns(result.transactions)
    km, speed = _move_since_previous_card_present(c)
    travel = c["scenario"] == "impossible_travel"
    assert travel.sum() > 0
    first_of_card = travel & ~_previous_card_present_is(c, "impossible_travel")
    assert np.all(km[first_of_card] >= 600)
    assert np.all(speed[first_of_card] > 500)  # km/h: faster than any train
    # Two shops across town minutes apart look fast too; a long jump that fast is the signal.
    genuine = (c["scenario"] == None) & np.isfinite(speed)  # noqa: E711
    assert np.mean((speed[genuine] > 500) & (km[genuine] > 200)) < 0.005
    # A foreign country alone is not the signal: genuine trips abroad exist too.
    legit_pos = (c["scenario"] == None) & (c["channel"] == "POS")  # noqa: E711
    assert (legit_pos & (c["country"] != "FR")).sum() > travel.sum()


def test_compromised_terminal_is_a_burst_of_many_cards_with_inflated_amounts(
    result: SimulationResult,
) -> None:
    c = _columns(result.transactions)
    rows = c["scenario"] == "compromised_terminal"
    for merchant in np.unique(c["merchant"][rows]):
        fraud = rows & (c["merchant"] == merchant)
        legit = (c["merchant"] == merchant) & (c["scenario"] == None)  # noqa: E711
        assert len(np.unique(c["card"][fraud])) >= 0.8 * fraud.sum()
        if legit.sum() >= 5:
            assert c["cents"][fraud].mean() > 2 * c["cents"][legit].mean()
        # Per-merchant 24-hour count against the merchant's own daily average.
        span_days = (c["time"][fraud].max() - c["time"][fraud].min()) / (24 * HOUR_US)
        assert span_days <= 2.1


def test_inflated_amounts_are_several_times_the_cards_usual(result: SimulationResult) -> None:
    c = _columns(result.transactions)
    rows = np.flatnonzero(c["scenario"] == "inflated_amounts")
    legit = c["scenario"] == None  # noqa: E711
    ratios = [
        c["cents"][row] / c["cents"][legit & (c["card"] == c["card"][row])].mean() for row in rows
    ]
    assert np.median(ratios) > 2.5


def _recent_count_per_card(
    c: dict[str, npt.NDArray[Any]], mask: npt.NDArray[np.bool_], window_us: int
) -> npt.NDArray[np.int64]:
    """For each row, how many `mask` rows the same card had in the window ending at it."""
    counts = np.zeros(len(mask), dtype=np.int64)
    for card in np.unique(c["card"][mask]):
        mine = np.flatnonzero(mask & (c["card"] == card))
        times = c["time"][mine]
        counts[mine] = np.arange(1, len(mine) + 1) - np.searchsorted(times, times - window_us)
    return counts


def _previous_card_present(c: dict[str, npt.NDArray[Any]]) -> npt.NDArray[np.int64]:
    """Index of the same card's previous card-present row (-1 if none); rows are time-ordered."""
    previous = np.full(len(c["card"]), -1, dtype=np.int64)
    last: dict[str, int] = {}
    present = np.isfinite(c["lat"])
    for index, card in enumerate(c["card"]):
        previous[index] = last.get(card, -1)
        if present[index]:
            last[card] = index
    return previous


def _previous_card_present_is(
    c: dict[str, npt.NDArray[Any]], scenario: str
) -> npt.NDArray[np.bool_]:
    previous = _previous_card_present(c)
    same = (previous >= 0) & (c["scenario"][np.maximum(previous, 0)] == scenario)
    return np.asarray(same, dtype=np.bool_)


def _move_since_previous_card_present(
    c: dict[str, npt.NDArray[Any]],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(km, km/h) from the card's previous card-present row; NaN where there is none."""
    previous = _previous_card_present(c)
    has = (previous >= 0) & np.isfinite(c["lat"])
    km, speed = np.full(len(previous), np.nan), np.full(len(previous), np.nan)
    p = previous[has]
    km[has] = haversine_km(c["lat"][p], c["lon"][p], c["lat"][has], c["lon"][has])
    hours = np.maximum((c["time"][has] - c["time"][p]) / HOUR_US, 1 / 60)
    speed[has] = km[has] / hours
    return km, speed
