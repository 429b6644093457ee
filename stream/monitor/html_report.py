"""One self-contained HTML page from a sequence of drift reports (no scripts, no downloads)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape

from schemas.drift import (
    AlertSeverity,
    AlertThresholds,
    ArrivedPerformance,
    DriftReport,
    FeatureDrift,
    FieldQuality,
    LivePerformance,
)
from stream.monitor.svg import PALETTE, REFERENCE_COLOUR, Rule, Series, bar_chart, line_chart

WARNING_COLOUR, CRITICAL_COLOUR = "#ff9800", "#d32f2f"
STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
h3{font-size:14px;margin:4px 0}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;padding:8px}
.warning{background:#fff3e0;color:#7a4100;border:1px dashed #ff9800;padding:0 4px}
.critical{background:#d32f2f;color:#fff;font-weight:bold;padding:0 4px}
.notice{color:#7a4100;font-weight:bold}
.muted{color:#777;font-size:12px}
"""
# Warnings (dashed amber outline, dark text) and critical alerts (solid red, white bold text)
# must not look alike: a reader scanning the page acts on critical ones first.


def render(reports: Sequence[DriftReport], title: str = "fraudstream drift report") -> str:
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}"
        f"</title><style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
    ]
    if not reports:
        parts.append("<p>No drift reports to show.</p></body></html>")
        return "".join(parts)
    latest = reports[-1]
    labels = [r.window.start.strftime("%Y-%m-%d %H:%M") for r in reports]
    thresholds = latest.thresholds or AlertThresholds()
    parts += [
        _summary(reports),
        _reading_guide(thresholds),
        _alerts(reports),
        _score(reports, labels, thresholds),
        _decisions(reports, labels),
        _fields(latest),
        _arrived(latest),
        _performance(reports),
        _features(reports, labels, thresholds),
        "</body></html>",
    ]
    return "".join(parts)


def _summary(reports: Sequence[DriftReport]) -> str:
    latest = reports[-1]
    model = latest.model
    join = latest.label_join
    join_text = (
        f"<p>Label join (since the monitor started): {join.entries:,} scored events, "
        f"{join.labels:,} labels ({join.labels_joined:,} joined, {join.labels_duplicate:,} "
        f"duplicates, {join.labels_unmatched:,} unmatched), {join.matured_labelled:,} matured "
        f"with a label, {join.matured_unlabelled:,} matured unlabelled (counted genuine), "
        f"{join.evicted:,} evicted unmatured, {join.pending:,} pending; maturity "
        f"{join.maturity_days:g} days.</p>"
        if join is not None
        else ""
    )
    return (
        f"<p>Reference: package <b>{escape(model.name)} {escape(model.version)}</b> "
        f"(content hash {escape(model.content_hash[:12])}…), feature set "
        f"{escape(latest.feature_set_version)}. {len(reports)} windows "
        f"({escape(latest.window.kind.value)}), from {reports[0].window.start:%Y-%m-%d %H:%M} "
        f"to {latest.window.end:%Y-%m-%d %H:%M} UTC; latest window {latest.window.n:,} events."
        f"</p>{_too_small(reports)}{join_text}"
    )


def _too_small(reports: Sequence[DriftReport]) -> str:
    """Said loudly: a window below min_events is not judged, so silence there means nothing."""
    minimum = (reports[-1].thresholds or AlertThresholds()).min_events
    small = sum(1 for r in reports if not r.judged(minimum))
    if not small:
        return ""
    latest = "the latest window is one of them; " if not reports[-1].judged(minimum) else ""
    return (
        f"<p class='notice'>{small:,} of {len(reports):,} windows had fewer than "
        f"{minimum:,} events and were not judged: no drift statistic, no alert ({latest}"
        "lengthen the windows for this traffic).</p>"
    )


