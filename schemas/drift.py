"""A drift report (topic fraud.drift-reports.v1, key = model name): live data vs the training
profile over one window, plus live performance from delayed labels.

Each statistic is null when it does not apply (e.g. KS for a categorical feature) or could not
be computed (too few events); `alert` says whether the one named by `alert_statistic` crossed
its `threshold`. Alerts are raised on effect sizes (PSI, total variation, shares, ratios), never
on p-values: with thousands of events per window every p-value is tiny. How each statistic is
computed, and why the thresholds are what they are, is documented in `models.drift`.

Version 2 added the optional fields marked "(v2)"; a version-1 report reads as version 2 with
them null (`DRIFT_REPORT_UPGRADES`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

from pydantic import Field, model_validator

from schemas.base import DeploymentRole, ModelRef, Part, Record
from schemas.primitives import (
    Count,
    FeatureName,
    Finite,
    Identifier,
    IsoTimestamp,
    NonNegative,
    Probability,
    SchemaVersion,
    VersionLabel,
)
from schemas.versions import UpgradeRegistry

DRIFT_REPORT_SCHEMA_VERSION = 2


class WindowKind(StrEnum):
    COUNT = "count"  # the last n events
    TIME = "time"  # the events with event_time in [start, end)


class DriftWindow(Part):
    kind: WindowKind
    start: IsoTimestamp = Field(description="First event time covered (inclusive)")
    end: IsoTimestamp = Field(description="Last event time covered (exclusive for time windows)")
    n: Count = Field(description="Events in the window")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError("window end is before its start")
        return self


class DriftStatistic(StrEnum):
    PSI = "psi"  # population stability index over the profile's bins
    KS = "ks"  # largest gap between the live and reference CDFs (see FeatureDrift.ks)
    WASSERSTEIN = "wasserstein"  # earth mover's distance, in the feature's units
    CHI_SQUARE = "chi_square"  # chi-square statistic over categories
    TOTAL_VARIATION = "total_variation"  # (v2) half the L1 distance between the two shares
    UNSEEN_SHARE = "unseen_share"  # (v2) live share of categories training never saw
    MISSING_RATE = "missing_rate"  # (v2) absolute change of the missing rate
    RATE_RATIO = "rate_ratio"  # (v2) live decision rate / reference rate
    PR_AUC_DROP = "pr_auc_drop"  # (v2) relative drop of live PR-AUC below the reference
    LOCATION_Z = "location_z"  # (v2) standardised shift of the mean rank on the training sketch
    CUSUM = "cusum"  # (v2) two-sided CUSUM of the location z-scores over windows
    RECALL_DROP = "recall_drop"  # (v2) relative drop of arrived-label recall's upper bound
    NULL_RATE = "null_rate"  # (v2) rise of a raw field's null rate over its live baseline
    TOP_SHARE = "top_share"  # (v2) rise of a raw field's commonest-value share (collapse)
    OUT_OF_RANGE = (
        "out_of_range"  # (v2) rise of a raw numeric field's share outside training's range
    )


class FeatureKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class Histogram(Part):
    """(v2) Live and reference shares over the reference's bins (or categories), for plots."""

    labels: list[str] = Field(
        description="One label per bin, e.g. '≤ 12.5' (upper edge), '> 300', 'POS'"
    )
    live: list[Probability]
    reference: list[Probability]

    @model_validator(mode="after")
    def _aligned(self) -> Self:
        if not len(self.labels) == len(self.live) == len(self.reference):
            raise ValueError("labels, live and reference must have one entry per bin")
        return self


