"""`fraudstream data simulate | list | import`: the versioned datasets models are built from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from models.datasets import DatasetError, DatasetManifest, DatasetStore, import_transactions
from models.simulator import SimulatorConfig, simulate, store_simulation
from stream.cli.progress import StepProgress
from stream.settings import get_settings

data_app = typer.Typer(
    help="Transaction datasets: simulate, import, list (stored under var/datasets).",
    no_args_is_help=True,
)

# --shift values whose plain form names the one field that matters (e.g. new_country=PT).
_SHIFT_SHORTHANDS = {"new_country": "country", "mcc": "mcc"}


def dataset_store() -> DatasetStore:
    return DatasetStore(get_settings().var_dir / "datasets")


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@data_app.command("simulate")
def simulate_command(
    config: Annotated[
        Path | None, typer.Option(help="SimulatorConfig file (.toml or .json)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override the config's seed")] = None,
    days: Annotated[int | None, typer.Option(help="Override the number of days")] = None,
    small: Annotated[bool, typer.Option(help="The small test world (~7k rows)")] = False,
    shift: Annotated[
        list[str] | None,
        typer.Option(
            help="A distribution shift, KEY=VALUE, repeatable: start_day=60 (required), "
            "amount_scale=1.5, ecom_share=0.3, new_country=PT, new_country.share=0.4, "
            "mcc=5815, mcc.merchant_share=0.2"
        ),
    ] = None,
) -> None:
    """Simulate transactions with fraud and delayed labels; store both and print their ids."""
    try:
        settings = _simulator_config(config, seed, days, small, shift or [])
    except (ValidationError, ValueError, OSError) as error:
        raise fail(f"invalid simulator configuration: {error}") from None
    store = dataset_store()
    with StepProgress() as step:
        step(
            f"simulating {settings.n_cards:,} cards, {settings.n_merchants:,} merchants, "
            f"{settings.n_days} days (seed {settings.seed})"
        )
        result = simulate(settings)
        step(f"storing {result.transactions.num_rows:,} transactions and their labels")
        transactions, labels = store_simulation(store, result)
    typer.echo(f"transactions {transactions.id}  {_summary(transactions)}")
    typer.echo(f"labels       {labels.id}  {_summary(labels)}")


@data_app.command("list")
def list_command() -> None:
    """Every stored dataset, oldest first."""
    store = dataset_store()
    manifests = sorted(
        (store.manifest(each) for each in store.ids()), key=lambda m: (m.created_at, m.id)
    )
    if not manifests:
        typer.echo(f"no datasets in {store.root}; try: fraudstream data simulate --small")
        return
    for manifest in manifests:
        created = manifest.created_at.strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(
            f"{manifest.id[:12]}  {manifest.kind:<12}  {created}  {_summary(manifest)}"
            f"  [{_source(manifest)}]"
        )


@data_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A .csv or .parquet file of transactions")],
    allow_bad_rows: Annotated[
        bool, typer.Option(help="Store the good rows even when some rows are bad")
    ] = False,
) -> None:
    """Validate a file against the Transaction contract and store it as a dataset."""
    try:
        report = import_transactions(dataset_store(), file, allow_bad_rows=allow_bad_rows)
    except (OSError, ValueError, DatasetError) as error:
        raise fail(str(error)) from None
    typer.echo(
        f"{report.rows_read:,} rows read, {report.rows_ok:,} good, {report.bad_rows_total:,} bad"
    )
    for bad in report.bad_rows[:20]:
        typer.echo(f"  row {bad.row} ({bad.transaction_id}): {'; '.join(bad.errors)}", err=True)
    if report.manifest is None:
        hint = "" if allow_bad_rows else " (use --allow-bad-rows to store the good ones)"
        raise fail(f"nothing stored{hint}")
    typer.echo(f"transactions {report.manifest.id}  {_summary(report.manifest)}")


def _simulator_config(
    path: Path | None, seed: int | None, days: int | None, small: bool, shift: list[str]
) -> SimulatorConfig:
    if path is not None:
        base = SimulatorConfig.from_file(path)
    else:
        base = SimulatorConfig.small() if small else SimulatorConfig()
    values = base.model_dump()
    if seed is not None:
        values["seed"] = seed
    if days is not None:
        values["n_days"] = days
    if shift:
        values["shift"] = parse_shift(shift)
    return SimulatorConfig.model_validate(values)


def parse_shift(items: list[str]) -> dict[str, Any]:
    """KEY=VALUE items into a ShiftConfig dict; dotted keys reach nested fields."""
    shift: dict[str, Any] = {}
    for item in items:
        key, separator, text = item.partition("=")
        if not separator:
            raise ValueError(f"--shift {item!r}: expected KEY=VALUE")
        if key in _SHIFT_SHORTHANDS:
            shift.setdefault(key, {})[_SHIFT_SHORTHANDS[key]] = text
            continue
        *parents, leaf = key.split(".")
        target = shift
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = _value(text)
    return shift


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _summary(manifest: DatasetManifest) -> str:
    if manifest.kind == "labels":
        return f"{manifest.rows:,} labels ({manifest.fraud_label_count:,} fraud)"
    rate = "" if manifest.fraud_rate is None else f", fraud rate {manifest.fraud_rate:.3%}"
    span = ""
    if manifest.time_span is not None:
        span = f", {manifest.time_span.start:%Y-%m-%d} → {manifest.time_span.end:%Y-%m-%d}"
    return f"{manifest.rows:,} rows{rate}{span}"


def _source(manifest: DatasetManifest) -> str:
    source = manifest.source
    if source.kind == "simulator":
        return f"simulator seed {source.seed}"
    return f"import of {source.path}"