def _reading_guide(t: AlertThresholds) -> str:
    rows = [
        ("PSI (numeric features, score)", t.psi_minor, t.psi_major,
         "Population stability index over the training deciles. Below 0.1: stable."),
        ("Total variation (categorical features)", t.total_variation_minor,
         t.total_variation_major, "Share of traffic that moved to other categories."),
        ("Unseen-category share", t.unseen_share_minor, t.unseen_share_major,
         "Live values in categories training never saw."),
        ("Missing-rate change (absolute)", t.missing_rate_minor, t.missing_rate_major,
         "PSI ignores missing values; this catches a field that stops being filled."),
        ("REVIEW/DECLINE rate ratio (or its inverse)", t.rate_ratio_minor, t.rate_ratio_major,
         f"Live rate / validation rate, once ≥ {t.min_expected_decisions:g} are expected."),
        ("Location z (numeric features)", t.location_z_minor, t.location_z_major,
         "Mean rank on the training percentiles moved, in standard errors; only when the shift "
         "is twice the reference chunks' largest; a warning needs two windows in a row."),
        ("CUSUM (numeric features)", t.cusum_minor, t.cusum_major,
         "Location shifts beyond the reference's own wander, added up window after window: "
         "slow creep."),
        ("PR-AUC drop (relative)", t.pr_auc_drop_minor, t.pr_auc_drop_major,
         f"Below the package's test PR-AUC, once ≥ {t.min_positives} frauds matured."),
        ("Recall drop, arrived labels (relative)", t.recall_drop_minor, t.recall_drop_major,
         "Upper 95 % bound of recall among the fraud labels in so far, below the package's "
         f"test recall; once ≥ {t.min_fraud_labels_arrived} fraud labels are in."),
    ]  # fmt: skip
    body = "".join(
        f"<tr><td>{escape(name)}</td><td class='warning'>≥ {minor:g}</td>"
        f"<td class='critical'>≥ {major:g}</td><td>{escape(meaning)}</td></tr>"
        for name, minor, major, meaning in rows
    )
    return (
        "<h2>How to read this</h2><p>Every statistic compares live data with the package's "
        "training profile on the profile's own bins; alerts fire on effect sizes, never on "
        f"p-values (which are tiny for any large window). Windows with fewer than "
        f"{t.min_events:,} values get no statistic. Features never alerted on: "
        f"{escape(', '.join(t.exempt_features) or 'none')} (calendar features differ from the "
        "profile in any window shorter than a week).</p><table><tr><th>Statistic</th>"
        f"<th>Warning</th><th>Critical</th><th>Meaning</th></tr>{body}</table>"
    )


def _alerts(reports: Sequence[DriftReport]) -> str:
    latest = reports[-1]
    rows = "".join(
        f"<tr><td class='{a.severity.value}'>{escape(a.severity.value)}</td>"
        f"<td>{escape(a.what)}</td><td>{a.value:.4g}</td><td>{a.threshold:.4g}</td></tr>"
        for a in latest.alerts
    )
    latest_table = (
        f"<table><tr><th>Severity</th><th>What</th><th>Value</th><th>Threshold</th></tr>{rows}"
        "</table>"
        if rows
        else "<p>No alerts in the latest window.</p>"
    )
    counts = Counter((a.subject or a.what, a.severity.value) for r in reports for a in r.alerts)
    history = "".join(
        f"<tr><td>{escape(subject)}</td><td class='{severity}'>{escape(severity)}</td>"
        f"<td>{count}</td></tr>"
        for (subject, severity), count in sorted(counts.items())
    )
    history_table = (
        f"<h3>Alerts over all {len(reports)} windows</h3><table><tr><th>Subject</th>"
        f"<th>Severity</th><th>Windows</th></tr>{history}</table>"
        if history
        else ""
    )
    return f"<h2>Alerts (latest window)</h2>{latest_table}{history_table}"


def _rules(minor: float, major: float) -> list[Rule]:
    return [
        Rule(minor, f"warning {minor:g}", WARNING_COLOUR),
        Rule(major, f"critical {major:g}", CRITICAL_COLOUR),
    ]


def _score(reports: Sequence[DriftReport], labels: list[str], t: AlertThresholds) -> str:
    latest = reports[-1].score
    histogram = (
        bar_chart(
            "Score distribution", latest.histogram.labels, latest.histogram.live,
            latest.histogram.reference,
        )
        if latest.histogram is not None
        else "<p class='muted'>No scores in the latest windows.</p>"
    )  # fmt: skip
    trend = line_chart(
        "Score PSI over time",
        labels,
        [Series("score PSI", [r.score.psi for r in reports])],
        _rules(t.psi_minor, t.psi_major),
    )
    span = f" over the last {latest.span_windows} windows" if latest.span_windows else ""
    return (
        "<h2>Score (reference model)</h2>"
        f"<div class='grid'><div class='card'><h3>Latest{escape(span)}: live vs validation "
        f"profile</h3>{histogram}</div><div class='card'><h3>PSI per window</h3>{trend}"
        "</div></div>"
    )