class FeatureDrift(Part):
    feature: FeatureName
    kind: FeatureKind
    psi: NonNegative | None = Field(default=None, description="Population stability index")
    ks: Probability | None = Field(
        default=None,
        description=(
            "KS distance (numeric only): the largest gap between the live and reference CDFs "
            "where the reference CDF is known, at the profile's bin edges; a lower bound of the "
            "exact two-sample statistic, which would need the raw training values"
        ),
    )
    wasserstein: NonNegative | None = Field(
        default=None, description="Wasserstein distance in the feature's units (numeric only)"
    )
    chi_square: NonNegative | None = Field(
        default=None, description="Chi-square statistic (categorical only)"
    )
    p_value: Probability | None = Field(
        default=None, description="p-value of the KS or chi-square test, where computed"
    )
    missing_rate_live: Probability | None = Field(default=None)
    missing_rate_reference: Probability | None = Field(default=None)
    alert_statistic: DriftStatistic = Field(description="The statistic the alert is based on")
    threshold: NonNegative = Field(description="Alert when alert_statistic exceeds this")
    alert: bool
    total_variation: Probability | None = Field(
        default=None, description="(v2) Total variation distance over the bins or categories"
    )
    cohens_w: NonNegative | None = Field(
        default=None,
        description=(
            "(v2) Cohen's w = sqrt(chi-square / n) of the live categories against the reference "
            "shares (categorical only; over the categories training saw)"
        ),
    )
    unseen_share: Probability | None = Field(
        default=None,
        description="(v2) Share of live values in categories training never saw (categorical)",
    )
    values_live: Count | None = Field(
        default=None, description="(v2) Non-missing live values the statistics were computed on"
    )
    exempt: bool = Field(
        default=False,
        description="(v2) Monitored but never alerted on (see AlertThresholds.exempt_features)",
    )
    histogram: Histogram | None = Field(default=None, description="(v2) For plots")
    location_z: float | None = Field(
        default=None,
        description=(
            "(v2) Numeric: (mean live rank on the training percentile sketch − 0.5) over its "
            "standard error, chunk-to-chunk variability of the reference included"
        ),
    )
    location_shift: float | None = Field(
        default=None,
        description="(v2) Numeric: mean live rank on the training percentile sketch − 0.5",
    )
    location_floor: NonNegative | None = Field(
        default=None,
        description=(
            "(v2) Numeric: the smallest |location_shift| the CUSUM counts (the window test asks "
            "for twice it): the reference chunks' largest excursion, at least location_min_shift "
            "and location_min_reference_errors reference standard errors"
        ),
    )
    cusum: NonNegative | None = Field(
        default=None,
        description="(v2) Numeric: two-sided CUSUM of location_z since the monitor started",
    )


class ScoreDrift(Part):
    psi: NonNegative | None = Field(default=None)
    ks: Probability | None = Field(default=None)
    mean_live: Probability | None = Field(default=None, description="Mean live score")
    mean_reference: Probability | None = Field(default=None, description="Mean reference score")
    alert_statistic: DriftStatistic
    threshold: NonNegative
    alert: bool
    total_variation: Probability | None = Field(default=None, description="(v2)")
    scores_live: Count | None = Field(
        default=None, description="(v2) Live scores of the reference model the statistics saw"
    )
    span_windows: Count | None = Field(
        default=None,
        description=(
            "(v2) Windows the score statistics add up: the last few, so that a model reading "
            "calendar features is compared over whole weeks (see models.drift.monitor)"
        ),
    )
    span_full: bool | None = Field(
        default=None,
        description="(v2) True when the span covers its whole period (a week by default): "
        "only then may the score or the decision rates alert",
    )
    histogram: Histogram | None = Field(default=None, description="(v2) For plots")


class OutcomeRates(Part):
    """Share of decisions per outcome (they sum to 1, up to rounding)."""

    approve: Probability
    review: Probability
    decline: Probability


class DecisionRateDrift(Part):
    live: OutcomeRates
    reference: OutcomeRates = Field(description="Rates on the package's evaluation split")
    decisions_live: Count | None = Field(
        default=None,
        description="(v2) Live outcomes of the reference model's own thresholds counted",
    )
    span_windows: Count | None = Field(
        default=None, description="(v2) Windows the live rates add up (as for the score)"
    )
    span_full: bool | None = Field(
        default=None, description="(v2) The span covers its whole period (as for the score)"
    )


