"""The model package manifest: everything needed to trust, trace and rebuild a model.

A package is a directory holding `manifest.json`, `signature.json` and the files the manifest
lists with their sha256 (the joblib model at least). The manifest answers the reproducibility
checklist: who built it, when and where, from which code version and command, with which
hyper-parameters, from which exact dataset and splits, with which test performance and data
profile, on which library versions and with which resource needs.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

MANIFEST_FORMAT = 1


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Provenance(_Record):
    """Who built the package, when and where."""

    built_by: str = Field(description="User name of the person or service account")
    built_at: AwareDatetime = Field(description="UTC time the build finished")
    host: str
    platform: str = Field(description="OS and machine, e.g. Linux-6.1-x86_64")


class CodeVersion(_Record):
    git_commit: str | None = Field(description="Commit of the code that built it; None outside git")
    git_dirty: bool = Field(description="True when the work tree had uncommitted changes")
    entry_point: str = Field(description="Python entry point that ran the build")
    arguments: dict[str, str] = Field(description="Arguments it was called with")
    training_config_sha256: str = Field(description="sha256 of the canonical training config")
    training_config: dict[str, Any] = Field(description="The whole training config, as used")


class SplitRecord(_Record):
    name: Literal["train", "validation", "test"]
    start: AwareDatetime = Field(description="First event time in the split (inclusive)")
    end: AwareDatetime = Field(description="Last event time in the split (inclusive)")
    rows: int
    positives: int = Field(description="Rows labelled fraud as the build saw them")
    row_set_sha256: str = Field(description="sha256 of the split's exact row set")


class DataLineage(_Record):
    dataset_id: str = Field(description="sha256 of the canonical dataset file")
    labels_dataset_id: str = Field(description="sha256 of the labels file the build read")
    split_id: str = Field(description="Id of the split manifest (cut points and row-set hashes)")
    dataset_rows: int
    dataset_source: dict[str, Any] = Field(description="Simulator config or import details")
    labels_known_at: AwareDatetime = Field(description="Labels reported after this were unknown")
    splits: list[SplitRecord]


class FeatureSpec(_Record):
    name: str
    kind: Literal["numeric", "categorical"]


class FeatureBlock(_Record):
    feature_set_version: str
    features: list[FeatureSpec] = Field(description="In the order the model reads them")


class MetricSet(_Record):
    """Metrics fit for heavy class imbalance, on one split."""

    rows: int
    positives: int
    pr_auc: float = Field(description="Average precision (area under precision-recall)")
    roc_auc: float
    recall_at_fpr: dict[str, float] = Field(description="FPR level (e.g. '0.001') → recall")
    card_precision_at_k: float = Field(
        description="Mean over days of the share of the k highest-scored cards that had fraud"
    )
    card_precision_k: int
    expected_cost: float = Field(description="Cost per 1,000 transactions with the thresholds")


class Evaluation(_Record):
    model: MetricSet
    baseline: MetricSet
    baseline_description: str
    validation: MetricSet


class DecisionRule(_Record):
    """A rule applied after the model: when `feature` `op` `value`, at least `outcome`."""

    feature: str
    op: Literal[">", ">=", "<", "<=", "=="]
    value: float
    outcome: Literal["REVIEW", "DECLINE"]
    reason_code: str


class ReasonHint(_Record):
    """Names a feature as a reason for a REVIEW/DECLINE when it is unusually high."""

    feature: str
    above: float = Field(description="Training-set quantile the value must exceed")
    reason_code: str


class DecisionPolicy(_Record):
    review_threshold: float = Field(ge=0, le=1, description="score ≥ this → at least REVIEW")
    decline_threshold: float = Field(ge=0, le=1, description="score ≥ this → DECLINE")
    chosen_on: Literal["validation"] = "validation"
    target_decline_fpr: float
    target_review_fpr: float
    rules: list[DecisionRule]
    reason_hints: list[ReasonHint]


class FeatureProfile(_Record):
    """The training distribution of one feature; the reference for validation and drift."""

    name: str
    kind: Literal["numeric", "categorical"]
    missing_rate: float
    min: float | None
    max: float | None
    mean: float | None
    std: float | None
    bin_edges: list[float] = Field(
        description="Inner quantile edges; bin i holds edges[i-1] < x ≤ edges[i]"
    )
    bin_shares: list[float] = Field(description="Share of non-missing rows per bin")
    categories: dict[str, float] = Field(description="Category code → share (categorical only)")
    quantiles: list[float] = Field(
        default=[],
        description="(v2) Training percentiles 1..99 (numeric only): the reference CDF sketch",
    )
    rank_variance: float | None = Field(
        default=None,
        ge=0,
        description="(v2) Variance of a training value's sketch mid-rank (1/12 if continuous)",
    )
    chunk_rank_means: list[float] = Field(
        default=[],
        description="(v2) Mean mid-rank of consecutive blocks of training rows: clean variability",
    )
    chunk_rank_rows: list[int] = Field(
        default=[], description="(v2) Values in each of those blocks"
    )


class ScoreProfile(_Record):
    bin_edges: list[float]
    bin_shares: list[float]
    outcome_rates: dict[str, float] = Field(description="APPROVE/REVIEW/DECLINE shares")
    computed_on: Literal["validation", "test"]


class FieldProfile(_Record):
    """(v2) One raw input field in the training split, model feature or not: the reference of the
    drift monitor's data-quality checks (models.drift.quality)."""

    name: str
    kind: Literal["categorical", "numeric", "identifier"]
    null_rate: float = Field(ge=0, le=1)
    categories: dict[str, float] = Field(
        default={}, description="Categorical only: value → share among present values"
    )
    low: float | None = Field(default=None, description="Numeric only: 0.1st percentile")
    high: float | None = Field(default=None, description="Numeric only: 99.9th percentile")
    outside_share: float = Field(
        default=0.0, ge=0, le=1, description="Numeric only: training share below low or above high"
    )