def _decisions(reports: Sequence[DriftReport], labels: list[str]) -> str:
    series = []
    for index, outcome in enumerate(("review", "decline")):
        colour = PALETTE[index]
        series.append(
            Series(f"{outcome} live", [getattr(r.decision_rates.live, outcome) for r in reports],
                   colour)
        )  # fmt: skip
        series.append(
            Series(f"{outcome} reference",
                   [getattr(r.decision_rates.reference, outcome) for r in reports], colour,
                   dashed=True)
        )  # fmt: skip
    chart = line_chart("Decision rates over time", labels, series)
    return (
        "<h2>Decision rates (the reference model's own thresholds)</h2>"
        f"<div class='card'>{chart}<p class='muted'>APPROVE is the rest. Dashed: the rate on "
        "the package's validation data.</p></div>"
    )


def _performance(reports: Sequence[DriftReport]) -> str:
    # Plotted by the event period the matured events cover (their last event day), not by the
    # report that carried them: a report today shows events of up to the maturity period ago.
    periods = sorted({f"{e.window_end:%Y-%m-%d}" for r in reports for e in r.performance})
    labels = [f"events to {period}" for period in periods]
    slot_of = {period: slot for slot, period in enumerate(periods)}
    models: dict[str, list[LivePerformance | None]] = {}
    for report in reports:
        for entry in report.performance:
            key = f"{entry.model.name} {entry.model.version} ({entry.role.value})"
            slot = slot_of[f"{entry.window_end:%Y-%m-%d}"]
            models.setdefault(key, [None] * len(periods))[slot] = entry
    if not models:
        return (
            "<h2>Live performance</h2><p>No scored event has matured yet (labels are awaited "
            "for the maturity period).</p>"
        )
    cards = []
    for name, entries in models.items():
        series = [
            Series(metric, [getattr(e, metric) if e else None for e in entries], PALETTE[i])
            for i, metric in enumerate(("precision", "recall", "pr_auc"))
        ]
        reference = next((e.reference_pr_auc for e in entries if e and e.reference_pr_auc), None)
        rules = (
            [Rule(reference, f"test PR-AUC {reference:.3f}", REFERENCE_COLOUR)] if reference else []
        )
        last = next((e for e in reversed(entries) if e), None)
        detail = (
            f"<p class='muted'>Latest: {last.events or 0:,} matured events "
            f"({last.labels_joined:,} labelled, {last.positives:,} fraud, {last.flagged or 0:,} "
            f"flagged), event times {last.window_start:%Y-%m-%d} to {last.window_end:%Y-%m-%d}."
            "</p>"
            if last
            else ""
        )
        chart = line_chart(f"Live performance {name}", labels, series, rules, y_max=1.0)
        cards.append(f"<div class='card'><h3>{escape(name)}</h3>{chart}{detail}</div>")
    return (
        "<h2>Live performance, matured events</h2><p class='muted'>Over each model's latest "
        "matured events: labelled ones, and unlabelled ones counted genuine once the maturity "
        "period passed. Flagged = REVIEW or DECLINE. x: the last event day the matured events "
        "cover.</p>"
        f"<div class='grid'>{''.join(cards)}</div>"
    )


def _field_status(f: FieldQuality) -> str:
    if f.null_rate_shift is not None or f.top_share_shift is not None:
        return "ok"
    if f.top_share_baseline is None:
        return "<span class='muted'>learning its usual level</span>"
    if f.field.startswith("feature:"):
        # models.drift.quality: a feature with a mass point is not watched for value collapse.
        return "<span class='muted'>not watched (one value is common)</span>"
    return "<span class='muted'>not judged</span>"