class LivePerformance(Part):
    """Quality of one model version on the events of the window whose labels have arrived.

    An event counts as flagged when its outcome is REVIEW or DECLINE. Precision, recall and
    pr_auc are null while undefined (no flagged events, no fraud labels, or one class only).
    """

    model: ModelRef
    role: DeploymentRole
    labels_joined: Count = Field(description="Scored events in the window that have a label")
    positives: Count = Field(description="Of those, labelled fraud")
    precision: Probability | None
    recall: Probability | None
    pr_auc: Probability | None = Field(description="Average precision over the joined scores")
    window_start: IsoTimestamp = Field(description="First event time of the labelled events")
    window_end: IsoTimestamp = Field(description="Last event time of the labelled events")
    events: Count | None = Field(
        default=None,
        description=(
            "(v2) Matured scored events evaluated: labelled ones plus those still unlabelled "
            "after the label-maturity period, which count as genuine"
        ),
    )
    flagged: Count | None = Field(default=None, description="(v2) Of those, REVIEW or DECLINE")
    reference_pr_auc: Probability | None = Field(
        default=None, description="(v2) PR-AUC of this package on its test split, when known"
    )
    fraud_incidents: Count | None = Field(
        default=None,
        description="(v2) Distinct cards among the fraud labels (a label without a card counts "
        "as its own): the evidence behind pr_auc_high",
    )
    pr_auc_high: Probability | None = Field(
        default=None,
        description="(v2) Upper bound of live PR-AUC's 95 % logit interval, its sample size the "
        "fraud incidents (fraud_incidents), not the fraud labels",
    )
    reference_pr_auc_low: Probability | None = Field(
        default=None,
        description="(v2) Lower bound of the test PR-AUC's 95 % logit interval, from the test "
        "split's fraud count (itself a sample)",
    )
    pr_auc_drop: NonNegative | None = Field(
        default=None,
        description="(v2) (reference_pr_auc_low - pr_auc_high) / reference_pr_auc_low, at least "
        "0; null without a reference or with fewer than min_positives fraud labels",
    )


class ArrivedPerformance(Part):
    """(v2) One model's figures over some event days, from the labels arrived so far.

    Recall so far is the flagged share of the fraud labels in; precision_lower_bound only grows
    as labels arrive. estimated_* are label-free (CBPE: calibrated scores assumed), and blind to
    concept drift by construction. See models.drift.arrivals.
    """

    model: ModelRef
    period_start: IsoTimestamp = Field(description="First event day covered (UTC midnight)")
    period_end: IsoTimestamp = Field(description="End of the event days covered (exclusive)")
    events: Count
    flagged: Count = Field(description="Of those, REVIEW or DECLINE")
    fraud_labels: Count = Field(description="Fraud labels in force for these events, so far")
    fraud_labels_weighted: NonNegative = Field(
        description="The same, weighted by the label join's sample (an estimate over all events)"
    )
    fraud_cards: Count | None = Field(
        default=None,
        description="Distinct cards among those fraud labels: the incidents the recall interval "
        "counts as its sample (a card's frauds are caught or missed together)",
    )
    recall: Probability | None
    recall_low: Probability | None = Field(
        description="One-sided 95 % Wilson lower bound, counting fraud incidents (cards)"
    )
    recall_high: Probability | None
    precision_lower_bound: Probability | None
    estimated_recall: Probability | None = Field(description="Label-free (CBPE)")
    estimated_precision: Probability | None = Field(description="Label-free (CBPE)")
    reference_recall: Probability | None = Field(
        default=None, description="The package's test recall at its REVIEW threshold"
    )
    reference_recall_low: Probability | None = Field(
        default=None,
        description="Its one-sided 95 % Wilson lower bound from the test split's fraud count "
        "(itself a sample: a one-week split holds a few dozen frauds)",
    )
    recall_drop: NonNegative | None = Field(
        default=None,
        description="(reference_recall_low - recall_high) / reference_recall_low, at least 0; "
        "null while fewer than min_fraud_labels_arrived fraud labels are in",
    )


class FieldQuality(Part):
    """(v2) One raw input field in one window (model feature or not); see models.drift.quality.

    Baselines come from the package's raw-field profile where it has one (`baseline_from`
    "package"), else from the monitor's own first judged windows ("monitor"; null until in).
    """

    field: str
    n: Count
    null_rate: Probability
    top_share: Probability = Field(description="Share of the commonest value among present ones")
    distinct: Count = Field(description="Distinct values counted (capped)")
    null_rate_baseline: Probability | None = None
    top_share_baseline: Probability | None = None
    null_rate_shift: float | None = Field(
        default=None, description="Rise over the baseline; 0 within noise; null when not judged"
    )
    top_share_shift: float | None = None
    baseline_from: Literal["package", "monitor"] | None = Field(
        default=None, description="Where the null-rate baseline comes from"
    )
    unseen_share: Probability | None = Field(
        default=None,
        description="Categorical fields: share of present values training never saw",
    )
    unseen_shift: float | None = None
    out_of_range_share: Probability | None = Field(
        default=None,
        description="Numeric fields: share of present values outside training's 0.1-99.9 % range",
    )
    out_of_range_shift: float | None = None


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class DriftAlert(Part):
    what: str = Field(
        max_length=200, description="What crossed a threshold, e.g. 'feature amount_z psi'"
    )
    severity: AlertSeverity
    value: Finite
    threshold: Finite
    subject: str | None = Field(
        default=None,
        max_length=200,
        description=(
            "(v2) What it is about: a feature name, 'score', 'decision_rate:<OUTCOME>' or "
            "'performance:<version>'"
        ),
    )
    statistic: DriftStatistic | None = Field(default=None, description="(v2)")


