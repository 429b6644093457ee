"""`fraudstream model build | show | verify | reproduce | score`: the model package life cycle.

Packages live in var/registry/packages/<name>-<version>/ (settings.var_dir). Every command that
uses a model verifies the package's signature and file hashes first; `show` alone reads an
unverified manifest, and says whether it verifies.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer
from pydantic import ValidationError

from models.datasets import DatasetError, DatasetNotFoundError, DatasetStore
from models.package import PackageError, read_manifest_unverified, verify_package
from models.package.signing import key_id
from models.tracking import TrackingUnavailable, log_build
from models.training.config import TrainingConfig
from schemas.model_package import ModelManifest
from stream.cli.data_cli import dataset_store, fail
from stream.cli.manifest_view import describe, metrics_table, thresholds
from stream.cli.progress import StepProgress
from stream.settings import get_settings
from stream.signing_keys import DevSigningKeyRefused, package_signing_key

if TYPE_CHECKING:
    from models.batch_scoring import ScoringSummary
    from models.scoring import PackageScorer

model_app = typer.Typer(
    help="Build, inspect, verify, reproduce and batch-score model packages.",
    no_args_is_help=True,
)

# scikit-learn, treelite and the feature code are imported inside the commands that use them,
# so `fraudstream --help` and the other command groups do not pay ~2 s for them; hence this
# copy of models.batch_scoring.DEFAULT_BATCH (a test checks they agree).
DEFAULT_BATCH = 512
# The code that builds is the code in this repository, wherever the command is run from.
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO_ROOT / "config" / "training.toml"
LATEST = "latest"

PackageArg = Annotated[
    str, typer.Argument(help="Package directory, or <name>-<version> in the registry")
]


def registry_dir() -> Path:
    return get_settings().var_dir / "registry" / "packages"


def signing_key() -> bytes:
    try:
        return package_signing_key(get_settings())
    except DevSigningKeyRefused as exc:
        raise fail(str(exc), 2) from exc


@model_app.command()
def build(
    data: Annotated[
        str, typer.Option(help="Transactions dataset id (or unique prefix), or 'latest' simulated")
    ] = LATEST,
    labels: Annotated[
        str | None, typer.Option(help="Labels dataset id; default: the newest for the data")
    ] = None,
    config: Annotated[Path, typer.Option(help="Training configuration")] = DEFAULT_CONFIG,
    version: Annotated[
        str | None, typer.Option(help="Package version; default: UTC time, e.g. 20261127.142501")
    ] = None,
) -> None:
    """Train, evaluate, profile and sign a model package; print where it is and how it did."""
    from models.training.build import BuildRequest, build_package

    store = dataset_store()
    try:
        transactions_id = resolve_transactions(store, data)
        labels_id = resolve_labels(store, transactions_id, labels)
        training = TrainingConfig.from_file(config)
    except (DatasetError, OSError, ValidationError, ValueError) as error:
        raise fail(str(error)) from None
    version = version or datetime.now(UTC).strftime("%Y%m%d.%H%M%S")
    target = registry_dir() / f"{training.name}-{version}"
    if target.exists():  # say so now, not after minutes of training
        raise fail(f"{target} exists already: choose another --version")
    command = (
        f"fraudstream model build --data {transactions_id} --labels {labels_id} "
        f"--config {config} --version {version}"
    )
    request = BuildRequest(
        transactions_id=transactions_id,
        labels_id=labels_id,
        config=training,
        version=version,
        arguments={
            "command": command,
            "data": transactions_id,
            "labels": labels_id,
            "config": str(config),
            "version": version,
        },
    )
    key = signing_key()
    with StepProgress() as step:
        try:
            package = build_package(request, store, registry_dir(), key, REPO_ROOT, step)
        except FileExistsError as error:
            raise fail(f"{error.filename} exists already: choose another --version") from None
        except (DatasetError, PackageError) as error:
            raise fail(str(error)) from None
    manifest = verify_package(package, key).manifest
    typer.echo(f"package {package}")
    typer.echo(f"built in {step.elapsed:.1f} s; content hash {manifest.content_hash}")
    for line in ["", *metrics_table(manifest), "", *thresholds(manifest)]:
        typer.echo(line)
    _track(package, manifest, store)


@model_app.command()
def show(
    package: PackageArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print the raw manifest")] = False,
) -> None:
    """The package's manifest: who, when, which code, data, parameters, metrics, resources."""
    directory = resolve_package(package)
    try:
        manifest = read_manifest_unverified(directory)
    except PackageError as error:
        raise fail(str(error)) from None
    if as_json:
        typer.echo(json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True))
        return
    key = signing_key()
    try:
        verify_package(directory, key)
        verification = f"verified (HMAC-SHA256, key {key_id(key)}, file hashes match)"
    except PackageError as error:
        verification = f"NOT VERIFIED: {type(error).__name__}: {error}"
    for line in describe(manifest, verification):
        typer.echo(line)