def _fields(latest: DriftReport) -> str:
    if not latest.fields:
        return ""
    alerting = {subject: worst.value for subject, worst in _worst_severity(latest).items()}

    def status(f: FieldQuality) -> str:
        worst = alerting.get(f"field:{f.field}")
        if worst is not None:
            return f"<span class='{worst}'>{worst}</span>"
        return _field_status(f)

    def new_values(f: FieldQuality) -> str:
        if f.unseen_share is not None:
            return f"{_pct1(f.unseen_share)} unseen"
        if f.out_of_range_share is not None:
            return f"{_pct1(f.out_of_range_share)} out of range"
        return "<span class='muted'>n/a</span>"

    rows = "".join(
        f"<tr><td>{escape(f.field)}</td><td>{_pct1(f.null_rate)} (usual "
        f"{_pct1(f.null_rate_baseline)}{', ' + f.baseline_from if f.baseline_from else ''})"
        f"</td><td>{_pct1(f.top_share)} (usual {_pct1(f.top_share_baseline)})</td>"
        f"<td>{new_values(f)}</td><td>{f.distinct:,}</td><td>{status(f)}</td></tr>"
        for f in latest.fields
    )
    return (
        "<h2>Input fields (latest window)</h2><p class='muted'>Every raw field, read by the "
        "model or not, and the commonest value of each continuous model feature (a fallback "
        "value written on part of the traffic). Usual levels come from the package's raw-field "
        "profile (training split) where it has one, else from the monitor's first judged "
        "windows (identifiers' and features' usual commonest share always from the monitor); "
        "nothing is judged before them, nor in windows too small. Categorical fields: share of "
        "values training never saw; numeric ones: share outside training's 0.1-99.9 % range.</p>"
        "<table><tr><th>Field</th><th>Null rate</th><th>Commonest value's share</th>"
        "<th>New values</th><th>Distinct (capped)</th><th>Status</th></tr>"
        f"{rows}</table>"
    )


def _worst_severity(report: DriftReport) -> dict[str, AlertSeverity]:
    """Per subject, its most severe alert of the report (a field can raise two)."""
    worst: dict[str, AlertSeverity] = {}
    for a in report.alerts:
        if a.subject and worst.get(a.subject) is not AlertSeverity.CRITICAL:
            worst[a.subject] = a.severity
    return worst


