"""The Prometheus series the code exports, read from its metric registrations.

Every `Counter(...)`, `Gauge(...)`, `Histogram(...)` (and the worker's `BatchHistogram`) call
whose first argument is a string literal, anywhere under stream/ and models/: reading the source
rather than instantiating known classes means a metric added in a new module (a new registry)
is seen without anyone listing it here. tests/unit/test_exported_metrics.py checks the scan
against the registries the processes really build.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("stream", "models", "schemas")
KINDS = {
    "Counter": "counter",
    "Gauge": "gauge",
    "Histogram": "histogram",
    "BatchHistogram": "histogram",
    "Summary": "summary",
    "Info": "info",
    "Enum": "stateset",
}
# What prometheus_client exposes for a family, by type (counters drop a trailing _total from
# their name and add it back to the sample).
_SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created"),
    "info": ("_info",),
    "stateset": ("",),
}
_METRIC = re.compile(r"\bfraud_[a-z0-9_]+\b")


def registered_families() -> dict[str, str]:
    """Family name -> type, for every metric registration in the code."""
    families: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                callee = node.func
                name = (
                    callee.attr if isinstance(callee, ast.Attribute) else getattr(callee, "id", "")
                )
                first = node.args[0]
                # collections.Counter(...) never gets a string literal first here; a metric does.
                if (
                    name in KINDS
                    and isinstance(first, ast.Constant)
                    and isinstance(first.value, str)
                ):
                    family = first.value
                    if KINDS[name] == "counter":
                        family = family.removesuffix("_total")
                    families[family] = KINDS[name]
    return families


def exported_series() -> set[str]:
    """Every series name a scrape can show, suffixes included."""
    return {
        family + suffix
        for family, kind in registered_families().items()
        for suffix in _SAMPLE_SUFFIXES[kind]
    }


def queried_metrics(expression: str) -> set[str]:
    """The fraud_* series a PromQL expression reads."""
    return set(_METRIC.findall(expression))
