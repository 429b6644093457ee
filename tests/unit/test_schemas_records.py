"""Rules of the individual record contracts (constraints, invariants, derived ids)."""

from __future__ import annotations

import math
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas import examples
from schemas.base import DeploymentRole
from schemas.codes import COUNTRIES, CURRENCIES
from schemas.dead_letter import dead_letter_id_for
from schemas.decision import Decision, FallbackReason, decision_id_for
from schemas.drift import DriftWindow, WindowKind
from schemas.label import FraudLabel, LabelSource
from schemas.model_control import ModelControl
from schemas.primitives import AMOUNT_PATTERN, MAX_AMOUNT
from schemas.scoring_log import ModelOutput, ScoringLogRecord
from schemas.transaction import Transaction


def changed(record: Any, **changes: Any) -> dict[str, Any]:
    return dict(record.model_dump()) | changes


# -- Transaction ----------------------------------------------------------------------------


def test_code_lists() -> None:
    assert {"EUR", "USD", "JPY", "GBP"} <= CURRENCIES
    assert len(CURRENCIES) == 156
    assert {"DE", "FR", "US", "GB"} <= COUNTRIES
    assert len(COUNTRIES) == 249


AMOUNT = re.compile(AMOUNT_PATTERN)


@settings(derandomize=True, database=None, max_examples=500)
@given(
    st.decimals(
        min_value=Decimal("-10"), max_value=Decimal("1000001"), allow_nan=False, places=3
    ).map(str)
    | st.from_regex(r"\A[0-9]{1,8}(\.[0-9]{0,3})?\Z")
)
def test_the_amount_pattern_is_exactly_the_amount_rule(text: str) -> None:
    number = Decimal(text)
    canonical = (
        text == text.strip()
        and not text.startswith(("+", "-", "."))
        and not text.endswith(".")
        and "e" not in text.lower()
        and not (len(text.split(".")[0]) > 1 and text.startswith("0"))
    )
    places = -int(number.as_tuple().exponent)
    valid = canonical and Decimal(0) < number <= MAX_AMOUNT and places <= 2
    assert bool(AMOUNT.match(text)) == valid


def test_amounts_built_in_python_are_normalised_to_two_places() -> None:
    for given_amount, stored in [
        (Decimal("12.5"), "12.50"),
        (Decimal("1E+2"), "100.00"),
        (Decimal("1.50000"), "1.50"),
        ("7", "7.00"),
    ]:
        record = Transaction.model_validate(changed(examples.transaction(), amount=given_amount))
        assert str(record.amount) == stored


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("1000000.01"), Decimal("1.005"), "NaN"])
def test_python_built_amounts_obey_the_same_bounds(amount: object) -> None:
    with pytest.raises(ValidationError):
        Transaction.model_validate(changed(examples.transaction(), amount=amount))


@pytest.mark.parametrize("event_time", [1_793_614_530, "1793614530", datetime(2026, 11, 2, 10)])
def test_python_built_timestamps_are_aware_datetimes_or_iso_strings(event_time: object) -> None:
    with pytest.raises(ValidationError):
        Transaction.model_validate(changed(examples.transaction(), event_time=event_time))


def test_python_built_transactions_accept_plain_strings_for_enums() -> None:
    record = Transaction.model_validate(
        changed(examples.transaction(), channel="ECOM", event_time="2026-11-02T10:15:30Z")
    )
    assert record.channel == "ECOM"
    assert record.event_time == datetime(2026, 11, 2, 10, 15, 30, tzinfo=UTC)


# -- Decision -------------------------------------------------------------------------------


def test_decision_ids_are_uuid5_of_the_transaction_id_and_stable() -> None:
    first = decision_id_for("tx-000001")
    assert first == decision_id_for("tx-000001")
    assert first != decision_id_for("tx-000002")
    assert uuid.UUID(first).version == 5
    # Pinned: downstream de-duplicates on it, so it must never change between releases.
    assert first == "49df60cb-d252-57cc-8b8e-619ead79befe"


def test_dead_letter_ids_are_stable_per_source_coordinates() -> None:
    assert dead_letter_id_for("t", 1, 2) == dead_letter_id_for("t", 1, 2)
    assert dead_letter_id_for("t", 1, 2) != dead_letter_id_for("t", 2, 1)


