"""From a score (or none) to APPROVE / REVIEW / DECLINE with reason codes, per the package."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple

from schemas.model_package import DecisionPolicy

_SEVERITY = {"APPROVE": 0, "REVIEW": 1, "DECLINE": 2}


class FallbackMode(StrEnum):
    """What to decide when no model answer is available in time."""

    APPROVE = "approve"  # let the payment through, flagged
    REVIEW = "review"  # queue every such payment for a human
    RULES_ONLY = "rules_only"  # the package's rules alone; APPROVE when none fires


class Verdict(NamedTuple):
    outcome: str
    reason_codes: tuple[str, ...]


class DecisionMaker:
    """Applies a package's thresholds, rules and reason hints to feature vectors."""

    def __init__(self, policy: DecisionPolicy, feature_names: Sequence[str]) -> None:
        self.policy = policy
        column = {name: i for i, name in enumerate(feature_names)}
        self._rules = [(column[r.feature], r) for r in policy.rules]
        self._hints = [(column[h.feature], h) for h in policy.reason_hints]

    def decide(self, score: float, features: Sequence[float]) -> Verdict:
        if score >= self.policy.decline_threshold:
            outcome, codes = "DECLINE", ["SCORE_ABOVE_DECLINE_THRESHOLD"]
        elif score >= self.policy.review_threshold:
            outcome, codes = "REVIEW", ["SCORE_ABOVE_REVIEW_THRESHOLD"]
        else:
            outcome, codes = "APPROVE", []
        outcome = self._apply_rules(features, outcome, codes)
        if outcome != "APPROVE":
            codes.extend(h.reason_code for i, h in self._hints if features[i] > h.above)
        return Verdict(outcome, tuple(codes))

    def fallback(self, mode: FallbackMode, features: Sequence[float] | None) -> Verdict:
        if mode is FallbackMode.APPROVE:
            return Verdict("APPROVE", ("FALLBACK_APPROVE",))
        if mode is FallbackMode.REVIEW:
            return Verdict("REVIEW", ("FALLBACK_REVIEW",))
        codes = ["FALLBACK_RULES_ONLY"]
        outcome = "APPROVE" if features is None else self._apply_rules(features, "APPROVE", codes)
        return Verdict(outcome, tuple(codes))

    def _apply_rules(self, features: Sequence[float], outcome: str, codes: list[str]) -> str:
        for column, rule in self._rules:
            if _holds(features[column], rule.op, rule.value):
                codes.append(rule.reason_code)
                if _SEVERITY[rule.outcome] > _SEVERITY[outcome]:
                    outcome = rule.outcome
        return outcome


def _holds(observed: float, op: str, value: float) -> bool:
    if op == ">":
        return observed > value
    if op == ">=":
        return observed >= value
    if op == "<":
        return observed < value
    if op == "<=":
        return observed <= value
    return observed == value
