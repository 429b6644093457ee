"""Performance from the labels that have arrived so far, per event day, before any maturity.

Matured figures (models.drift.performance) wait `label_maturity_days` (60 by default) for an
event to count; a fraud pattern the model stopped catching shows there two months late. Fraud
labels arrive from the first days, though (chargebacks: median about a week), and among the
fraud labels already in, the share the model had flagged is an early, honest estimate of recall,
as long as how soon fraud is reported does not depend on whether the model flagged it. (Where
flagged fraud is confirmed faster, by review, this estimate reads high: a drop then shows late,
never falsely.) Precision so far (fraud labels in among flagged events) only grows as labels
arrive, so it is a lower bound and is reported, not alerted on.

Per model version and event day (UTC) the tally keeps: events and flagged events (exact), fraud
labels in force and how many of those were flagged (weighted by the label join's sampling
weight), and the sum of scores over all and over flagged events: the label-free estimate.

The label-free estimate is CBPE-style (NannyML's confidence-based performance estimation): if
scores are calibrated probabilities, expected frauds are the sum of scores and expected caught
frauds the sum over flagged events, so estimated recall = Σ flagged scores / Σ scores and
estimated precision = Σ flagged scores / flagged. It sees performance change through covariate
shift on the day it happens, and by construction cannot see concept drift (the scores look as
they did while their meaning changed): it is reported beside the label-based figures, never
alerted on. It also reads whatever the model's calibration is: a model trained on
undersampled data overestimates.

Alert: the newest event days pooled until they hold enough evidence (below), at most
`max_days` of them; a Wilson interval on recall, and an alert when its upper bound is below the
package's test recall by the recall-drop thresholds: a collapse is alerted on once the evidence
excludes the reference level, not on a noisy point estimate.

Evidence is counted by incident, not by label: fraud comes as one victim card with several
transactions, all caught or all missed together, so 20 labels from 5 cards are about 5 pieces of
evidence. The interval's sample size is the weights' effective size divided by the design effect
labels / distinct cards (Kish), i.e. the distinct fraud cards when weights are equal: exact when
a card's frauds share their outcome, conservative when they do not. The bounds are one-sided
95 % bounds (z = 1.645: the question is one-sided, did recall fall), so `recall_low` and
`recall_high` together are a 90 % interval. Counted by label, seed 7's
clean simulated traffic gave four recall alarms (0 of 21 labels caught while live recall was
about 0.45: three or four missed card-testing runs). Where labels carry no card, each counts
as its own incident.

The pool grows until `min_labels` fraud labels are in and its effective size could show a total
collapse as a minor drop (`effective_needed`): a pool of 20 labels can never alert when the test
recall's lower bound is 0.18 (the upper bound of 0 of 20 is 0.16, above 0.7 × 0.18), so stopping
there judged, forever, a pool that could not decide.
Written by hand: scipy's binomtest interval needs integer counts, and the weights are not.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from models.drift.events import FLAGGED_OUTCOMES, ModelScore, ScoredEvent, utc_from_ms
from models.drift.join import DAY_MS, LabelChange
from schemas.base import ModelRef
from schemas.drift import ArrivedPerformance

Z_95 = 1.959963984540054
Z_ONE_SIDED_95 = 1.6448536269514722
"""scipy.stats.norm.ppf(0.95): the recall alert asks a one-sided question (did recall fall?),
so its bounds are one-sided 95 % bounds, on the live figure and on the test figure alike."""


@dataclass(slots=True)
class _Day:
    events: int = 0
    flagged: int = 0
    score_sum: float = 0.0
    flagged_score_sum: float = 0.0
    fraud: float = 0.0
    """Weighted fraud labels in force."""
    fraud_sq: float = 0.0
    """Sum of squared weights of those: the effective sample size."""
    fraud_flagged: float = 0.0
    fraud_count: int = 0
    """Fraud labels in force, unweighted: the evidence gate counts these."""
    cards: Counter[str] = field(default_factory=Counter)
    """Fraud labels in force per card (incidents); "" counts labels without a card."""


class ArrivingLabels:
    def __init__(self, keep_days: int = 120, max_models: int = 16) -> None:
        if keep_days < 1 or max_models < 1:
            raise ValueError("keep_days and max_models must be positive")
        self.keep_days = keep_days
        self.max_models = max_models
        self._models: OrderedDict[ModelRef, dict[int, _Day]] = OrderedDict()

    def _day(self, model: ModelRef, event_ms: int) -> _Day:
        days = self._models.get(model)
        if days is None:
            if len(self._models) >= self.max_models:
                self._models.popitem(last=False)
            days = self._models[model] = {}
        else:
            self._models.move_to_end(model)
        day = event_ms // DAY_MS
        tally = days.get(day)
        if tally is None:
            tally = days[day] = _Day()
            for old in [d for d in days if d <= day - self.keep_days]:
                del days[old]
        return tally

    def add_event(self, event: ScoredEvent) -> None:
        for output in event.outputs:
            tally = self._day(output.model, event.event_ms)
            tally.events += 1
            tally.score_sum += output.score
            if output.outcome in FLAGGED_OUTCOMES:
                tally.flagged += 1
                tally.flagged_score_sum += output.score

    def add_label(self, change: LabelChange) -> None:
        """Follow the fraud label in force of one event (a later label may overturn it)."""
        delta = int(change.is_fraud) - int(change.was_fraud is True)
        if delta == 0:
            return
        for output in change.outputs:
            days = self._models.get(output.model)
            tally = days.get(change.event_ms // DAY_MS) if days is not None else None
            if tally is None:
                continue  # an event older than the days kept
            tally.fraud += delta * change.weight
            tally.fraud_sq += delta * change.weight**2
            tally.fraud_count += delta
            tally.cards[change.card] += delta
            if tally.cards[change.card] <= 0:
                del tally.cards[change.card]
            if _flagged(output):
                tally.fraud_flagged += delta * change.weight

    def days(self, model: ModelRef, last: int) -> list[ArrivedPerformance]:
        """The model's `last` event days up to its latest, oldest first."""
        days = self._models.get(model)
        if not days:
            return []
        newest = max(days)
        return [
            _figures(model, day, day + 1, [days[day]])
            for day in range(newest - last + 1, newest + 1)
            if day in days
        ]

    def pooled(
        self,
        model: ModelRef,
        end_ms: int,
        min_labels: int,
        max_days: int,
        effective_needed: float = 0.0,
    ) -> ArrivedPerformance | None:
        """The newest event days before `end_ms` (exclusive) that together have `min_labels`
        fraud labels in and an effective sample size of `effective_needed`, at most `max_days`
        of them: the most recent evidence that can judge. (The last few days have hardly any
        labels yet: a fixed trailing week would be empty.)"""
        days = self._models.get(model)
        if not days:
            return None
        last = (end_ms - 1) // DAY_MS
        tallies: list[_Day] = []
        labels = 0
        first = last
        for day in range(last, last - max_days, -1):
            tally = days.get(day)
            first = day
            if tally is not None:
                tallies.append(tally)
                labels += tally.fraud_count
            if labels >= min_labels and effective_size(tallies) >= effective_needed:
                break
        return _figures(model, first, last + 1, tallies) if tallies else None