class AlertThresholds(Part):
    """(v2) When a statistic alerts: minor → WARNING, major → CRITICAL (at or above).

    Effect sizes, not p-values. The defaults and their reasons are in `models.drift`; every one
    is configurable (FRAUD_MONITOR__THRESHOLDS__<NAME>)."""

    min_events: int = Field(
        default=1000, ge=1, description="Fewer live values than this: no statistic, no alert"
    )
    psi_minor: NonNegative = 0.1
    psi_major: NonNegative = 0.2
    total_variation_minor: Probability = 0.1
    total_variation_major: Probability = 0.2
    unseen_share_minor: Probability = 0.01
    unseen_share_major: Probability = 0.05
    missing_rate_minor: Probability = Field(
        default=0.05, description="Absolute change of a feature's missing rate"
    )
    missing_rate_major: Probability = 0.15
    rate_ratio_minor: float = Field(
        default=2.0, gt=1, description="REVIEW/DECLINE rate ratio ≥ this or ≤ its inverse"
    )
    rate_ratio_major: float = Field(default=3.0, gt=1)
    min_expected_decisions: NonNegative = Field(
        default=50, description="Rate ratios only when the reference rate expects this many"
    )
    pr_auc_drop_minor: Probability = Field(
        default=0.2,
        description="Relative drop of live PR-AUC's 95 % upper bound below the 95 % lower bound "
        "of the package's test PR-AUC",
    )
    pr_auc_drop_major: Probability = 0.4
    location_z_minor: float = Field(
        default=4.0, gt=0, description="|location z| at or above this: WARNING"
    )
    location_z_major: float = Field(default=6.0, gt=0)
    location_min_shift: Probability = Field(
        default=0.003,
        description="Location and CUSUM alerts need the mean rank moved at least this much "
        "(0.003: about a 1 % change of a typical amount)",
    )
    location_min_reference_errors: float = Field(
        default=4.5,
        ge=0,
        description="... and at least this many standard errors of the reference's own mean "
        "rank, sqrt(rank variance / reference values): live traffic sits that far from "
        "percentiles estimated on a finite training sample",
    )
    cusum_minor: float = Field(default=8.0, gt=0, description="CUSUM at or above this: WARNING")
    cusum_major: float = Field(default=12.0, gt=0)
    min_positives: int = Field(
        default=200, ge=1, description="PR-AUC alerts only with this many fraud labels"
    )
    recall_drop_minor: Probability = Field(
        default=0.3,
        description="Arrived-label recall's one-sided 95 % upper bound this far (relative) below "
        "the package's test recall's lower bound: WARNING",
    )
    recall_drop_major: Probability = 0.5
    min_fraud_labels_arrived: int = Field(
        default=20, ge=1, description="Arrived-label recall alerts only with this many"
    )
    null_rate_minor: Probability = Field(
        default=0.05, description="A raw field's null rate this far above its baseline: WARNING"
    )
    null_rate_major: Probability = 0.15
    top_share_minor: Probability = Field(
        default=0.05,
        description="A raw field's commonest-value share this far above its baseline: WARNING",
    )
    top_share_major: Probability = 0.2
    out_of_range_minor: Probability = Field(
        default=0.05,
        description="A raw numeric field's share outside training's range this far above "
        "training's own: WARNING",
    )
    out_of_range_major: Probability = 0.15
    quality_min_z: float = Field(
        default=5.0, gt=0, description="Data-quality rises must also be this many std errors"
    )
    arrived_max_days: int = Field(
        default=28,
        ge=1,
        description="The recall alert pools the newest event days until min_fraud_labels_arrived "
        "are in and enough fraud incidents (cards) to show a collapse, at most this many "
        "(fraud that comes in few large incidents needs weeks of event days)",
    )
    exempt_features: list[FeatureName] = Field(
        default=["hour_of_day", "day_of_week"],
        description=(
            "Reported, never alerted on: calendar features, whose distribution in any window "
            "shorter than a week differs from the profile's by construction"
        ),
    )

    @model_validator(mode="after")
    def _minor_below_major(self) -> Self:
        pairs = (
            (self.psi_minor, self.psi_major),
            (self.total_variation_minor, self.total_variation_major),
            (self.unseen_share_minor, self.unseen_share_major),
            (self.missing_rate_minor, self.missing_rate_major),
            (self.rate_ratio_minor, self.rate_ratio_major),
            (self.pr_auc_drop_minor, self.pr_auc_drop_major),
            (self.location_z_minor, self.location_z_major),
            (self.cusum_minor, self.cusum_major),
            (self.recall_drop_minor, self.recall_drop_major),
            (self.null_rate_minor, self.null_rate_major),
            (self.top_share_minor, self.top_share_major),
            (self.out_of_range_minor, self.out_of_range_major),
        )
        if any(minor > major for minor, major in pairs):
            raise ValueError("every minor threshold must be at most its major one")
        return self


