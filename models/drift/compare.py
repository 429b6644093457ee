"""One closed window against the reference: the report's statistics and the alerts they raise."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from models.drift.alerts import SEVERITY_RANK, alert, grade, graded, minor_threshold
from models.drift.arrivals import Z_ONE_SIDED_95, wilson
from models.drift.location import (
    LocationHistory,
    LocationShift,
    location_shift,
    material_shift,
)
from models.drift.stats import binned_ks, cohens_w, psi, shares_of, total_variation
from models.drift.window import FeatureTally, PredictionTally
from models.features.facts import CHANNELS, ENTRY_MODES
from models.profile import OUTCOMES
from schemas.drift import (
    AlertSeverity,
    AlertThresholds,
    ArrivedPerformance,
    DecisionRateDrift,
    DriftAlert,
    DriftStatistic,
    FeatureDrift,
    FeatureKind,
    Histogram,
    LivePerformance,
    OutcomeRates,
    ScoreDrift,
)
from schemas.model_package import FeatureProfile, ScoreProfile

CATEGORY_NAMES: dict[str, Sequence[str]] = {"channel": CHANNELS, "entry_mode": ENTRY_MODES}
"""Readable names of the integer category codes, for plots."""
UNSEEN_LABEL = "(unseen)"


def feature_drift(
    profile: FeatureProfile,
    tally: FeatureTally,
    thresholds: AlertThresholds,
    history: LocationHistory | None = None,
) -> tuple[FeatureDrift, list[DriftAlert]]:
    """`history`: the feature's location state (creep detector, last window's direction),
    advanced by this window when it is judged. Without it, a location warning needs no
    previous window."""
    exempt = profile.name in thresholds.exempt_features
    total = tally.present + tally.missing
    missing_live = tally.missing / total if total else None
    alerts: list[DriftAlert] = []
    if profile.kind == "numeric":
        primary = DriftStatistic.PSI
        labels = bin_labels(profile.bin_edges)
        live = shares_of(tally.bins)
        reference = np.asarray(profile.bin_shares, dtype=np.float64)
        unseen_share = None
    else:
        primary = DriftStatistic.TOTAL_VARIATION
        labels = [_category_label(profile.name, code) for code in profile.categories]
        labels.append(UNSEEN_LABEL)
        live = shares_of([*tally.bins.tolist(), tally.unseen])
        reference = np.asarray([*profile.categories.values(), 0.0], dtype=np.float64)
        unseen_share = tally.unseen / tally.present if tally.present else None
    enough = tally.present >= thresholds.min_events and len(reference) > 0
    stats = {
        DriftStatistic.PSI: psi(live, reference) if enough else None,
        DriftStatistic.TOTAL_VARIATION: total_variation(live, reference) if enough else None,
    }
    ks = binned_ks(live, reference) if enough and profile.kind == "numeric" else None
    w = cohens_w(tally.bins, reference[:-1]) if enough and profile.kind != "numeric" else None
    shift = location_shift(profile, tally.rank_sum, tally.present) if enough else None
    floor = material_shift(
        profile, thresholds.location_min_shift, thresholds.location_min_reference_errors
    )
    creep = (
        history.cusum.update(shift, floor)
        if history is not None and shift is not None and not exempt
        else None
    )

    if not exempt:
        alerts.extend(graded(profile.name, primary, stats[primary], thresholds))
        if shift is not None:
            alerts.extend(_location_alerts(profile.name, shift, floor, history, thresholds))
        alerts.extend(graded(profile.name, DriftStatistic.CUSUM, creep, thresholds))
        if enough and unseen_share is not None:
            alerts.extend(
                graded(profile.name, DriftStatistic.UNSEEN_SHARE, unseen_share, thresholds)
            )
        if total >= thresholds.min_events and missing_live is not None:
            moved = abs(missing_live - profile.missing_rate)
            alerts.extend(graded(profile.name, DriftStatistic.MISSING_RATE, moved, thresholds))
    worst = max(alerts, key=lambda a: SEVERITY_RANK[a.severity], default=None)
    drift = FeatureDrift(
        feature=profile.name,
        kind=FeatureKind(profile.kind),
        psi=stats[DriftStatistic.PSI],
        ks=ks,
        missing_rate_live=missing_live,
        missing_rate_reference=profile.missing_rate,
        alert_statistic=worst.statistic if worst and worst.statistic else primary,
        threshold=worst.threshold if worst else minor_threshold(primary, thresholds),
        alert=worst is not None,
        total_variation=stats[DriftStatistic.TOTAL_VARIATION],
        cohens_w=w,
        unseen_share=unseen_share,
        values_live=tally.present,
        exempt=exempt,
        histogram=_histogram(labels, live, reference) if tally.present else None,
        location_z=shift.z if shift is not None else None,
        location_shift=shift.delta if shift is not None else None,
        location_floor=floor if shift is not None else None,
        cusum=creep,
    )
    return drift, alerts


def score_drift(
    profile: ScoreProfile | None,
    tally: PredictionTally,
    span: int,
    thresholds: AlertThresholds,
    alerting: bool = True,
) -> tuple[ScoreDrift, list[DriftAlert]]:
    """`tally` adds up the last `span` windows (see models.drift.monitor)."""
    if profile is None or tally.score_bins is None:
        return ScoreDrift(
            alert_statistic=DriftStatistic.PSI, threshold=thresholds.psi_minor, alert=False
        ), []
    live = shares_of(tally.score_bins)
    reference = np.asarray(profile.bin_shares, dtype=np.float64)
    enough = tally.scores >= thresholds.min_events
    value = psi(live, reference) if enough else None
    alerts = graded("score", DriftStatistic.PSI, value, thresholds) if alerting else []
    return ScoreDrift(
        psi=value,
        ks=binned_ks(live, reference) if enough else None,
        mean_live=min(1.0, tally.score_sum / tally.scores) if tally.scores else None,
        mean_reference=None,  # the score profile keeps bins and rates, not the mean
        alert_statistic=DriftStatistic.PSI,
        threshold=alerts[0].threshold if alerts else thresholds.psi_minor,
        alert=bool(alerts),
        total_variation=total_variation(live, reference) if enough else None,
        scores_live=tally.scores,
        span_windows=span,
        span_full=alerting,
        histogram=_histogram(bin_labels(profile.bin_edges), live, reference)
        if tally.scores
        else None,
    ), alerts


def decision_rates(
    profile: ScoreProfile | None,
    tally: PredictionTally,
    span: int,
    thresholds: AlertThresholds,
    alerting: bool = True,
) -> tuple[DecisionRateDrift, list[DriftAlert]]:
    decided = sum(tally.outcomes[o] for o in OUTCOMES)
    live = {o: tally.outcomes[o] / decided if decided else 0.0 for o in OUTCOMES}
    expected = profile.outcome_rates if profile is not None else {}
    reference = {o: float(expected.get(o, 0.0)) for o in OUTCOMES}
    alerts: list[DriftAlert] = []
    for outcome in ("REVIEW", "DECLINE"):
        rate = reference[outcome]
        if not alerting or rate <= 0 or decided * rate < thresholds.min_expected_decisions:
            continue
        ratio = live[outcome] / rate
        subject = f"decision_rate:{outcome}"
        severity = grade(
            max(ratio, 1 / ratio) if ratio > 0 else float("inf"),
            thresholds.rate_ratio_minor,
            thresholds.rate_ratio_major,
        )
        if severity is not None:
            crossed = (
                thresholds.rate_ratio_major
                if severity is AlertSeverity.CRITICAL
                else thresholds.rate_ratio_minor
            )
            threshold = crossed if ratio >= 1 else 1 / crossed
            alerts.append(alert(subject, DriftStatistic.RATE_RATIO, severity, ratio, threshold))
    return DecisionRateDrift(
        live=_rates(live),
        reference=_rates(reference),
        decisions_live=decided,
        span_windows=span,
        span_full=alerting,
    ), alerts


def with_pr_auc_drop(entry: LivePerformance, thresholds: AlertThresholds) -> LivePerformance:
    """The entry with the drop its alert reads: the live interval's upper bound below the test
    interval's lower bound (models.drift.performance), once `min_positives` frauds matured."""
    low, high = entry.reference_pr_auc_low, entry.pr_auc_high
    if low is None or low <= 0 or high is None or entry.positives < thresholds.min_positives:
        return entry
    return entry.model_copy(update={"pr_auc_drop": max(0.0, (low - high) / low)})


