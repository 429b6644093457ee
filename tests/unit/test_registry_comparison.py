"""`registry compare` on logged records: agreement, score deltas, precision and recall on the
labelled events, against the real FraudLabel contract."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.registry.comparison import compare, latest_labels
from schemas import DeploymentRole, ModelOutput, ModelRef, Outcome, ScoringLogRecord, examples
from schemas.label import FraudLabel, LabelSource

CHAMPION, SHADOW = examples.champion(), examples.shadow()


def _output(role: DeploymentRole, model: ModelRef, said: tuple[float, str]) -> ModelOutput:
    score, outcome = said
    return ModelOutput(
        role=role, model=model, score=score, outcome=Outcome(outcome), latency_us=100.0
    )


def _log(n: int, champion: tuple[float, str], shadow: tuple[float, str] | None) -> ScoringLogRecord:
    outputs = [_output(DeploymentRole.CHAMPION, CHAMPION, champion)]
    if shadow is not None:
        outputs.append(_output(DeploymentRole.SHADOW, SHADOW, shadow))
    return examples.scoring_log().model_copy(
        update={"decision_id": f"d-{n}", "transaction_id": f"tx-{n}", "outputs": outputs}
    )


def _label(n: int, fraud: bool, days: int = 10) -> FraudLabel:
    source = LabelSource.CONFIRMED_FRAUD if fraud else LabelSource.CLEARED
    return examples.fraud_label().model_copy(
        update={
            "transaction_id": f"tx-{n}",
            "is_fraud": fraud,
            "label_source": source,
            "labelled_at": examples.fraud_label().labelled_at + timedelta(days=days),
        }
    )


def test_agreement_deltas_and_labelled_precision_recall() -> None:
    logs = [
        _log(0, (0.90, "DECLINE"), (0.80, "DECLINE")),  # fraud: both flag
        _log(1, (0.60, "REVIEW"), (0.20, "APPROVE")),  # fraud: the shadow misses it
        _log(2, (0.70, "REVIEW"), (0.75, "REVIEW")),  # genuine: both flag
        _log(3, (0.10, "APPROVE"), (0.10, "APPROVE")),  # unlabelled
        _log(4, (0.10, "APPROVE"), None),  # the shadow did not score it: not compared
    ]
    labels = latest_labels([_label(0, True), _label(1, True), _label(2, False)])
    (pair,) = compare(logs, labels)
    assert (pair.role, pair.challenger, pair.champion) == (
        "shadow",
        "hgb-fraud:1.4.0-rc1",
        "hgb-fraud:1.3.0",
    )
    assert pair.events == 4 and pair.agreement == 0.75
    assert pair.mean_delta == pytest.approx((-0.10 - 0.40 + 0.05 + 0.0) / 4)
    assert pair.mean_abs_delta == pytest.approx((0.10 + 0.40 + 0.05) / 4)
    assert pair.max_abs_delta == pytest.approx(0.40)
    champion, shadow = pair.champion_labelled, pair.challenger_labelled
    assert (champion.labelled, champion.precision, champion.recall) == (3, 2 / 3, 1.0)
    assert (shadow.labelled, shadow.precision, shadow.recall) == (3, 0.5, 0.5)


def test_a_later_label_supersedes_an_earlier_one_whatever_the_arrival_order() -> None:
    reported, cleared = _label(0, True, days=5), _label(0, False, days=9)
    assert latest_labels([reported, cleared]) == {"tx-0": False}
    assert latest_labels([cleared, reported]) == {"tx-0": False}  # arrived late, labelled early


def test_a_transaction_logged_twice_counts_once() -> None:
    """A replay logs again (answered with its recorded decision): it must not weigh double."""
    first = _log(0, (0.9, "DECLINE"), (0.1, "APPROVE"))
    replay = _log(0, (0.9, "DECLINE"), None)
    (pair,) = compare([first, replay, first], {})
    assert pair.events == 1 and pair.agreement == 0.0
    assert pair.champion_labelled.labelled == 0 and pair.champion_labelled.precision is None