def effective_size(tallies: list[_Day]) -> float:
    """Kish's effective sample size of the weighted fraud labels over the design effect of
    their clustering by card (labels / distinct cards)."""
    fraud = sum(t.fraud for t in tallies)
    fraud_sq = sum(t.fraud_sq for t in tallies)
    count = sum(t.fraud_count for t in tallies)
    if fraud <= 0 or fraud_sq <= 0 or count <= 0:
        return 0.0
    return fraud**2 / fraud_sq * incidents(tallies) / count


def incidents(tallies: list[_Day]) -> int:
    """Distinct fraud cards over the days (a card on two days is one incident)."""
    return count_incidents(pair for tally in tallies for pair in tally.cards.items())


def count_incidents(labels_by_card: Iterable[tuple[str, int]]) -> int:
    """Fraud incidents among (card, fraud labels) pairs: distinct cards, and each label without
    a card ("") an incident of its own."""
    cards: set[str] = set()
    unknown = 0
    for card, count in labels_by_card:
        if card:
            cards.add(card)
        else:
            unknown += count
    return len(cards) + unknown


def _flagged(output: ModelScore) -> bool:
    return output.outcome in FLAGGED_OUTCOMES


def _figures(
    model: ModelRef, first_day: int, end_day: int, tallies: list[_Day]
) -> ArrivedPerformance:
    events = sum(t.events for t in tallies)
    flagged = sum(t.flagged for t in tallies)
    fraud = sum(t.fraud for t in tallies)
    fraud_sq = sum(t.fraud_sq for t in tallies)
    caught = sum(t.fraud_flagged for t in tallies)
    scores = sum(t.score_sum for t in tallies)
    flagged_scores = sum(t.flagged_score_sum for t in tallies)
    recall = caught / fraud if fraud > 0 else None
    low = high = None
    if recall is not None and fraud_sq > 0:
        low, high = wilson(recall, effective_size(tallies), Z_ONE_SIDED_95)
    return ArrivedPerformance(
        model=model,
        period_start=utc_from_ms(first_day * DAY_MS),
        period_end=utc_from_ms(end_day * DAY_MS),
        events=events,
        flagged=flagged,
        fraud_labels=sum(t.fraud_count for t in tallies),
        fraud_cards=incidents(tallies),
        fraud_labels_weighted=fraud,
        recall=_unit(recall),
        recall_low=low,
        recall_high=high,
        precision_lower_bound=_unit(caught / flagged) if flagged else None,
        estimated_recall=_unit(flagged_scores / scores) if scores > 0 else None,
        estimated_precision=_unit(flagged_scores / flagged) if flagged else None,
    )


def wilson(share: float, n: float, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a proportion observed on n (possibly effective) trials."""
    if n <= 0:
        return 0.0, 1.0
    denominator = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def _unit(value: float | None) -> float | None:
    """Clamp rounding (weights, float sums) into [0, 1]."""
    return None if value is None else min(1.0, max(0.0, value))
