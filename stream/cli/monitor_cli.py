"""`fraudstream monitor run | report | evaluate`: the drift and performance monitor."""

from __future__ import annotations

import logging.config
import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from stream.cli.progress import StepProgress
from stream.settings import get_settings

if TYPE_CHECKING:
    from models.drift import WindowSpec
    from models.drift.evaluation import Detection, FalseAlarms, ShiftEvaluation
    from models.drift.simulated import Population, SimulatedModel
    from models.simulator import ShiftConfig
    from schemas.drift import DriftReport

DEFAULT_SHIFTS = ["amount_scale=1.5", "ecom_share=0.3"]

monitor_app = typer.Typer(
    help="Watch live inputs, scores and delayed labels against the package's training profile.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@monitor_app.command("run")
def run_command(
    package: Annotated[
        Path | None,
        typer.Option(help="Package whose profile is the reference (default: FRAUD_MODEL_PACKAGE)"),
    ] = None,
) -> None:
    """Consume the scoring log and labels; publish one drift report per window; serve /metrics.

    Configured by FRAUD_MONITOR__* (window kind and size, thresholds, label maturity, ...).
    Runs until SIGTERM or Ctrl-C.
    """
    from prometheus_client import start_http_server

    from models.drift import reference_from_manifest
    from models.package import PackageError, verify_package
    from stream.logs import logging_config
    from stream.monitor import MonitorMetrics, MonitorRunner, monitor_config
    from stream.signing_keys import DevSigningKeyRefused, package_signing_key

    settings = get_settings()
    directory = package or settings.model_package
    if directory is None:
        raise _fail("no package: pass --package or set FRAUD_MODEL_PACKAGE", 2)
    try:
        # Verified (signature and file hashes) though nothing is unpickled: the reference
        # decides what is called drift, so it must be the package it claims to be.
        manifest = verify_package(directory, package_signing_key(settings))
    except (PackageError, DevSigningKeyRefused) as exc:
        raise _fail(str(exc)) from exc
    config = monitor_config(settings)
    logging.config.dictConfig(logging_config(settings.log_level, config.worker_id))
    metrics = MonitorMetrics()
    server = None
    if settings.monitor.metrics_port:
        server, _ = start_http_server(
            settings.monitor.metrics_port, addr=settings.monitor.metrics_host,
            registry=metrics.registry,
        )  # fmt: skip
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runner = MonitorRunner(config, reference_from_manifest(manifest.manifest), metrics)
    try:
        published = runner.run(stop)
    finally:
        if server is not None:
            server.shutdown()
    typer.echo(f"monitor stopped after {published} reports")


@monitor_app.command("report")
def report_command(
    out: Annotated[Path, typer.Option(help="HTML file to write")] = Path("report.html"),
    from_topic: Annotated[
        bool, typer.Option("--from-topic", help="Read the drift-reports topic (the default)")
    ] = False,
    from_file: Annotated[
        Path | None, typer.Option("--from-file", help="Read a JSON-lines file of reports")
    ] = None,
    topic: Annotated[str | None, typer.Option(help="Topic (default: settings)")] = None,
    last: Annotated[int, typer.Option(min=1, help="Show at most the last N windows")] = 180,
) -> None:
    """Write a self-contained HTML page of the drift reports: histograms, trends, thresholds."""
    from stream.monitor import html_report, reports_io
    from stream.monitor.errors import ReportsUnreadable

    if from_topic and from_file is not None:
        raise _fail("choose one of --from-topic and --from-file", 2)
    settings = get_settings()
    try:
        if from_file is not None:
            reports, skipped = reports_io.read_file(from_file)
            source = str(from_file)
        else:
            name = topic or settings.topics.drift_reports
            reports, skipped = reports_io.read_topic(settings.kafka_bootstrap, name)
            source = f"topic {name}"
    except ReportsUnreadable as exc:
        raise _fail(str(exc)) from exc
    shown = reports_io.ordered(reports)[-last:]
    out.write_text(html_report.render(shown), encoding="utf-8")
    typer.echo(
        f"{out}: {len(shown)} windows from {source}"
        + (f" ({skipped} records that are not drift reports skipped)" if skipped else "")
    )


@monitor_app.command("evaluate")
def evaluate_command(
    events: Annotated[int, typer.Option(min=1000, help="Live events without a shift")] = 100_000,
    shift: Annotated[
        list[str] | None,
        typer.Option(
            help="A shift to detect, one run each: amount_scale=1.5, amount_creep=0.01, "
            "ecom_share=0.3, new_country=PT[:share], mcc=5815[:merchant_share]"
        ),
    ] = None,
    shift_day: Annotated[
        int | None, typer.Option(help="Day the shifts start (default: a week into live)")
    ] = None,
    window: Annotated[str, typer.Option(help="time or count")] = "time",
    window_hours: Annotated[float, typer.Option(min=0.01)] = 24.0,
    window_events: Annotated[int, typer.Option(min=1)] = 2500,
    cards: Annotated[int, typer.Option(min=10)] = 1500,
    seed: Annotated[int, typer.Option(min=0)] = 7,
    reports_dir: Annotated[
        Path | None, typer.Option(help="Also write each run's reports here (JSON lines)")
    ] = None,
    concept_drift: Annotated[
        list[float] | None,
        typer.Option(
            help="Concept drift to detect, one run each: this share of fraud from --shift-day "
            "on takes a genuine event's features (models.drift.concept)"
        ),
    ] = None,
    fault: Annotated[
        list[str] | None,
        typer.Option(
            help="A fault from --shift-day, one run each: KIND[:share] with KIND "
            "null_coordinates, constant_device, unknown_currency, swapped_coordinates (raw "
            "fields) or stuck_feature (a model feature stuck at a fallback value, its events "
            "rescored) (models.drift.faults)"
        ),
    ] = None,
    maturity_days: Annotated[
        list[float] | None,
        typer.Option(help="Label maturity of the concept-drift runs (default: 60 and 14)"),
    ] = None,
) -> None:
    """Detection delay per shifted feature, and the false-alarm rate without a shift, measured
    on simulated traffic through the monitor's own window logic."""
    from models.drift import WindowSpec
    from models.drift.evaluation import evaluate_no_drift, evaluate_shift
    from models.drift.simulated import (
        LIVE_START_DAY,
        TRAIN_DAYS,
        WARMUP_DAYS,
        plan,
        simulate_population,
        train_reference,
    )
    from schemas.drift import WindowKind

    if window not in ("time", "count"):
        raise _fail("--window must be time or count", 2)
    texts = shift or DEFAULT_SHIFTS
    shifts = [_parse_shift(text) for text in texts]
    config = plan(events, cards, seed)
    day = shift_day if shift_day is not None else LIVE_START_DAY + 7
    if not LIVE_START_DAY <= day < config.n_days:
        raise _fail(f"--shift-day must be within {LIVE_START_DAY}..{config.n_days - 1}", 2)
    spec = WindowSpec(
        WindowKind(window), events=window_events, length_ms=round(window_hours * 3_600_000)
    )
    typer.echo(
        f"simulating {config.n_cards} cards over {config.n_days} days (seed {seed}): model and "
        f"feature profile from days {WARMUP_DAYS}-{WARMUP_DAYS + TRAIN_DAYS - 1}, score profile "
        f"and thresholds from days {WARMUP_DAYS + TRAIN_DAYS}-{LIVE_START_DAY - 1}, live from day "
        f"{LIVE_START_DAY}"
    )
    # Steps on stderr with their times: the whole evaluation takes minutes.
    with StepProgress() as step:
        step(f"simulating {config.n_cards:,} cards over {config.n_days} days")
        population, snapshot = simulate_population(config, snapshot_day=day)
        step("training the reference model")
        model = train_reference(population, seed)
        step("no-drift run (false alarms)")
        alarms = evaluate_no_drift(population, model, spec)
        _print_false_alarms(alarms, spec.kind.value)
        _write_reports(alarms.reports, reports_dir, "no-drift")
        if snapshot is None:
            raise _fail(f"no events on day {day} to start the shift from")
        for share in concept_drift or []:
            for maturity in maturity_days or [60.0, 14.0]:
                step(f"concept drift {share} at {maturity:g}-day maturity")
                _concept(population, model, day, share, spec, maturity, reports_dir)
        for text in fault or []:
            step(f"fault {text}")
            _fault(population, model, day, text, spec, reports_dir)
        # Concept drift or faults alone: the default shifts are not rerun.
        only_others = bool(concept_drift or fault) and not shift
        for text, parsed in zip(texts, shifts, strict=True) if not only_others else []:
            step(f"shift {text}")
            result = evaluate_shift(
                population, snapshot, model, parsed.model_copy(update={"start_day": day}), spec
            )
            _print_shift(text, day, result)
            _write_reports(result.reports, reports_dir, f"shift-{text.split('=')[0]}")


def _concept(
    population: Population,
    model: SimulatedModel,
    day: int,
    share: float,
    spec: WindowSpec,
    maturity: float,
    reports_dir: Path | None,
) -> None:
    from models.drift.concept import evaluate_concept_drift, since_first_label
    from models.drift.monitor import JoinSpec

    result = evaluate_concept_drift(
        population, model, day, share, spec, JoinSpec(maturity_days=maturity)
    )
    _write_reports(result.reports, reports_dir, f"concept-{share:g}-maturity-{maturity:g}d")

    def after(found: Detection | None) -> str:
        if found is None:
            return "never"
        late = since_first_label(result, found)
        from_label = f", {late.total_seconds() / 3600:.0f} h after the first label" if late else ""
        return (
            f"{found.after.total_seconds() / 3600:.0f} h{from_label} "
            f"({found.severity}, {found.value:.2f})"
        )

    typer.echo(
        f"\nconcept drift {share:.0%} of fraud from day {day}, label maturity {maturity:g} d: "
        f"arrived-label recall alert after {after(result.recall)}; matured PR-AUC alert after "
        f"{after(result.pr_auc)}; other alerts after it {result.other_alerts or 'none'}; "
        f"alerts before it {result.before_start}"
    )


def _fault(
    population: Population,
    model: SimulatedModel,
    day: int,
    text: str,
    spec: WindowSpec,
    reports_dir: Path | None,
) -> None:
    from models.drift.faults import FAULT_KINDS, evaluate_fault

    name, _, share_text = text.partition(":")
    kinds = {kind: kind for kind in FAULT_KINDS}
    if name not in kinds:
        raise _fail(f"--fault {text}: unknown fault {name!r}", 2)
    kind = kinds[name]
    share = float(share_text) if share_text else 0.1
    result = evaluate_fault(population, model, day, share, kind, spec)
    _write_reports(result.reports, reports_dir, f"fault-{kind}")
    found = ", ".join(
        f"{subject} {after.total_seconds() / 3600:.0f} h"
        for subject, after in sorted(result.first_alert.items(), key=lambda kv: kv[1])
    )
    typer.echo(
        f"\nfault {kind} on {share:.0%} of events from day {day}: first alerts {found or 'none'}"
        f"; alerts before it {result.before_start}"
    )


def _write_reports(reports: list[DriftReport], reports_dir: Path | None, name: str) -> None:
    """A run's reports as JSON lines under --reports-dir (per-day location and arrived-recall
    figures: docs/drift.md reads them)."""
    from stream.monitor import reports_io

    if reports_dir is not None:
        reports_dir.mkdir(parents=True, exist_ok=True)
        reports_io.write_file(reports, reports_dir / f"{name}.jsonl")


def _parse_shift(text: str) -> ShiftConfig:
    from models.simulator import MccShift, NewCountryShift, ShiftConfig

    name, _, value = text.partition("=")
    head, _, share = value.partition(":")
    try:
        if name == "amount_scale":
            return ShiftConfig(start_day=0, amount_scale=float(value))
        if name == "amount_creep":
            return ShiftConfig(start_day=0, amount_creep_per_day=float(value))
        if name == "ecom_share":
            return ShiftConfig(start_day=0, ecom_share=float(value))
        if name == "new_country":
            extra = {"share": float(share)} if share else {}
            return ShiftConfig(start_day=0, new_country=NewCountryShift(country=head, **extra))
        if name == "mcc":
            extra = {"merchant_share": float(share)} if share else {}
            return ShiftConfig(start_day=0, mcc=MccShift(mcc=head, **extra))
    except ValueError as exc:
        raise _fail(f"--shift {text}: {exc}", 2) from exc
    raise _fail(f"--shift {text}: unknown shift {name!r}", 2)


def _print_false_alarms(alarms: FalseAlarms, kind: str) -> None:
    typer.echo(
        f"\nno shift: {alarms.windows} {kind} windows, {alarms.windows_alerting} with an alert "
        f"→ false-alarm rate {alarms.rate:.1%} per window; {sum(alarms.alerts.values())} alerts "
        f"in {alarms.checks} subject-window checks ({alarms.per_check:.2%})"
    )
    for subject, count in alarms.alerts.most_common():
        typer.echo(f"  false alarm: {subject} in {count} windows")
    last = alarms.reports[-1] if alarms.reports else None
    for entry in last.performance if last else []:
        typer.echo(
            f"  live performance ({entry.model.version}, {entry.events or 0:,} matured events, "
            f"{entry.positives} fraud): precision {_num(entry.precision)}, recall "
            f"{_num(entry.recall)}, PR-AUC {_num(entry.pr_auc)} "
            f"(validation {_num(entry.reference_pr_auc)})"
        )
    arrived = last.recall_arrived if last else None
    if arrived is not None:
        typer.echo(
            f"  arrived labels ({arrived.period_start:%Y-%m-%d}..{arrived.period_end:%Y-%m-%d}, "
            f"{arrived.fraud_labels} fraud): recall {_num(arrived.recall)} "
            f"[{_num(arrived.recall_low)}, {_num(arrived.recall_high)}] vs test "
            f"{_num(arrived.reference_recall)}; label-free estimate (CBPE) "
            f"{_num(arrived.estimated_recall)}"
        )


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _print_shift(text: str, day: int, result: ShiftEvaluation) -> None:
    typer.echo(
        f"\nshift {text} from day {day}: {result.events_after_shift:,} events after it; "
        f"features it changed: {', '.join(result.changed) or 'none'}"
    )
    from models.features import FEATURE_NAMES

    for subject, found in sorted(result.detections.items(), key=lambda kv: kv[1].events):
        marker = ""
        if subject in FEATURE_NAMES and subject not in result.changed:
            marker = "  (FALSE ALARM: the shift left this feature unchanged)"
        elif subject not in FEATURE_NAMES:
            marker = "  (the model's output, moved by the shifted features)"
        hours = found.after.total_seconds() / 3600
        typer.echo(
            f"  first alert {subject}: after {found.events:,} events, {hours:.1f} h "
            f"({found.severity}, {found.value:.3f}){marker}"
        )
    for name in result.missed:
        typer.echo(f"  never alerted: {name}")
    if result.before_shift:
        typer.echo(f"  false alarms before the shift: {dict(result.before_shift)}")
    if result.unaffected:
        typer.echo(f"  false alarms on unchanged features: {dict(result.unaffected)}")
