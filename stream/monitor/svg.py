"""Two small chart kinds as inline SVG text: lines over windows, and paired bars per bin.

Plain string building (no plotting library): the report must be one self-contained HTML file,
and these two charts are all it needs. Every text is escaped; values outside the axis are
clipped to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 40
BAR_BOTTOM = 78
"""Room under the bars for bin labels slanted at 40°: ten deciles' edges such as
'(1.23e+03, 4.56e+03]' overlapped when written flat under 50-pixel slots."""
LABEL_CHARS = 18
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
REFERENCE_COLOUR = "#9e9e9e"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    """One per x position; None leaves a gap."""
    colour: str = PALETTE[0]
    dashed: bool = False


@dataclass(frozen=True)
class Rule:
    """A horizontal line across the chart, e.g. an alert threshold."""

    value: float
    label: str
    colour: str


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _frame(body: list[str], title: str, height: int = HEIGHT) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )
    return head + "".join(body) + "</svg>"


def _y_axis(top_value: float, plot_h: float, body: list[str]) -> None:
    for step in range(5):
        value = top_value * step / 4
        y = TOP + plot_h - plot_h * step / 4
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#eee"/>'
            f'<text x="{LEFT - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end">'
            f"{_fmt(value)}</text>"
        )


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    rules: Sequence[Rule] = (),
    y_max: float | None = None,
) -> str:
    """Values against window index; the y axis starts at 0 and fits every value and rule."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [v for s in series for v in s.values if v is not None]
    top_value = y_max or max([*values, *(r.value * 1.15 for r in rules), 1e-9])
    count = max(len(x_labels), 1)

    def x_at(index: int) -> float:
        return LEFT + (plot_w * index / (count - 1) if count > 1 else plot_w / 2)

    def y_at(value: float) -> float:
        return TOP + plot_h - plot_h * min(max(value, 0.0), top_value) / top_value

    body: list[str] = []
    _y_axis(top_value, plot_h, body)
    for index in sorted({0, (count - 1) // 2, count - 1}):
        if index < len(x_labels):
            body.append(
                f'<text x="{x_at(index):.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="9" '
                f'text-anchor="middle">{escape(x_labels[index])}</text>'
            )
    for rule in rules:
        y = y_at(rule.value)
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{rule.colour}" stroke-dasharray="6 3"/>'
            f'<text x="{WIDTH - RIGHT - 2}" y="{y - 3:.1f}" font-size="9" text-anchor="end" '
            f'fill="{rule.colour}">{escape(rule.label)}</text>'
        )
    for s in series:
        dash = ' stroke-dasharray="3 3"' if s.dashed else ""
        run: list[str] = []
        for index, value in enumerate(s.values):
            if value is None:
                _flush(run, s.colour, dash, body)
                continue
            x, y = x_at(index), y_at(value)
            run.append(f"{x:.1f},{y:.1f}")
            label = x_labels[index] if index < len(x_labels) else str(index)
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="{s.colour}">'
                f"<title>{escape(s.name)} {escape(label)}: {_fmt(value)}</title></circle>"
            )
        _flush(run, s.colour, dash, body)
    _legend([(s.name, s.colour) for s in series], body)
    return _frame(body, title)


def _flush(run: list[str], colour: str, dash: str, body: list[str]) -> None:
    if len(run) > 1:
        body.append(
            f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
            f'stroke-width="1.5"{dash}/>'
        )
    run.clear()


def _legend(entries: Sequence[tuple[str, str]], body: list[str], height: int = HEIGHT) -> None:
    x = LEFT
    for name, colour in entries:
        body.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="8" fill="{colour}"/>'
            f'<text x="{x + 13}" y="{height - 7}" font-size="9">{escape(name)}</text>'
        )
        x += 18 + 6 * len(name)


def bar_chart(
    title: str,
    labels: Sequence[str],
    live: Sequence[float],
    reference: Sequence[float],
    live_name: str = "live (latest window)",
) -> str:
    """Reference and live share side by side for every bin; bin labels slanted, so they never
    overlap, and cut to LABEL_CHARS (the full label is in each bar's tooltip)."""
    height = HEIGHT + BAR_BOTTOM - BOTTOM
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top_value = max([*live, *reference, 1e-9]) * 1.1
    slot = plot_w / max(len(labels), 1)
    bar = slot * 0.38
    body: list[str] = []
    _y_axis(top_value, plot_h, body)
    for index, label in enumerate(labels):
        x0 = LEFT + slot * index + slot * 0.1
        for offset, value, colour, name in (
            (0.0, reference[index], REFERENCE_COLOUR, "reference"),
            (bar, live[index], PALETTE[0], "live"),
        ):
            bar_h = plot_h * min(value, top_value) / top_value
            body.append(
                f'<rect x="{x0 + offset:.1f}" y="{TOP + plot_h - bar_h:.1f}" '
                f'width="{bar:.1f}" height="{bar_h:.1f}" fill="{colour}">'
                f"<title>{escape(label)} {name}: {value:.2%}</title></rect>"
            )
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        x, y = x0 + bar, TOP + plot_h + 10
        body.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="8" text-anchor="end" '
            f'transform="rotate(-40 {x:.1f} {y:.1f})">{escape(short)}</text>'
        )
    _legend([("reference (training)", REFERENCE_COLOUR), (live_name, PALETTE[0])], body, height)
    return _frame(body, title, height)