@model_app.command()
def verify(package: PackageArg) -> None:
    """Check the signature and every file hash; exit 1 with the reason when they fail."""
    directory = resolve_package(package)
    try:
        verified = verify_package(directory, signing_key())
    except PackageError as error:
        raise fail(f"{type(error).__name__}: {error}") from None
    manifest = verified.manifest
    typer.echo(
        f"verified {manifest.name} {manifest.version}: signature (key {key_id(signing_key())}) "
        f"and {len(verified.files)} file hashes; content hash {verified.content_hash}"
    )


@model_app.command()
def reproduce(
    package: PackageArg,
    keep: Annotated[
        Path | None, typer.Option(help="Copy the rebuilt package here (default: discarded)")
    ] = None,
) -> None:
    """Rebuild the package from its manifest and prove the result is the same model."""
    from models.training.reproduce import ReproduceError, reproduce_package

    directory = resolve_package(package)
    with tempfile.TemporaryDirectory(prefix="fraudstream-reproduce-") as work:
        with StepProgress() as step:
            try:
                report = reproduce_package(
                    directory, signing_key(), dataset_store(), REPO_ROOT, Path(work), step
                )
            except DatasetNotFoundError as error:
                raise fail(f"cannot reproduce: {error}; {_missing_data_hint(directory)}") from None
            except (PackageError, ReproduceError, DatasetError) as error:
                raise fail(f"cannot reproduce: {error}") from None
        for warning in report.warnings:
            typer.echo(f"WARNING: {warning}", err=True)
        typer.echo(f"rebuilt in {report.built_in} ({step.elapsed:.1f} s)")
        for check in report.checks:
            mark = "same     " if check.same else "DIFFERENT"
            detail = f"  {check.detail}" if check.detail else ""
            typer.echo(f"  {mark} {check.what}{detail}")
        if keep is not None:
            shutil.copytree(report.rebuilt, keep)
            typer.echo(f"rebuilt package kept in {keep}")
    if not report.reproduced:
        typer.echo("NOT REPRODUCED: the rebuild differs from the package")
        raise typer.Exit(1)
    typer.echo(f"REPRODUCED: {report.held}")


