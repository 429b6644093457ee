"""Reading drift reports back, the HTML page made from them, the monitor's metrics and CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from typer.testing import CliRunner

from models.drift import DriftMonitor, JoinSpec, WindowSpec
from models.drift.join import JoinCounters
from schemas import examples
from schemas.codec import encode_record
from schemas.drift import (
    AlertSeverity,
    AlertThresholds,
    DriftAlert,
    DriftReport,
    DriftStatistic,
    FieldQuality,
    WindowKind,
)
from stream.cli import app
from stream.cli.monitor_cli import _parse_shift
from stream.monitor import MonitorMetrics, html_report, reports_io
from tests.support.drift_data import event, reference

THRESHOLDS = AlertThresholds(min_events=50)


def _reports() -> list[DriftReport]:
    """Three count windows: like the reference, then amounts shifted up."""
    monitor = DriftMonitor(
        reference(),
        WindowSpec(WindowKind.COUNT, events=100),
        THRESHOLDS,
        JoinSpec(maturity_days=0.0),
        clock=lambda: datetime(2026, 4, 1, tzinfo=UTC),
        prediction_span=1,
        pool_short_windows=False,  # events a second apart: no daily cycle to pool over
    )
    reports = []
    for index in range(300):
        amount = (5.0, 15.0, 25.0, 35.0)[index % 4] + (20.0 if index >= 200 else 0.0)
        reports.extend(monitor.feed(event(index, amount, float(index % 3 == 0), 0.05)))
    return reports


def test_the_page_is_self_contained_and_shows_every_part() -> None:
    reports = _reports()
    page = html_report.render(reports, title="drift <script>alert(1)</script>")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "src=" not in page and "href=" not in page  # nothing to download
    # Per feature a histogram, a trend and a missing-rate trend; score (2), decision rates (1),
    # performance from arrived labels by event day (1), matured performance (1 model).
    assert page.count("<svg") == 3 * len(reports[-1].features) + 5
    assert "warning 0.1" in page and "critical 0.2" in page  # threshold lines
    assert "amount psi" in page  # the latest window's alert
    assert "Population stability index" in page  # what the thresholds mean
    assert "reference (training)" in page and "live (latest window)" in page


def test_windows_too_small_to_judge_are_said_loudly() -> None:
    reports = _reports()
    assert "not judged" not in html_report.render(reports)
    small = reports[-1].model_copy(
        update={"window": reports[-1].window.model_copy(update={"n": 20})}
    )
    page = html_report.render([*reports[:-1], small])
    assert "1 of 3 windows had fewer than 50 events and were not judged" in page
    assert "the latest window is one of them" in page


def test_location_and_creep_are_explained_and_shown_per_feature() -> None:
    reports = _reports()
    amount = (
        reports[-1]
        .features[0]
        .model_copy(
            update={
                "location_z": 7.25,
                "location_shift": 0.04,
                "location_floor": 0.012,
                "cusum": 9.5,
            }
        )
    )
    last = reports[-1].model_copy(update={"features": [amount, *reports[-1].features[1:]]})
    page = html_report.render([*reports[:-1], last])
    assert "Location z (numeric features)" in page and "CUSUM (numeric features)" in page
    assert "location z +7.25, shift +0.040 (floor 0.012)" in page
    assert "CUSUM 9.50" in page


def test_an_empty_list_of_reports_still_makes_a_page() -> None:
    assert "No drift reports" in html_report.render([])


def test_reports_round_trip_through_a_file(tmp_path: Path) -> None:
    reports = _reports()
    path = tmp_path / "reports.jsonl"
    assert reports_io.write_file(reports, path) == 3
    with path.open("ab") as out:
        out.write(b"\n{not json}\n" + encode_record(reports[0]) + b"\n")
    read, skipped = reports_io.read_file(path)
    assert skipped == 1
    assert reports_io.ordered(read) == reports  # the repeated report is kept once


def test_a_version_1_report_is_read_as_version_2(tmp_path: Path) -> None:
    v1 = json.loads(encode_record(examples.drift_report()))
    v1["schema_version"] = 1
    path = tmp_path / "v1.jsonl"
    path.write_text(json.dumps(v1) + "\n")
    [report], skipped = reports_io.read_file(path)
    assert skipped == 0
    assert report.schema_version == 2
    assert report.thresholds is None and report.features[0].histogram is None
    assert "amount" in html_report.render([report])


def test_metrics_follow_the_reports_and_the_join() -> None:
    metrics = MonitorMetrics(CollectorRegistry())
    report = _reports()[-1]
    metrics.report(report, published_at=1234.0)
    value = metrics.registry.get_sample_value
    assert value("fraud_monitor_reports_total") == 1
    assert value("fraud_monitor_last_report_timestamp_seconds") == 1234.0
    assert value("fraud_monitor_feature_psi", {"feature": "amount"}) == report.features[0].psi
    assert value("fraud_monitor_alerts_total", {"subject": "amount", "severity": "critical"}) == 1
    metrics.count_join(JoinCounters(labels_joined=3, matured_unlabelled=5), pending=7)
    metrics.count_join(JoinCounters(labels_joined=4, matured_unlabelled=5, evicted=1), pending=2)
    assert value("fraud_monitor_labels_total", {"result": "joined"}) == 4
    assert value("fraud_monitor_join_entries_total", {"result": "matured_unlabelled"}) == 5
    assert value("fraud_monitor_join_entries_total", {"result": "evicted"}) == 1
    assert value("fraud_monitor_join_pending") == 2


def test_report_command_writes_html_from_a_file(tmp_path: Path) -> None:
    source, out = tmp_path / "reports.jsonl", tmp_path / "report.html"
    reports_io.write_file(_reports(), source)
    result = CliRunner().invoke(
        app, ["monitor", "report", "--from-file", str(source), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "3 windows" in result.output
    assert out.read_text(encoding="utf-8").count("<svg") > 3


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ("amount_scale=1.5", "amount_scale", 1.5),
        ("ecom_share=0.3", "ecom_share", 0.3),
        ("new_country=PT:0.2", "new_country", {"country": "PT", "share": 0.2}),
        ("mcc=5815", "mcc", {"mcc": "5815", "merchant_share": 0.2}),
    ],
)
def test_shift_options(text: str, field: str, expected: object) -> None:
    shift = _parse_shift(text).model_dump()
    assert shift[field] == expected


def test_an_unknown_shift_is_refused() -> None:
    result = CliRunner().invoke(app, ["monitor", "evaluate", "--shift", "price=2"])
    assert result.exit_code == 2
    assert "unknown shift" in result.output


def test_evaluate_writes_every_runs_reports_concept_drift_and_faults_included(
    tmp_path: Path,
) -> None:
    """The per-day arrived-recall pool of a concept-drift run is what explains its delay
    (docs/drift.md): --reports-dir keeps it, as it keeps the plain and shifted runs'."""
    args = ["monitor", "evaluate", "--events", "1000", "--cards", "60", "--shift-day", "51"]
    args += ["--concept-drift", "1.0", "--maturity-days", "14", "--fault", "null_coordinates"]
    result = CliRunner().invoke(app, [*args, "--reports-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == [
        "concept-1-maturity-14d.jsonl",
        "fault-null_coordinates.jsonl",
        "no-drift.jsonl",
    ]
    for name in names:
        reports, skipped = reports_io.read_file(tmp_path / name)
        assert reports and not skipped


def test_the_page_tells_warnings_from_critical_alerts_and_shows_missing_values() -> None:
    reports = _reports()
    latest = reports[-1]
    amount, channel = latest.features
    warned = latest.model_copy(
        update={
            "features": [amount, channel.model_copy(update={"missing_rate_live": 0.3})],
            "alerts": [
                *latest.alerts,
                DriftAlert(
                    what="channel missing rate",
                    severity=AlertSeverity.WARNING,
                    value=0.3,
                    threshold=0.05,
                    subject="channel",
                ),
            ],
        }
    )
    page = html_report.render([*reports[:-1], warned])
    # amount's alert is critical, channel's a warning: two different badges.
    assert "amount (numeric) — <span class='critical'>critical</span>" in page
    assert "channel (categorical) — <span class='warning'>warning</span>" in page
    assert ".warning{background:#fff3e0" in page and ".critical{background:#d32f2f" in page
    # Missing values: a bar of their own (30 % live) and a trend per feature.
    assert "missing live: 30.00%" in page
    assert "channel missing rate over time" in page
    # Bin labels are slanted, never written flat side by side.
    assert "rotate(-40" in page


def test_performance_is_shown_by_event_day_from_the_labels_arrived() -> None:
    reports = _reports()
    page = html_report.render(reports)
    assert "Performance by event day, labels arrived so far" in page
    day = reports[-1].performance_by_day[-1]
    assert f"<tr><td>{day.period_start:%Y-%m-%d}</td><td>{day.events:,}</td>" in page
    assert "x: the last event day the matured events cover" in page


def test_a_field_with_two_alerts_shows_the_worse_one() -> None:
    latest = _reports()[-1]
    field = FieldQuality(field="device_id_hash", n=100, null_rate=0.4, top_share=0.9, distinct=3)
    alerts = [
        DriftAlert(
            what=f"field:device_id_hash {statistic.value}",
            severity=severity,
            value=0.5,
            threshold=0.1,
            subject="field:device_id_hash",
            statistic=statistic,
        )
        # The critical one first: a later warning must not hide it.
        for severity, statistic in (
            (AlertSeverity.CRITICAL, DriftStatistic.NULL_RATE),
            (AlertSeverity.WARNING, DriftStatistic.TOP_SHARE),
        )
    ]
    page = html_report.render([latest.model_copy(update={"fields": [field], "alerts": alerts})])
    assert "<span class='critical'>critical</span></td></tr>" in page
    assert "<span class='warning'>warning</span></td></tr>" not in page


def test_fields_show_their_baseline_source_and_new_values() -> None:
    latest = _reports()[-1]
    currency = FieldQuality(
        field="currency", n=2000, null_rate=0.0, top_share=0.9, distinct=4,
        null_rate_baseline=0.0, top_share_baseline=0.91, null_rate_shift=0.0,
        baseline_from="package", unseen_share=0.031, unseen_shift=0.031,
    )  # fmt: skip
    lat = FieldQuality(
        field="customer_lat", n=2000, null_rate=0.2, top_share=0.01, distinct=900,
        null_rate_baseline=0.2, null_rate_shift=0.0, baseline_from="package",
        out_of_range_share=0.004, out_of_range_shift=0.0,
    )  # fmt: skip
    page = html_report.render([latest.model_copy(update={"fields": [currency, lat]})])
    assert "3.1% unseen" in page
    assert "0.4% out of range" in page
    assert "(usual 0.0%, package)" in page
