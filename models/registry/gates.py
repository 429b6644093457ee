"""The gates before a promotion: test metrics, no regression against the champion on the same
test set, and the target profile (memory, per-event latency, library versions)."""

from __future__ import annotations

from models.governance.policy import Gates, TargetProfile
from schemas.model_package import ModelManifest


def _test_split(manifest: ModelManifest) -> str | None:
    return next((s.row_set_sha256 for s in manifest.data.splits if s.name == "test"), None)


def metric_failures(
    candidate: ModelManifest, champion: ModelManifest | None, gates: Gates
) -> list[str]:
    failures = []
    test = candidate.evaluation.model
    if test.pr_auc < gates.min_test_pr_auc:
        failures.append(f"test PR-AUC {test.pr_auc:.4f} < required {gates.min_test_pr_auc}")
    if test.roc_auc < gates.min_test_roc_auc:
        failures.append(f"test ROC-AUC {test.roc_auc:.4f} < required {gates.min_test_roc_auc}")
    if champion is not None and champion.content_hash != candidate.content_hash:
        if _test_split(champion) != _test_split(candidate):
            # Metrics on different rows say nothing about which model is better.
            failures.append("the champion was tested on another test set: no comparison possible")
        else:
            drop = champion.evaluation.model.pr_auc - test.pr_auc
            if drop > gates.max_pr_auc_drop:
                failures.append(
                    f"test PR-AUC {test.pr_auc:.4f} is {drop:.4f} below the champion's "
                    f"{champion.evaluation.model.pr_auc:.4f} (allowed drop {gates.max_pr_auc_drop})"
                )
    return failures


def target_failures(
    manifest: ModelManifest,
    target: TargetProfile,
    measured_us_per_event: float | None = None,
) -> list[str]:
    """What does not fit the target; `measured_us_per_event` is a worker's own measurement."""
    failures = []
    resources = manifest.resources
    memory = max(
        resources.loaded_memory_bytes,
        resources.treelite_file_bytes or 0,
        resources.model_file_bytes,
    )
    if target.max_memory_bytes is not None and memory > target.max_memory_bytes:
        failures.append(
            f"needs {memory:,} bytes of memory, target allows {target.max_memory_bytes:,}"
        )
    limit = target.max_latency_us_per_event
    if limit is not None:
        recorded = resources.latency_per_event_us_batch.get(str(target.latency_batch_size))
        for source, value in (
            ("measured at build", recorded),
            ("measured here", measured_us_per_event),
        ):
            if value is not None and value > limit:
                failures.append(
                    f"{value:.1f} µs per event in batches of {target.latency_batch_size} "
                    f"({source}), target allows {limit}"
                )
    for library, prefix in sorted(target.libraries.items()):
        built_with = manifest.environment.libraries.get(library)
        if built_with is None or not built_with.startswith(prefix):
            failures.append(f"built with {library} {built_with}, target runs {prefix}*")
    return failures