@model_app.command()
def score(
    package: PackageArg,
    input_file: Annotated[
        Path, typer.Option("--input", help="Transactions: JSON Lines, Parquet or CSV")
    ],
    output: Annotated[
        Path | None, typer.Option(help="Where to write the JSON lines (default: stdout)")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Rows per model call")] = DEFAULT_BATCH,
) -> None:
    """Decide every transaction of a file as the stream would; one JSON line per input."""
    from models.batch_scoring import read_values
    from models.features import FEATURE_SET_VERSION
    from models.scoring import open_package

    directory = resolve_package(package)
    # Steps on stderr (stdout may be the decisions): a large file takes minutes to score.
    with StepProgress() as step:
        step(f"verifying {directory.name}")
        try:
            scorer = open_package(directory, signing_key())
        except PackageError as error:
            raise fail(f"{type(error).__name__}: {error}") from None
        built_for = scorer.manifest.features.feature_set_version
        if built_for != FEATURE_SET_VERSION:
            raise fail(
                f"the package reads features {built_for}; this code computes {FEATURE_SET_VERSION}"
            )
        if not input_file.is_file():
            raise fail(f"{input_file} is not a file")
        try:
            step(f"scoring {input_file.name}")  # read as it is scored, row batch by batch
            values = read_values(input_file)
            if output is None:
                stdout = typer.get_binary_stream("stdout")
                summary = _score_to(stdout, values, scorer, input_file, batch_size)
            else:
                with output.open("wb") as sink:
                    summary = _score_to(sink, values, scorer, input_file, batch_size)
        except (OSError, ValueError) as error:
            raise fail(str(error)) from None
    typer.echo(_score_summary(summary), err=True)


def resolve_transactions(store: DatasetStore, wanted: str) -> str:
    if wanted == LATEST:
        simulated = [
            store.manifest(each)
            for each in store.ids("transactions")
            if store.manifest(each).source.kind == "simulator"
        ]
        if not simulated:
            raise ValueError(
                f"no simulated dataset in {store.root}: run `fraudstream data simulate` first"
            )
        return max(simulated, key=lambda m: (m.created_at, m.id)).id
    return _unique_id(store, wanted, "transactions")


def resolve_labels(store: DatasetStore, transactions_id: str, wanted: str | None) -> str:
    if wanted is not None:
        return _unique_id(store, wanted, "labels")
    linked = store.labels_for(transactions_id)
    if not linked:
        raise ValueError(f"no labels stored for dataset {transactions_id[:12]}; pass --labels")
    return linked[-1].id


def resolve_package(wanted: str) -> Path:
    for candidate in (Path(wanted), registry_dir() / wanted):
        if candidate.is_dir():
            return candidate
    raise fail(f"no package directory {wanted} (nor {registry_dir() / wanted})")


def _unique_id(store: DatasetStore, prefix: str, kind: str) -> str:
    matches = [each for each in store.ids() if each.startswith(prefix.lower())]
    if len(matches) != 1:
        found = "no" if not matches else f"{len(matches)}"
        raise ValueError(f"{found} datasets in {store.root} match {prefix!r}")
    manifest = store.manifest(matches[0])
    if manifest.kind != kind:
        raise ValueError(f"{matches[0][:12]} is a {manifest.kind} dataset, not {kind}")
    return manifest.id


def _track(package: Path, manifest: ModelManifest, store: DatasetStore) -> None:
    uri = get_settings().mlflow_tracking_uri
    if not uri:
        return
    files = {
        "transactions": store.path_of(manifest.data.dataset_id),
        "labels": store.path_of(manifest.data.labels_dataset_id),
    }
    try:
        run = log_build(uri, package, manifest, files)
    except TrackingUnavailable as error:
        typer.echo(f"WARNING: not tracked: {error}; the manifest records the build", err=True)
        return
    except Exception as error:  # tracking is a copy; its failure must not fail a finished build
        typer.echo(
            f"WARNING: MLflow logging failed ({error!r}); the manifest records the build",
            err=True,
        )
        return
    typer.echo(f"mlflow run {run.run_id} (experiment {run.experiment}) at {run.tracking_uri}")


def _score_to(
    sink: BinaryIO,
    values: Iterator[bytes],
    scorer: PackageScorer,
    input_file: Path,
    batch_size: int,
) -> ScoringSummary:
    from models.batch_scoring import score_values

    return score_values(
        values, scorer, sink.write, source_name=input_file.name, batch_size=batch_size
    )


def _missing_data_hint(directory: Path) -> str:
    data = read_manifest_unverified(directory).data
    # Not "simulate it again from the recorded config": the simulator's output depends on the
    # order of its country tables, which the manifest's sorted JSON does not keep.
    return (
        f"copy {dataset_store().root}/<id>/ for {data.dataset_id[:12]} and "
        f"{data.labels_dataset_id[:12]} from where the package was built (ids are content "
        "hashes: any copy with the same id is the same data, and loading checks it)"
    )


def _score_summary(summary: ScoringSummary) -> str:
    outcomes = ", ".join(f"{name} {count:,}" for name, count in sorted(summary.outcomes.items()))
    dead = ", ".join(f"{name} {count:,}" for name, count in sorted(summary.dead_letters.items()))
    return (
        f"{summary.inputs:,} inputs: {summary.decided:,} decided ({outcomes or 'none'}), "
        f"{sum(summary.dead_letters.values()):,} dead letters ({dead or 'none'})"
    )
