"""A manifest as text a person reads: the reproducibility checklist, one section per question."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from schemas.model_package import MetricSet, ModelManifest

_Pick = Callable[[MetricSet], str]


def describe(manifest: ModelManifest, verification: str) -> list[str]:
    return [
        *_identity(manifest, verification),
        *_who(manifest),
        *_code(manifest),
        *_hyperparameters(manifest),
        *_data(manifest),
        "",
        *metrics_table(manifest),
        "",
        *thresholds(manifest),
        *_resources(manifest),
        *_environment(manifest),
    ]


def metrics_table(manifest: ModelManifest) -> list[str]:
    """Test metrics of the model beside the baseline's (and the model's on validation)."""
    evaluation = manifest.evaluation
    model, baseline, valid = evaluation.model, evaluation.baseline, evaluation.validation
    lines = [
        f"Test metrics ({model.rows:,} rows, {model.positives:,} fraud); "
        f"baseline: {evaluation.baseline_description}",
        f"  {'':<24}{'model':>10}{'baseline':>10}{'validation':>12}",
    ]
    for label, pick in _metric_rows(model):
        lines.append(f"  {label:<24}{pick(model):>10}{pick(baseline):>10}{pick(valid):>12}")
    return lines


def thresholds(manifest: ModelManifest) -> list[str]:
    policy = manifest.policy
    lines = [
        f"Thresholds (chosen on {policy.chosen_on})",
        f"  review   score ≥ {policy.review_threshold:.6g}"
        f"  (target FPR {policy.target_review_fpr:g})",
        f"  decline  score ≥ {policy.decline_threshold:.6g}"
        f"  (target FPR {policy.target_decline_fpr:g})",
    ]
    lines += [
        f"  rule     {r.feature} {r.op} {r.value:g} → at least {r.outcome} ({r.reason_code})"
        for r in policy.rules
    ]
    return lines


def _metric_rows(example: MetricSet) -> Iterator[tuple[str, _Pick]]:
    yield "PR-AUC", lambda m: f"{m.pr_auc:.4f}"
    yield "ROC-AUC", lambda m: f"{m.roc_auc:.4f}"
    for level in example.recall_at_fpr:
        yield f"recall at FPR {level}", _recall(level)
    yield f"card precision@{example.card_precision_k}", lambda m: f"{m.card_precision_at_k:.4f}"
    yield "cost per 1,000 tx", lambda m: f"{m.expected_cost:.1f}"


def _recall(level: str) -> _Pick:
    def pick(metrics: MetricSet) -> str:
        return f"{metrics.recall_at_fpr.get(level, float('nan')):.4f}"

    return pick


def _identity(manifest: ModelManifest, verification: str) -> list[str]:
    return [
        f"{manifest.name} {manifest.version}  ({manifest.algorithm}; "
        f"scored with {manifest.resources.predictor})",
        f"  {manifest.description}" if manifest.description else "",
        f"  signature      {verification}",
        f"  content hash   {manifest.content_hash}",
        "",
    ]


def _who(manifest: ModelManifest) -> list[str]:
    made = manifest.provenance
    return [
        "Who, when, where",
        f"  built by {made.built_by} at {made.built_at.isoformat()} on {made.host}",
        f"  platform {made.platform}",
        "",
    ]


def _code(manifest: ModelManifest) -> list[str]:
    code = manifest.code
    if code.git_commit is None:
        state = "NOT IN GIT: no code version recorded"
    elif code.git_dirty:
        state = f"{code.git_commit}  DIRTY (uncommitted changes: not exactly reproducible)"
    else:
        state = f"{code.git_commit}  (clean)"
    lines = ["Code", f"  commit       {state}", f"  entry point  {code.entry_point}"]
    lines += [f"  argument     {name} = {value}" for name, value in sorted(code.arguments.items())]
    lines += [f"  training config sha256 {code.training_config_sha256}", ""]
    return lines


def _hyperparameters(manifest: ModelManifest) -> list[str]:
    lines = [f"Hyper-parameters (seed {manifest.seed})"]
    lines += [f"  {name} = {value}" for name, value in sorted(manifest.hyperparameters.items())]
    return [*lines, ""]


def _data(manifest: ModelManifest) -> list[str]:
    data = manifest.data
    features = manifest.features
    categorical = sum(1 for f in features.features if f.kind == "categorical")
    lines = [
        "Data",
        f"  dataset   {data.dataset_id}  ({data.dataset_rows:,} rows, "
        f"{_source(data.dataset_source)})",
        f"  labels    {data.labels_dataset_id}  "
        f"(labels known at {data.labels_known_at.isoformat()})",
        f"  split     {data.split_id}",
    ]
    for part in data.splits:
        lines.append(
            f"    {part.name:<10} {part.rows:>9,} rows {part.positives:>6,} fraud  "
            f"{part.start:%Y-%m-%d %H:%M} → {part.end:%Y-%m-%d %H:%M}  "
            f"rows sha256 {part.row_set_sha256[:16]}…"
        )
    lines.append(
        f"  features  {features.feature_set_version}: {len(features.features)} "
        f"({categorical} categorical); profile of {manifest.profile.rows:,} training rows"
    )
    return lines


def _resources(manifest: ModelManifest) -> list[str]:
    used = manifest.resources
    per_batch = used.latency_per_event_us_batch
    batches = ", ".join(f"{size}: {per_batch[size]:.2f} µs" for size in sorted(per_batch, key=int))
    treelite = (
        f", model.treelite {used.treelite_file_bytes / 1e6:.2f} MB"
        if used.treelite_file_bytes is not None
        else ""
    )
    return [
        "",
        "Resources",
        f"  files        model.joblib {used.model_file_bytes / 1e6:.2f} MB{treelite}",
        f"  memory       {used.loaded_memory_bytes / 1e6:.1f} MB once loaded",
        f"  latency      one row p50 {used.latency_one_row_us_p50:.0f} µs, "
        f"p99 {used.latency_one_row_us_p99:.0f} µs ({used.predictor})",
        f"  per event    in batches of {batches}",
    ]


def _environment(manifest: ModelManifest) -> list[str]:
    env = manifest.environment
    libraries = ", ".join(f"{name} {version}" for name, version in sorted(env.libraries.items()))
    lines = ["", "Environment", f"  python {env.python}; {libraries}", "", "Files"]
    lines += [f"  {path}  sha256 {digest}" for path, digest in sorted(manifest.files.items())]
    return lines


def _source(source: dict[str, object]) -> str:
    if source.get("kind") == "simulator":
        return f"simulator, seed {source.get('seed')}"
    return f"imported from {source.get('path')}"
