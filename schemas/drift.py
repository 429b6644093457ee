"""A drift report (topic fraud.drift-reports.v1, key = model name): live data vs the training
profile over one window, plus live performance from delayed labels.

Each statistic is null when it does not apply (e.g. KS for a categorical feature) or could not
be computed (too few events); `alert` says whether the one named by `alert_statistic` crossed
its `threshold`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Self

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

DRIFT_REPORT_SCHEMA_VERSION = 1


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
    KS = "ks"  # two-sample Kolmogorov-Smirnov statistic
    WASSERSTEIN = "wasserstein"  # earth mover's distance, in the feature's units
    CHI_SQUARE = "chi_square"  # chi-square statistic over categories


class FeatureKind(StrEnum):
    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class FeatureDrift(Part):
    feature: FeatureName
    kind: FeatureKind
    psi: NonNegative | None = Field(default=None, description="Population stability index")
    ks: Probability | None = Field(default=None, description="KS statistic (numeric only)")
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


class ScoreDrift(Part):
    psi: NonNegative | None = Field(default=None)
    ks: Probability | None = Field(default=None)
    mean_live: Probability | None = Field(default=None, description="Mean live score")
    mean_reference: Probability | None = Field(default=None, description="Mean reference score")
    alert_statistic: DriftStatistic
    threshold: NonNegative
    alert: bool


class OutcomeRates(Part):
    """Share of decisions per outcome (they sum to 1, up to rounding)."""

    approve: Probability
    review: Probability
    decline: Probability


class DecisionRateDrift(Part):
    live: OutcomeRates
    reference: OutcomeRates = Field(description="Rates on the package's evaluation split")


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


class DriftReport(Record):
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
