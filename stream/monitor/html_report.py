"""One self-contained HTML page from a sequence of drift reports (no scripts, no downloads)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from html import escape

from schemas.drift import AlertThresholds, DriftReport, FeatureDrift, LivePerformance
from stream.monitor.svg import PALETTE, REFERENCE_COLOUR, Rule, Series, bar_chart, line_chart

WARNING_COLOUR, CRITICAL_COLOUR = "#ff9800", "#d32f2f"
STYLE = """
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
h3{font-size:14px;margin:4px 0}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
.grid{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;padding:8px}
.warning{color:#b26a00;font-weight:bold}.critical{color:#d32f2f;font-weight:bold}
.muted{color:#777;font-size:12px}
"""


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
        _performance(reports, labels),
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
    small = sum(1 for r in reports if r.window.n < minimum)
    if not small:
        return ""
    latest = "the latest window is one of them; " if reports[-1].window.n < minimum else ""
    return (
        f"<p class='warning'>{small:,} of {len(reports):,} windows had fewer than "
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


def _performance(reports: Sequence[DriftReport], labels: list[str]) -> str:
    models: dict[str, list[LivePerformance | None]] = {}
    for position, report in enumerate(reports):
        for entry in report.performance:
            key = f"{entry.model.name} {entry.model.version} ({entry.role.value})"
            models.setdefault(key, [None] * len(reports))[position] = entry
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
        "<h2>Live performance (delayed labels)</h2><p class='muted'>Over each model's latest "
        "matured events: labelled ones, and unlabelled ones counted genuine once the maturity "
        "period passed. Flagged = REVIEW or DECLINE.</p>"
        f"<div class='grid'>{''.join(cards)}</div>"
    )


def _features(reports: Sequence[DriftReport], labels: list[str], t: AlertThresholds) -> str:
    latest = reports[-1]
    alerting = {a.subject for a in latest.alerts}
    order = sorted(latest.features, key=lambda f: (f.feature not in alerting, f.exempt))
    cards = [_feature_card(feature, reports, labels, t) for feature in order]
    return f"<h2>Features</h2><div class='grid'>{''.join(cards)}</div>"


def _feature_card(
    feature: FeatureDrift, reports: Sequence[DriftReport], labels: list[str], t: AlertThresholds
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
    histogram = (
        bar_chart(f"{name} latest window", feature.histogram.labels, feature.histogram.live,
                  feature.histogram.reference)
        if feature.histogram is not None
        else "<p class='muted'>No values in the latest window.</p>"
    )  # fmt: skip
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
    status = (
        "<span class='muted'>exempt</span>"
        if feature.exempt
        else ("<span class='critical'>alert</span>" if feature.alert else "ok")
    )
    return (
        f"<div class='card'><h3>{escape(name)} ({escape(feature.kind.value)}) — {status}</h3>"
        f"<p class='muted'>{escape(', '.join(facts))}</p>{histogram}{trend}</div>"
    )
