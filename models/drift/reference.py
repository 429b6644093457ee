"""What live data is compared with: one package's training profile, score profile and metrics."""

from __future__ import annotations

from dataclasses import dataclass

from models.drift.errors import ReferenceMismatch
from schemas.base import ModelRef
from schemas.model_package import FeatureProfile, FieldProfile, ModelManifest, ScoreProfile


@dataclass(frozen=True)
class DriftReference:
    model: ModelRef
    feature_set_version: str
    features: tuple[FeatureProfile, ...]
    """In the order the model reads them; live vectors are read in this order."""
    score: ScoreProfile | None
    """None when the reference has no scores (drift of the inputs only)."""
    reference_pr_auc: float | None = None
    """PR-AUC on the package's test split: the level live PR-AUC is compared with."""
    reference_recall: float | None = None
    """Recall at the REVIEW threshold (flagged = REVIEW or DECLINE) on the package's test split:
    the level arrived-label recall is compared with."""
    reference_positives: int | None = None
    """Frauds behind reference_recall: how precisely it is known."""
    fields: tuple[FieldProfile, ...] = ()
    """Raw input fields of the training split (none in packages built before they were kept)."""

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(profile.name for profile in self.features)

    def __post_init__(self) -> None:
        names = self.feature_names
        if len(set(names)) != len(names):
            raise ReferenceMismatch("the profile names a feature twice")
        for profile in self.features:
            if profile.kind == "numeric" and len(profile.bin_shares) != len(profile.bin_edges) + 1:
                raise ReferenceMismatch(f"{profile.name}: bin_shares must be one longer than edges")
        if self.score is not None and len(self.score.bin_shares) != len(self.score.bin_edges) + 1:
            raise ReferenceMismatch("score profile: bin_shares must be one longer than edges")


def reference_from_manifest(manifest: ModelManifest) -> DriftReference:
    """The reference of a package. The manifest alone is needed (nothing is unpickled)."""
    order = [spec.name for spec in manifest.features.features]
    by_name = {profile.name: profile for profile in manifest.profile.features}
    missing = [name for name in order if name not in by_name]
    if missing:
        raise ReferenceMismatch(f"the package profiles none of {missing}")
    return DriftReference(
        model=ModelRef(
            name=manifest.name, version=manifest.version, content_hash=manifest.content_hash
        ),
        feature_set_version=manifest.features.feature_set_version,
        features=tuple(by_name[name] for name in order),
        score=manifest.profile.score,
        fields=tuple(manifest.profile.fields),
        reference_pr_auc=manifest.evaluation.model.pr_auc,
        # The REVIEW threshold is set at target_review_fpr on validation, and the evaluation
        # keeps recall at that FPR on test when the target is one of its levels.
        reference_recall=manifest.evaluation.model.recall_at_fpr.get(
            str(manifest.policy.target_review_fpr)
        ),
        reference_positives=manifest.evaluation.model.positives,
    )
