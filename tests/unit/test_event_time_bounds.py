"""Event times are bounded by default, on both sides, and late events inside the bounds leave the
window state as in-order arrival would."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from models.features import CardState, MerchantState, card_step, merchant_step
from models.features.facts import TxFacts, make_facts
from models.features.windows import LONGEST_WINDOW_MS, SHORTEST_WINDOW_MS
from schemas import examples
from schemas.categories import ErrorCategory
from schemas.codec import SourceCoords, encode_record
from schemas.dead_letter import DeadLetter
from schemas.transaction import Transaction
from stream.decision_path.intake import admit, input_decoder
from stream.settings import Settings

NOW = datetime(2026, 11, 2, 10, 16, 0, tzinfo=UTC)
SOURCE = SourceCoords("fraud.transactions.v1", 0, 7, b"card-42", None)
MICROSECOND = timedelta(microseconds=1)


def verdict(event_time: str, settings: Settings | None = None) -> Transaction | DeadLetter:
    fields = json.loads(encode_record(examples.transaction())) | {"event_time": event_time}
    decoder = input_decoder(settings or Settings(), "bounds-test")
    return admit(decoder, json.dumps(fields).encode(), SOURCE, NOW)


def category(event_time: str, settings: Settings | None = None) -> ErrorCategory | None:
    result = verdict(event_time, settings)
    return result.category if isinstance(result, DeadLetter) else None


def test_the_default_age_bound_is_the_longest_feature_window() -> None:
    assert LONGEST_WINDOW_MS == 30 * 24 * 3_600_000
    assert Settings().max_event_age_s * 1000 == LONGEST_WINDOW_MS


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-timedelta(days=30), None),  # just inside: exactly the age bound
        (-timedelta(days=30) - MICROSECOND, ErrorCategory.STALE_TIMESTAMP),
        (timedelta(minutes=5), None),  # just inside: exactly the skew allowance
        (timedelta(minutes=5) + MICROSECOND, ErrorCategory.FUTURE_TIMESTAMP),
    ],
    ids=["age-inside", "age-outside", "skew-inside", "skew-outside"],
)
def test_both_edges_of_both_default_bounds(
    offset: timedelta, expected: ErrorCategory | None
) -> None:
    assert category((NOW + offset).isoformat()) is expected


@pytest.mark.parametrize(
    "absurd", ["0001-01-01T00:00:00+14:00", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z"]
)
def test_absurdly_old_event_times_are_stale_dead_letters(absurd: str) -> None:
    result = verdict(absurd)
    assert isinstance(result, DeadLetter)
    assert result.category is ErrorCategory.STALE_TIMESTAMP
    assert result.field == "event_time"
    assert "30 days" in result.detail


def test_both_bounds_are_configurable() -> None:
    settings = Settings(max_event_age_s=3600, max_future_skew_s=0)
    assert category((NOW - timedelta(hours=1)).isoformat(), settings) is None
    hour_and_a_bit = NOW - timedelta(hours=1) - MICROSECOND
    assert category(hour_and_a_bit.isoformat(), settings) is ErrorCategory.STALE_TIMESTAMP
    assert category(NOW.isoformat(), settings) is None
    assert category((NOW + MICROSECOND).isoformat(), settings) is ErrorCategory.FUTURE_TIMESTAMP


def test_the_skew_allowance_may_not_exceed_the_shortest_window() -> None:
    Settings(max_future_skew_s=SHORTEST_WINDOW_MS / 1000)
    with pytest.raises(ValidationError, match="max_future_skew_s"):
        Settings(max_future_skew_s=SHORTEST_WINDOW_MS / 1000 + 1)
    with pytest.raises(ValidationError, match="max_event_age_s"):
        Settings(max_event_age_s=0)


# -- late events inside the bounds --------------------------------------------------------------

DAY_MS = 24 * 3_600_000
BASE_MS = 1_793_600_000_000


def facts(number: int, event_ms: int) -> TxFacts:
    return make_facts(
        transaction_id=f"tx-{number}",
        card_id="card-42",
        merchant_id="m-1",
        event_ms=event_ms,
        amount_cents=1000 + number,
        country="DE",
        channel="POS",
        entry_mode=None,
        card_present=None,
        mcc="5411",
    )


# Spread over more than every window (30 days), so late ones cross each horizon.
EVENTS = [
    facts(i, BASE_MS + t)
    for i, t in enumerate([0, 20 * 60_000, 70 * 60_000, 2 * DAY_MS, 8 * DAY_MS, 31 * DAY_MS])
]


def final_windows(order: tuple[TxFacts, ...]) -> tuple[object, ...]:
    """The windowed content of both states after applying `order` (offsets follow arrival, so
    the origin offsets and watermarks differ by construction and are left out)."""
    card, merchant = CardState.empty(), MerchantState.empty()
    for offset, event in enumerate(order):
        card = card_step(card, event, offset).state
        merchant = merchant_step(merchant, event, 0, offset).state
    card_windows = (card.txids, card.event_ms, card.amount_cents, card.countries)
    merchant_windows = (
        merchant.fine_index,
        merchant.fine_count,
        merchant.coarse_index,
        merchant.coarse_count,
        merchant.coarse_sum,
    )
    return card_windows + merchant_windows


def test_late_events_leave_the_same_window_state_as_in_order_arrival() -> None:
    in_order = final_windows(tuple(EVENTS))
    for order in itertools.permutations(EVENTS):
        assert final_windows(order) == in_order, [e.event_ms - BASE_MS for e in order]


def test_a_late_event_older_than_the_card_horizon_is_not_kept() -> None:
    newest, late = EVENTS[-1], EVENTS[0]  # 31 days apart
    state = card_step(CardState.empty(), newest, 0).state
    step = card_step(state, late, 1)
    assert list(step.state.event_ms) == [newest.event_ms]
    assert not step.duplicate