def _pct1(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _arrived(latest: DriftReport) -> str:
    days = latest.performance_by_day
    if not days:
        return ""
    labels = [f"{d.period_start:%Y-%m-%d}" for d in days]
    pooled = latest.recall_arrived
    reference = pooled.reference_recall if pooled is not None else None
    rules = [Rule(reference, f"test recall {reference:.2f}", REFERENCE_COLOUR)] if reference else []
    chart = line_chart(
        "Recall by event day, labels arrived so far",
        labels,
        [
            Series("recall so far", [d.recall for d in days], PALETTE[0]),
            Series("95 % low", [d.recall_low for d in days], PALETTE[0], dashed=True),
            Series("95 % high", [d.recall_high for d in days], PALETTE[0], dashed=True),
            Series("label-free estimate (CBPE)", [d.estimated_recall for d in days], PALETTE[2]),
        ],
        rules,
        y_max=1.0,
    )
    rows = "".join(_arrived_row(d) for d in reversed(days))
    pooled_text = (
        f"<p>Judged on events of {pooled.period_start:%Y-%m-%d} to {pooled.period_end:%Y-%m-%d} "
        f"(exclusive), the newest days with enough labels: {pooled.fraud_labels} fraud labels, "
        f"recall {_pct(pooled.recall)} [{_pct(pooled.recall_low)}, {_pct(pooled.recall_high)}]"
        f"; package test recall {_pct(reference)}.</p>"
        if pooled is not None
        else ""
    )
    return (
        "<h2>Performance by event day, labels arrived so far</h2><p class='muted'>Recall so "
        "far: the flagged share of the fraud labels already in for that day's events (labels "
        "keep arriving for weeks; the newest days have few). Precision so far only grows as "
        "labels arrive: a lower bound. The label-free estimate assumes calibrated scores and "
        "cannot see concept drift.</p>"
        f"{pooled_text}<div class='grid'><div class='card'>{chart}</div><div class='card'>"
        "<table><tr><th>Event day</th><th>Events</th><th>Flagged</th><th>Fraud labels in</th>"
        "<th>Recall so far [95 %]</th><th>Precision ≥</th><th>Recall, label-free</th></tr>"
        f"{rows}</table></div></div>"
    )


def _arrived_row(day: ArrivedPerformance) -> str:
    return (
        f"<tr><td>{day.period_start:%Y-%m-%d}</td><td>{day.events:,}</td><td>{day.flagged:,}"
        f"</td><td>{day.fraud_labels:,}</td><td>{_pct(day.recall)} [{_pct(day.recall_low)}, "
        f"{_pct(day.recall_high)}]</td><td>{_pct(day.precision_lower_bound)}</td>"
        f"<td>{_pct(day.estimated_recall)}</td></tr>"
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _features(reports: Sequence[DriftReport], labels: list[str], t: AlertThresholds) -> str:
    latest = reports[-1]
    alerting = {a.subject for a in latest.alerts}
    order = sorted(latest.features, key=lambda f: (f.feature not in alerting, f.exempt))
    severity = _worst_severity(latest)
    cards = [
        _feature_card(feature, reports, labels, t, severity.get(feature.feature))
        for feature in order
    ]
    return f"<h2>Features</h2><div class='grid'>{''.join(cards)}</div>"


def _feature_card(
    feature: FeatureDrift,
    reports: Sequence[DriftReport],
    labels: list[str],
    t: AlertThresholds,
    severity: AlertSeverity | None,
) -> str:
    name = feature.feature
    numeric = feature.kind.value == "numeric"
    history = [next((f for f in r.features if f.feature == name), None) for r in reports]
    statistic = "psi" if numeric else "total_variation"
    minor, major = (
        (t.psi_minor, t.psi_major)
        if numeric
        else (t.total_variation_minor, t.total_variation_major)
    )
    trend = line_chart(
        f"{name} {statistic} over time",
        labels,
        [Series(statistic, [getattr(f, statistic) if f else None for f in history])],
        [] if feature.exempt else _rules(minor, major),
    )
    histogram = _feature_histogram(feature)
    missing = line_chart(
        f"{name} missing rate over time",
        labels,
        [
            Series("missing, live", [f.missing_rate_live if f else None for f in history]),
            Series(
                "missing, training",
                [f.missing_rate_reference if f else None for f in history],
                REFERENCE_COLOUR,
                dashed=True,
            ),
        ],
        y_max=max(
            0.05,
            *((f.missing_rate_live or 0.0) * 1.2 for f in history if f is not None),
        ),
    )
    facts = [
        f"PSI {feature.psi:.4f}" if feature.psi is not None else "PSI —",
        f"TV {feature.total_variation:.4f}" if feature.total_variation is not None else "TV —",
    ]
    if feature.ks is not None:
        facts.append(f"KS (at edges) {feature.ks:.4f}")
    if feature.location_z is not None and feature.location_shift is not None:
        floor = f" (floor {feature.location_floor:.3f})" if feature.location_floor else ""
        facts.append(
            f"location z {feature.location_z:+.2f}, shift {feature.location_shift:+.3f}{floor}"
        )
    if feature.cusum is not None:
        facts.append(f"CUSUM {feature.cusum:.2f}")
    if feature.unseen_share is not None:
        facts.append(f"unseen {feature.unseen_share:.2%}")
    if feature.missing_rate_live is not None:
        facts.append(
            f"missing {feature.missing_rate_live:.2%} (training "
            f"{(feature.missing_rate_reference or 0):.2%})"
        )
    if feature.exempt:
        status = "<span class='muted'>exempt</span>"
    elif severity is not None:
        status = f"<span class='{severity.value}'>{escape(severity.value)}</span>"
    else:
        status = "ok"
    return (
        f"<div class='card'><h3>{escape(name)} ({escape(feature.kind.value)}) — {status}</h3>"
        f"<p class='muted'>{escape(', '.join(facts))}</p>{histogram}{trend}{missing}</div>"
    )


def _feature_histogram(feature: FeatureDrift) -> str:
    """Shares of all values, missing ones as a bar of their own: the bins alone (shares of the
    present values) hid a field that stopped being filled."""
    histogram = feature.histogram
    if histogram is None:
        return "<p class='muted'>No values in the latest window.</p>"
    live_missing = feature.missing_rate_live or 0.0
    reference_missing = feature.missing_rate_reference or 0.0
    return bar_chart(
        f"{feature.feature} latest window",
        [*histogram.labels, "missing"],
        [share * (1 - live_missing) for share in histogram.live] + [live_missing],
        [share * (1 - reference_missing) for share in histogram.reference] + [reference_missing],
    )