class LabelJoinStats(Part):
    """(v2) The delayed-label join since the monitor started (cumulative counts)."""

    entries: Count = Field(description="Scoring-log entries taken into the join")
    duplicate_entries: Count = Field(description="Entries for a transaction already pending")
    labels: Count = Field(description="Labels read")
    labels_joined: Count = Field(description="Labels attached to a pending entry (first label)")
    labels_duplicate: Count = Field(
        description="Further labels for an entry that had one (the latest labelled_at wins)"
    )
    labels_unmatched: Count = Field(
        description="Labels with no pending entry: matured already, evicted, or never scored"
    )
    matured_labelled: Count = Field(description="Entries evaluated with their label")
    matured_unlabelled: Count = Field(
        description="Entries expired without a label after the maturity period: genuine"
    )
    evicted: Count = Field(description="Entries dropped unmatured for space: not evaluated")
    pending: Count = Field(description="Entries waiting for their label now")
    maturity_days: NonNegative = Field(description="The label-maturity period (entry TTL)")
    unsampled: Count | None = Field(
        default=None,
        description="(v2) Unflagged entries outside the join's weighted sample (not stored)",
    )
    sample_rate: Probability | None = Field(
        default=None,
        description="(v2) Share of unflagged entries kept; a kept one stands for 1/sample_rate",
    )


class DriftReport(Record):
    def judged(self, minimum: int) -> bool:
        """Whether this window's features could alert (see features_judged)."""
        if self.features_judged is not None:
            return self.features_judged
        return self.window.n >= minimum

    SCHEMA_VERSION: ClassVar[int] = DRIFT_REPORT_SCHEMA_VERSION

    schema_version: SchemaVersion = Field(
        default=DRIFT_REPORT_SCHEMA_VERSION, description="Version of this record contract"
    )
    report_id: Identifier = Field(description="Unique id of this report")
    generated_at: IsoTimestamp
    window: DriftWindow
    model: ModelRef = Field(description="The package whose training profile is the reference")
    feature_set_version: VersionLabel
    features: list[FeatureDrift]
    score: ScoreDrift
    decision_rates: DecisionRateDrift
    performance: list[LivePerformance] = Field(description="One entry per model version")
    alerts: list[DriftAlert]
    thresholds: AlertThresholds | None = Field(
        default=None, description="(v2) The thresholds the alerts were decided with"
    )
    label_join: LabelJoinStats | None = Field(default=None, description="(v2)")
    recall_arrived: ArrivedPerformance | None = Field(
        default=None,
        description="(v2) The reference model over the newest event days the recall alert "
        "reads (see AlertThresholds.arrived_max_days), from the labels arrived so far",
    )
    fields: list[FieldQuality] = Field(
        default_factory=list, description="(v2) Data quality of the raw input fields"
    )
    features_over: DriftWindow | None = Field(
        default=None,
        description="(v2) Windows shorter than a day: the trailing day whose counts the feature "
        "statistics were computed on (models.drift.seasonal)",
    )
    features_judged: bool | None = Field(
        default=None,
        description="(v2) Whether feature statistics could alert: enough values, and for short "
        "windows a full trailing day seen. Null in older reports: window.n >= min_events",
    )
    performance_by_day: list[ArrivedPerformance] = Field(
        default_factory=list,
        description="(v2) The reference model per event day (latest 28), labels arrived so far",
    )


DRIFT_REPORT_UPGRADES = UpgradeRegistry("DriftReport", DRIFT_REPORT_SCHEMA_VERSION)


@DRIFT_REPORT_UPGRADES.register(1)
def _v1_to_v2(report: dict[str, Any]) -> dict[str, Any]:
    # v2 only added optional fields and enum members: a v1 report is a valid v2 one as it is.
    return report