def performance_alerts(
    performance: Sequence[LivePerformance], thresholds: AlertThresholds
) -> list[DriftAlert]:
    """PR-AUC drops judged by with_pr_auc_drop (entries without one raise nothing)."""
    alerts: list[DriftAlert] = []
    for entry in performance:
        alerts.extend(
            graded(
                f"performance:{entry.model.version}",
                DriftStatistic.PR_AUC_DROP,
                entry.pr_auc_drop,
                thresholds,
            )
        )
    return alerts


def arrived_recall_alerts(
    arrived: ArrivedPerformance | None, thresholds: AlertThresholds
) -> list[DriftAlert]:
    """Recall from the labels in so far, once the drop is judged (see with_recall_drop)."""
    if arrived is None or arrived.recall_drop is None:
        return []
    return graded(
        f"recall:{arrived.model.version}",
        DriftStatistic.RECALL_DROP,
        arrived.recall_drop,
        thresholds,
    )


def with_recall_drop(
    arrived: ArrivedPerformance,
    reference_recall: float | None,
    reference_positives: int | None,
    thresholds: AlertThresholds,
) -> ArrivedPerformance:
    """The pooled figures with the reference and the drop the alert reads.

    Both sides are samples: the live upper bound is compared with the reference's lower bound
    (Wilson, from the test split's fraud count when known). On seed 29's clean traffic the test
    recall, 0.26 from a few dozen frauds, sat above a week of live labels' upper bound once.
    """
    if not reference_recall:
        return arrived
    low = reference_recall_low(reference_recall, reference_positives)
    drop = None
    if (
        low > 0
        and arrived.recall_high is not None
        and arrived.fraud_labels >= thresholds.min_fraud_labels_arrived
    ):
        drop = max(0.0, (low - arrived.recall_high) / low)
    return arrived.model_copy(
        update={
            "reference_recall": reference_recall,
            "reference_recall_low": low,
            "recall_drop": drop,
        }
    )


