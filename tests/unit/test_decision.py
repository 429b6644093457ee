"""Thresholds, rules that only escalate, reason hints and the fallback modes."""

from __future__ import annotations

import pytest

from models.decision import DecisionMaker, FallbackMode, Verdict
from schemas.model_package import DecisionPolicy, DecisionRule, ReasonHint

NAMES = ["amount", "card_small_count_1h", "risk_flag"]


@pytest.fixture
def maker() -> DecisionMaker:
    policy = DecisionPolicy(
        review_threshold=0.3,
        decline_threshold=0.7,
        target_decline_fpr=0.0005,
        target_review_fpr=0.005,
        rules=[
            DecisionRule(
                feature="card_small_count_1h", op=">=", value=8, outcome="REVIEW",
                reason_code="CARD_TESTING_PATTERN",
            ),
            DecisionRule(
                feature="risk_flag", op="==", value=1, outcome="DECLINE", reason_code="RISK_FLAG"
            ),
        ],
        reason_hints=[ReasonHint(feature="amount", above=100.0, reason_code="HIGH_AMOUNT")],
    )  # fmt: skip
    return DecisionMaker(policy, NAMES)


def test_scores_map_to_outcomes_at_inclusive_thresholds(maker: DecisionMaker) -> None:
    assert maker.decide(0.2999, [10, 0, 0]) == Verdict("APPROVE", ())
    assert maker.decide(0.3, [10, 0, 0]) == Verdict("REVIEW", ("SCORE_ABOVE_REVIEW_THRESHOLD",))
    assert maker.decide(0.7, [10, 0, 0]) == Verdict("DECLINE", ("SCORE_ABOVE_DECLINE_THRESHOLD",))


def test_reason_hints_name_unusual_features_of_flagged_payments_only(
    maker: DecisionMaker,
) -> None:
    assert maker.decide(0.8, [500, 0, 0]).reason_codes == (
        "SCORE_ABOVE_DECLINE_THRESHOLD",
        "HIGH_AMOUNT",
    )
    assert maker.decide(0.1, [500, 0, 0]) == Verdict("APPROVE", ())
    assert maker.decide(0.8, [100, 0, 0]).reason_codes == ("SCORE_ABOVE_DECLINE_THRESHOLD",)


def test_rules_escalate_a_low_score(maker: DecisionMaker) -> None:
    assert maker.decide(0.1, [10, 8, 0]) == Verdict("REVIEW", ("CARD_TESTING_PATTERN",))
    assert maker.decide(0.1, [10, 0, 1]) == Verdict("DECLINE", ("RISK_FLAG",))


def test_rules_never_lower_an_outcome(maker: DecisionMaker) -> None:
    verdict = maker.decide(0.9, [10, 9, 0])
    assert verdict == Verdict("DECLINE", ("SCORE_ABOVE_DECLINE_THRESHOLD", "CARD_TESTING_PATTERN"))


@pytest.mark.parametrize(
    ("op", "observed", "holds"),
    [(">", 5, False), (">", 5.5, True), ("<", 4.9, True), ("<=", 5, True), ("==", 5, True)],
)
def test_each_rule_operator(op: str, observed: float, holds: bool) -> None:
    rule = DecisionRule(feature="amount", op=op, value=5, outcome="REVIEW", reason_code="R")  # type: ignore[arg-type]
    policy = DecisionPolicy(
        review_threshold=0.5, decline_threshold=0.9, target_decline_fpr=0.001,
        target_review_fpr=0.01, rules=[rule], reason_hints=[],
    )  # fmt: skip
    outcome = DecisionMaker(policy, ["amount"]).decide(0.0, [observed]).outcome
    assert outcome == ("REVIEW" if holds else "APPROVE")


def test_fallback_modes(maker: DecisionMaker) -> None:
    assert maker.fallback(FallbackMode.APPROVE, [10, 9, 1]) == Verdict(
        "APPROVE", ("FALLBACK_APPROVE",)
    )
    assert maker.fallback(FallbackMode.REVIEW, None) == Verdict("REVIEW", ("FALLBACK_REVIEW",))
    assert maker.fallback(FallbackMode.RULES_ONLY, [10, 9, 0]) == Verdict(
        "REVIEW", ("FALLBACK_RULES_ONLY", "CARD_TESTING_PATTERN")
    )
    assert maker.fallback(FallbackMode.RULES_ONLY, [10, 0, 0]) == Verdict(
        "APPROVE", ("FALLBACK_RULES_ONLY",)
    )
    assert maker.fallback(FallbackMode.RULES_ONLY, None) == Verdict(
        "APPROVE", ("FALLBACK_RULES_ONLY",)
    )