@pytest.mark.parametrize(
    "changes",
    [
        {"fallback": True},  # no reason
        {"fallback_reason": FallbackReason.MODEL_ERROR},  # a reason without fallback
        {"score": None},  # no score, not a fallback
        {"model": None},  # no model, not because none was loaded
        {"score": 1.5},
        {"score": math.nan},
        {"role": DeploymentRole.SHADOW},  # shadows never decide
        {"reason_codes": ["lower_case"]},
    ],
)
def test_decision_invariants(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Decision.model_validate(changed(examples.decision(), **changes))


def test_a_decision_without_any_model_is_a_model_unavailable_fallback() -> None:
    record = Decision.model_validate(
        changed(
            examples.decision(),
            model=None,
            score=None,
            fallback=True,
            fallback_reason=FallbackReason.MODEL_UNAVAILABLE,
        )
    )
    assert record.model is None


# -- ScoringLogRecord -----------------------------------------------------------------------


def test_nan_features_are_logged_as_missing() -> None:
    log = ScoringLogRecord.model_validate(
        changed(examples.scoring_log(), features={"amount": 12.0, "velocity": math.nan})
    )
    assert log.features == {"amount": 12.0, "velocity": None}


def test_infinite_features_are_refused() -> None:
    with pytest.raises(ValidationError):
        ScoringLogRecord.model_validate(changed(examples.scoring_log(), features={"a": math.inf}))


def test_a_model_output_has_a_score_or_an_error() -> None:
    output = examples.scoring_log().outputs[0]
    with pytest.raises(ValidationError):
        ModelOutput.model_validate(changed(output, error="boom"))
    with pytest.raises(ValidationError):
        ModelOutput.model_validate(changed(output, score=None))


# -- FraudLabel, DriftReport ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "is_fraud"),
    [(LabelSource.CLEARED, True), (LabelSource.CONFIRMED_FRAUD, False)],
)
def test_label_source_and_label_agree(source: LabelSource, is_fraud: bool) -> None:
    with pytest.raises(ValidationError):
        FraudLabel.model_validate(
            changed(examples.fraud_label(), label_source=source, is_fraud=is_fraud)
        )


def test_a_chargeback_may_be_either() -> None:
    label = FraudLabel.model_validate(changed(examples.fraud_label(), is_fraud=False))
    assert label.label_source is LabelSource.CHARGEBACK


def test_a_drift_window_ends_after_it_starts() -> None:
    start = datetime(2026, 11, 2, tzinfo=UTC)
    with pytest.raises(ValidationError):
        DriftWindow(kind=WindowKind.TIME, start=start, end=start - timedelta(seconds=1), n=0)


# -- ModelControl ---------------------------------------------------------------------------


def test_the_deployment_plan_forbids_unknown_fields() -> None:
    with pytest.raises(ValidationError, match="extra"):
        ModelControl.model_validate(changed(examples.model_control(), kill_switch=True))
    champion = examples.model_control().champion.model_dump() | {"weight": 2}
    with pytest.raises(ValidationError, match="extra"):
        ModelControl.model_validate(changed(examples.model_control(), champion=champion))


@pytest.mark.parametrize(
    "changes",
    [
        {"previous_plan_version": 7},  # not lower
        {"previous_plan_version": None},  # only plan 1 has none
        {"canary": None, "shadows": [examples.model_control().champion.model_dump()]},
        {"reason": ""},
    ],
)
def test_deployment_plan_invariants(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ModelControl.model_validate(changed(examples.model_control(), **changes))


def test_the_canary_share_is_a_fraction() -> None:
    canary = examples.model_control().model_dump()["canary"] | {"traffic_share": 1.5}
    with pytest.raises(ValidationError):
        ModelControl.model_validate(changed(examples.model_control(), canary=canary))


def test_fast_decision_id_equals_the_standard_uuid5() -> None:
    import uuid

    from schemas.decision import DECISION_ID_NAMESPACE

    for transaction_id in ["tx-000001", "T0000000001", "é-ü-🙂", "x" * 64, "a"]:
        expected = str(uuid.uuid5(DECISION_ID_NAMESPACE, transaction_id))
        assert decision_id_for(transaction_id) == expected
