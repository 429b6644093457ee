"""Champion against challengers on logged traffic: how often they agree, how far their scores
are apart, and their precision and recall on the events whose fraud labels have arrived.

Pure: it reads scoring-log records and fraud labels (schemas.ScoringLogRecord and
schemas.label.FraudLabel, already decoded) and returns figures; reading the topics is the CLI's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from models.drift.events import FLAGGED_OUTCOMES
from schemas import ModelOutput, ScoringLogRecord
from schemas.label import FraudLabel


@dataclass
class Confusion:
    """A model's outcomes against the labels; flagged as the drift monitor counts it (REVIEW or
    DECLINE), so these figures and its live precision/recall mean the same."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, flagged: bool, fraud: bool) -> None:
        if flagged:
            self.tp, self.fp = self.tp + fraud, self.fp + (not fraud)
        else:
            self.fn, self.tn = self.fn + fraud, self.tn + (not fraud)

    @property
    def labelled(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class PairComparison:
    """The champion against one challenger (canary or shadow), on the events both scored."""

    role: str
    challenger: str  # NAME:VERSION
    champion: str
    events: int = 0
    agreements: int = 0
    score_delta_sum: float = 0.0  # challenger − champion
    abs_delta_sum: float = 0.0
    max_abs_delta: float = 0.0
    champion_labelled: Confusion = field(default_factory=Confusion)
    challenger_labelled: Confusion = field(default_factory=Confusion)

    @property
    def agreement(self) -> float:
        return self.agreements / self.events

    @property
    def mean_delta(self) -> float:
        return self.score_delta_sum / self.events

    @property
    def mean_abs_delta(self) -> float:
        return self.abs_delta_sum / self.events


def latest_labels(labels: Iterable[FraudLabel]) -> dict[str, bool]:
    """Transaction id → is_fraud of its latest label: a later label supersedes an earlier one
    (a customer report later cleared), by labelled_at, then by arrival, as the drift join."""
    latest: dict[str, tuple[datetime, bool]] = {}
    for label in labels:
        known = latest.get(label.transaction_id)
        if known is None or label.labelled_at >= known[0]:
            latest[label.transaction_id] = (label.labelled_at, label.is_fraud)
    return {tx: fraud for tx, (_, fraud) in latest.items()}


def compare(logs: Iterable[ScoringLogRecord], labels: dict[str, bool]) -> list[PairComparison]:
    """One comparison per (role, challenger, champion), in that order.

    A transaction counts once: its first log record (the one that scored it). A replay answered
    with its recorded decision logs only the deciding model and would add nothing but weight.
    """
    pairs: dict[tuple[str, str, str], PairComparison] = {}
    seen: set[str] = set()
    for record in logs:
        if record.decision_id in seen:
            continue
        seen.add(record.decision_id)
        champion = next((o for o in record.outputs if o.role.value == "champion"), None)
        if champion is None or champion.score is None:
            continue
        truth = labels.get(record.transaction_id)
        for other in record.outputs:
            if other is champion or other.score is None:
                continue
            key = (other.role.value, _label(other), _label(champion))
            pair = pairs.setdefault(key, PairComparison(*key))
            _add(pair, champion, other, truth)
    return [pairs[key] for key in sorted(pairs)]


def _add(
    pair: PairComparison, champion: ModelOutput, other: ModelOutput, truth: bool | None
) -> None:
    assert champion.score is not None and other.score is not None
    delta = other.score - champion.score
    pair.events += 1
    pair.agreements += other.outcome == champion.outcome
    pair.score_delta_sum += delta
    pair.abs_delta_sum += abs(delta)
    pair.max_abs_delta = max(pair.max_abs_delta, abs(delta))
    if truth is not None:
        pair.champion_labelled.add(champion.outcome in FLAGGED_OUTCOMES, truth)
        pair.challenger_labelled.add(other.outcome in FLAGGED_OUTCOMES, truth)


def _label(output: ModelOutput) -> str:
    return f"{output.model.name}:{output.model.version}"