def reference_recall_low(reference_recall: float, reference_positives: int | None) -> float:
    """The test recall's one-sided 95 % Wilson lower bound (the figure itself without a fraud
    count)."""
    if reference_positives:
        return wilson(reference_recall, reference_positives, Z_ONE_SIDED_95)[0]
    return reference_recall


def recall_evidence_needed(
    reference_recall: float | None, reference_positives: int | None, thresholds: AlertThresholds
) -> float:
    """The effective sample size at which a total collapse (none caught) would reach the minor
    recall drop: the Wilson upper bound of 0 of n, z² / (n + z²), is at most (1 − minor) × the
    reference's lower bound from n = z² (1 / ((1 − minor) low) − 1) on (z one-sided 95 %).
    A pool smaller than this cannot alert whatever it holds (models.drift.arrivals)."""
    if not reference_recall:
        return 0.0
    target = (1 - thresholds.recall_drop_minor) * reference_recall_low(
        reference_recall, reference_positives
    )
    if target <= 0:
        return 0.0
    return Z_ONE_SIDED_95**2 * (1 / target - 1)


def _location_alerts(
    name: str,
    shift: LocationShift,
    floor: float,
    history: LocationHistory | None,
    thresholds: AlertThresholds,
) -> list[DriftAlert]:
    """Material shifts only; a warning also needs the previous window material the same way
    (see models.drift.location)."""
    sign = int(np.sign(shift.delta)) if abs(shift.delta) >= 2 * floor else 0
    previous = history.material_sign if history is not None else sign
    if history is not None:
        history.material_sign = sign
    if sign == 0:
        return []
    raised = graded(name, DriftStatistic.LOCATION_Z, abs(shift.z), thresholds)
    if raised and raised[0].severity is AlertSeverity.WARNING and previous != sign:
        return []
    return raised


def bin_labels(edges: Sequence[float]) -> list[str]:
    """'≤ e0', '≤ e1', …, '> e_last': each bin by its upper edge, short enough for a plot axis."""
    if not edges:
        return ["(all)"]
    shown = [f"{edge:.4g}" for edge in edges]
    return [*(f"≤ {edge}" for edge in shown), f"> {shown[-1]}"]


def _category_label(feature: str, code: str) -> str:
    names = CATEGORY_NAMES.get(feature)
    if names is not None and code.isdigit() and int(code) < len(names):
        return names[int(code)]
    return code


def _histogram(labels: list[str], live: np.ndarray, reference: np.ndarray) -> Histogram:
    return Histogram(
        labels=labels,
        live=[min(1.0, max(0.0, float(x))) for x in live],
        reference=[min(1.0, max(0.0, float(x))) for x in reference],
    )


def _rates(rates: dict[str, float]) -> OutcomeRates:
    return OutcomeRates(approve=rates["APPROVE"], review=rates["REVIEW"], decline=rates["DECLINE"])