class DataProfile(_Record):
    rows: int
    computed_on: Literal["train"] = "train"
    features: list[FeatureProfile]
    score: ScoreProfile
    fields: list[FieldProfile] = Field(
        default=[],
        description="(v2) Raw input fields of the training split (empty in older packages)",
    )


class Environment(_Record):
    python: str
    libraries: dict[str, str] = Field(description="scikit-learn, numpy, joblib, ... versions")


class Resources(_Record):
    predictor: Literal["treelite", "sklearn"] = Field(description="What the stream scores with")
    model_file_bytes: int
    treelite_file_bytes: int | None
    loaded_memory_bytes: int = Field(description="Python heap grown by loading the model")
    latency_one_row_us_p50: float
    latency_one_row_us_p99: float
    latency_per_event_us_batch: dict[str, float] = Field(description="batch size → µs per event")


class ModelManifest(_Record):
    manifest_format: int = MANIFEST_FORMAT
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    version: str = Field(pattern=r"^[0-9A-Za-z.+_-]{1,64}$")
    description: str
    provenance: Provenance
    code: CodeVersion
    algorithm: str = Field(description="Estimator class of the final pipeline step")
    hyperparameters: dict[str, Any]
    seed: int
    data: DataLineage
    features: FeatureBlock
    evaluation: Evaluation
    policy: DecisionPolicy
    profile: DataProfile
    environment: Environment
    resources: Resources
    files: dict[str, str] = Field(description="Package-relative path → sha256 of its bytes")

    @property
    def content_hash(self) -> str:
        """sha256 over the package's file hashes: names the model bytes, not the metadata."""
        listing = "\n".join(f"{path} {digest}" for path, digest in sorted(self.files.items()))
        return hashlib.sha256(listing.encode()).hexdigest()


class PackageSignature(_Record):
    algorithm: Literal["hmac-sha256"] = "hmac-sha256"
    key_id: str = Field(description="First 16 hex of sha256(key): which key signed, not the key")
    manifest_sha256: str
    signature: str = Field(description="Hex HMAC-SHA256 of the manifest.json bytes")
