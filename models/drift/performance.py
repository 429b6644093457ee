"""Live precision, recall and PR-AUC per model version, over its latest matured events.

Each model version (name, version, content hash) keeps its last `window` matured events in a
ring: every report shows the quality over the same number of recent outcomes, however the drift
windows are cut. Flagged = the model's own outcome is REVIEW or DECLINE; positive = the final
label is fraud (unlabelled after maturity = genuine, see models.drift.join).

PR-AUC is scikit-learn's average precision. It depends on the fraud rate, so a change of the
fraud mix moves it even when the model is as good as before: the alert on it compares with the
package's test PR-AUC and waits for `min_positives` fraud labels.

Both PR-AUCs are samples, and a weak model's are tiny and noisy: on seed 41's simulated clean
traffic (test PR-AUC 0.048 from ~70 frauds) a point comparison alerted in 15 of 105 windows. So
the alert compares the live interval's upper bound with the test interval's lower bound, each the
logit interval of Boyd, Eng & Page (2013, "Area under the precision-recall curve: point
estimates and confidence intervals"; good coverage from ~50 positives in their study):
logit(AP) ± z / sqrt(n · AP · (1 − AP)). Written by hand because scipy has no interval for
average precision, and a bootstrap of a 50,000-event ring per report would cost seconds a window.
For the live figure n is the fraud incidents, not the fraud labels: fraud comes as one victim
card with several transactions, caught or missed together (2.6 labels a card in the
simulation), so, as for arrived recall (models.drift.arrivals), the sample size is the labels
over the design effect labels / distinct cards. Counted by label, the interval was too narrow:
at ~24,000 events a day the ring holds two days and ~180 frauds, and seed 7's clean traffic
raised a PR-AUC alarm (docs/drift.md). The test figure's n stays its fraud count: the package
records no cards, so its interval is narrower than the truth and the alert errs towards alarms.

Matured events carry the label join's sampling weight (models.drift.join): precision, recall and
PR-AUC are weighted, so they estimate the whole traffic's; `positives` and `labels_joined` stay
counts of events actually seen, because the gates need evidence, not estimates.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import average_precision_score

from models.drift.arrivals import Z_95, count_incidents
from models.drift.events import FLAGGED_OUTCOMES, utc_from_ms
from models.drift.join import Matured
from schemas.base import DeploymentRole, ModelRef
from schemas.drift import LivePerformance


@dataclass(frozen=True, slots=True)
class _Outcome:
    event_ms: int
    score: float
    flagged: bool
    is_fraud: bool
    labelled: bool
    weight: float
    card: str


class _ModelRing:
    def __init__(self, role: DeploymentRole, size: int) -> None:
        self.role = role
        self.outcomes: deque[_Outcome] = deque(maxlen=size)


class PerformanceTracker:
    def __init__(self, window: int = 50_000, max_models: int = 16) -> None:
        if window < 1 or max_models < 1:
            raise ValueError("window and max_models must be positive")
        self.window = window
        self.max_models = max_models
        self._models: OrderedDict[ModelRef, _ModelRing] = OrderedDict()

    def add(self, matured: Matured) -> None:
        for output in matured.outputs:
            ring = self._models.get(output.model)
            if ring is None:
                if len(self._models) >= self.max_models:
                    self._models.popitem(last=False)  # the version not seen for longest
                ring = self._models[output.model] = _ModelRing(output.role, self.window)
            else:
                self._models.move_to_end(output.model)
                ring.role = output.role
            ring.outcomes.append(
                _Outcome(
                    matured.event_ms,
                    output.score,
                    output.outcome in FLAGGED_OUTCOMES,
                    matured.is_fraud,
                    matured.labelled,
                    matured.weight,
                    matured.card,
                )
            )

    def snapshot(
        self,
        reference: ModelRef,
        reference_pr_auc: float | None,
        reference_positives: int | None = None,
    ) -> list[LivePerformance]:
        """One entry per model version with matured events, the reference model first.
        `reference_positives`: the frauds behind `reference_pr_auc`, for its interval."""
        order = sorted(self._models, key=lambda model: model != reference)
        return [
            _performance(
                model,
                self._models[model],
                reference_pr_auc if model == reference else None,
                reference_positives if model == reference else None,
            )
            for model in order
            if self._models[model].outcomes
        ]


def logit_interval(ap: float, positives: float, z: float = Z_95) -> tuple[float, float]:
    """Boyd et al.'s logit interval of an average precision estimated on `positives` frauds."""
    if positives <= 0 or not 0 < ap < 1:
        return (ap, ap) if positives > 0 else (0.0, 1.0)
    centre = math.log(ap / (1 - ap))
    half = z / math.sqrt(positives * ap * (1 - ap))
    return _expit(centre - half), _expit(centre + half)


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _performance(
    model: ModelRef,
    ring: _ModelRing,
    reference_pr_auc: float | None,
    reference_positives: int | None,
) -> LivePerformance:
    outcomes = ring.outcomes
    scores = np.fromiter((o.score for o in outcomes), dtype=np.float64, count=len(outcomes))
    fraud = np.fromiter((o.is_fraud for o in outcomes), dtype=bool, count=len(outcomes))
    flagged = np.fromiter((o.flagged for o in outcomes), dtype=bool, count=len(outcomes))
    weights = np.fromiter((o.weight for o in outcomes), dtype=np.float64, count=len(outcomes))
    positives = int(fraud.sum())
    incidents = count_incidents((o.card, 1) for o in outcomes if o.is_fraud)
    flagged_count = int(flagged.sum())
    true_positives = float(weights[fraud & flagged].sum())
    flagged_weight = float(weights[flagged].sum())
    positive_weight = float(weights[fraud].sum())
    both_classes = 0 < positives < len(outcomes)
    pr_auc = (
        float(average_precision_score(fraud, scores, sample_weight=weights))
        if both_classes
        else None
    )
    reference_low = None
    if reference_pr_auc is not None:
        reference_low = (
            logit_interval(reference_pr_auc, reference_positives)[0]
            if reference_positives
            else reference_pr_auc
        )
    return LivePerformance(
        model=model,
        role=ring.role,
        labels_joined=sum(1 for o in outcomes if o.labelled),
        positives=positives,
        precision=true_positives / flagged_weight if flagged_count else None,
        recall=true_positives / positive_weight if positives else None,
        pr_auc=pr_auc,
        window_start=utc_from_ms(min(o.event_ms for o in outcomes)),
        window_end=utc_from_ms(max(o.event_ms for o in outcomes)),
        events=len(outcomes),
        flagged=flagged_count,
        reference_pr_auc=reference_pr_auc,
        fraud_incidents=incidents,
        pr_auc_high=logit_interval(pr_auc, incidents)[1] if pr_auc is not None else None,
        reference_pr_auc_low=reference_low,
    )
