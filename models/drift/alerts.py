"""Grading a statistic against its thresholds, and the alert entries that result.

Default thresholds (schemas.drift.AlertThresholds; all configurable) and why:
- PSI ≥ 0.1 minor (WARNING), ≥ 0.2 major (CRITICAL): the credit-scoring convention (< 0.1 stable,
  0.1-0.2 some shift, > 0.2 significant), used for numeric features and the score. Under no
  drift, PSI over k bins with n live values is about (k − 1) / n (≈ 0.009 for 10 bins and
  1,000 values), far below 0.1 from `min_events` = 1,000 on.
- Total variation ≥ 0.1 / ≥ 0.2 for categorical features: a tenth (a fifth) of the traffic has
  moved to other categories. TV, not PSI, decides for categories because PSI's log term rates a
  rare category's change far above what it means for the traffic, and an unseen category's PSI
  depends on the floor. (For comparison, Cohen's w conventions are 0.1 small, 0.3 medium, 0.5
  large; w is reported alongside.)
- Unseen-category share ≥ 1% / ≥ 5%: training never saw these values, the model treats them as
  it happens to.
- Missing rate changed by ≥ 0.05 / ≥ 0.15 (absolute): PSI is computed on present values only,
  so a feed that stops filling a field is caught here.
- REVIEW/DECLINE rate ratio live/reference ≥ 2 (or ≤ 1/2) / ≥ 3 (≤ 1/3): a review queue twice
  or three times the planned size. Judged only when the reference rate expects ≥ 50 such
  decisions, below which Poisson noise alone moves the ratio by a third. Fraud comes in bursts
  (a compromised terminal, a card-testing run), so flagged rates swing more than Poisson: on
  simulated traffic with no shift the weekly REVIEW rate ranged 0.6-1.4% against 0.65% in
  validation, which is why 1.5 is not the minor threshold.
- Live PR-AUC ≥ 20% / ≥ 40% below the package's test PR-AUC, once ≥ 200 fraud labels matured,
  and measured between intervals: the live 95 % upper bound against the test figure's 95 % lower
  bound (models.drift.performance). PR-AUC's sampling error with n frauds is roughly
  sqrt(AP·(1 − AP) / n): ±0.045 at AP 0.3 and n = 100, as large as a 15% drop. On simulated
  traffic without a shift, 126 matured frauds gave a live PR-AUC 32% below the (one-week,
  60-fraud) validation figure, and a weak model (seed 41, test PR-AUC 0.048) compared point to
  point alerted in 15 of 105 clean windows: noise on both sides.
"""

from __future__ import annotations

from schemas.drift import AlertSeverity, AlertThresholds, DriftAlert, DriftStatistic


def grade(value: float | None, minor: float, major: float) -> AlertSeverity | None:
    """CRITICAL at or above `major`, WARNING at or above `minor`, else None."""
    if value is None:
        return None
    if value >= major:
        return AlertSeverity.CRITICAL
    if value >= minor:
        return AlertSeverity.WARNING
    return None


def alert(
    subject: str,
    statistic: DriftStatistic,
    severity: AlertSeverity,
    value: float,
    threshold: float,
) -> DriftAlert:
    return DriftAlert(
        what=f"{subject} {statistic.value}"[:200],
        severity=severity,
        value=value,
        threshold=threshold,
        subject=subject,
        statistic=statistic,
    )


# Each graded statistic's (minor, major) fields in AlertThresholds.
THRESHOLD_FIELDS = {
    DriftStatistic.PSI: ("psi_minor", "psi_major"),
    DriftStatistic.TOTAL_VARIATION: ("total_variation_minor", "total_variation_major"),
    DriftStatistic.UNSEEN_SHARE: ("unseen_share_minor", "unseen_share_major"),
    DriftStatistic.MISSING_RATE: ("missing_rate_minor", "missing_rate_major"),
    DriftStatistic.PR_AUC_DROP: ("pr_auc_drop_minor", "pr_auc_drop_major"),
    DriftStatistic.LOCATION_Z: ("location_z_minor", "location_z_major"),
    DriftStatistic.CUSUM: ("cusum_minor", "cusum_major"),
    DriftStatistic.RECALL_DROP: ("recall_drop_minor", "recall_drop_major"),
    DriftStatistic.NULL_RATE: ("null_rate_minor", "null_rate_major"),
    DriftStatistic.TOP_SHARE: ("top_share_minor", "top_share_major"),
    DriftStatistic.OUT_OF_RANGE: ("out_of_range_minor", "out_of_range_major"),
}


def minor_threshold(statistic: DriftStatistic, thresholds: AlertThresholds) -> float:
    return float(getattr(thresholds, THRESHOLD_FIELDS[statistic][0]))


def graded(
    subject: str, statistic: DriftStatistic, value: float | None, thresholds: AlertThresholds
) -> list[DriftAlert]:
    """The alert `value` raises under the configured thresholds of `statistic`, if any."""
    minor_name, major_name = THRESHOLD_FIELDS[statistic]
    minor, major = getattr(thresholds, minor_name), getattr(thresholds, major_name)
    severity = grade(value, minor, major)
    if severity is None or value is None:
        return []
    threshold = major if severity is AlertSeverity.CRITICAL else minor
    return [alert(subject, statistic, severity, value, threshold)]


SEVERITY_RANK = {AlertSeverity.INFO: 0, AlertSeverity.WARNING: 1, AlertSeverity.CRITICAL: 2}
