"""Data profiles: the training distribution every live input and score is compared with.

Numeric features get inner quantile edges (deciles of the training values) and the share of
rows per bin; categorical ones get the share per category. The same binning (`bin_index`) is
used by input validation, drift statistics and reports, so all three agree on what a bin is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from schemas.model_package import FeatureProfile, FieldProfile, ScoreProfile

QUANTILES = tuple(q / 10 for q in range(1, 10))
SKETCH_QUANTILES = tuple(q / 100 for q in range(1, 100))
"""Percentiles kept per numeric feature: the reference CDF the drift monitor's location test
reads (models.drift.location), a hundred times finer than the deciles PSI works on."""
REFERENCE_CHUNKS = 14
"""Consecutive blocks the training rows are cut into to measure how much a feature's location
moves from one stretch of clean reference traffic to the next (about half a day each on a week
of training): the drift test's noise floor beyond sampling error."""
Matrix = npt.NDArray[np.float64]

FieldKind = Literal["categorical", "numeric", "identifier"]
RAW_FIELDS: dict[str, FieldKind] = {
    "terminal_id": "identifier",
    "currency": "categorical",
    "country": "categorical",
    "entry_mode": "categorical",
    "card_present": "categorical",
    "device_id_hash": "identifier",
    "ip_hash": "identifier",
    "customer_lat": "numeric",
    "customer_lon": "numeric",
}
"""Raw transaction fields whose quality the drift monitor watches, model features or not.
Identifiers (many distinct values) get a null rate only: how concentrated their values are in
a window depends on its size, so that level is learnt live (models.drift.quality)."""
RANGE_QUANTILES = (0.001, 0.999)
"""A numeric field's usual range: values outside it are 0.2 % of training, by construction."""


def bin_index(values: Matrix, edges: Sequence[float]) -> npt.NDArray[np.intp]:
    """Bin of each value: bin i holds edges[i-1] < x ≤ edges[i] (len(edges) + 1 bins)."""
    return np.searchsorted(np.asarray(edges, dtype=np.float64), values, side="left")


def bin_shares(values: Matrix, edges: Sequence[float]) -> list[float]:
    present = values[~np.isnan(values)]
    counts = np.bincount(bin_index(present, edges), minlength=len(edges) + 1)
    total = counts.sum()
    return [float(c / total) if total else 0.0 for c in counts]


def numeric_edges(values: Matrix) -> list[float]:
    present = values[~np.isnan(values)]
    if present.size == 0:
        return []
    return [float(e) for e in np.unique(np.quantile(present, QUANTILES))]


def profile_feature(name: str, values: Matrix, categorical: bool) -> FeatureProfile:
    present = values[~np.isnan(values)]
    missing_rate = float(1 - present.size / values.size) if values.size else 0.0
    summary = {
        "min": float(present.min()) if present.size else None,
        "max": float(present.max()) if present.size else None,
        "mean": float(present.mean()) if present.size else None,
        "std": float(present.std()) if present.size else None,
    }
    if categorical:
        codes, counts = np.unique(present, return_counts=True)
        categories = {
            str(int(code)): float(count / present.size)
            for code, count in zip(codes, counts, strict=True)
        }
        return FeatureProfile(
            name=name,
            kind="categorical",
            missing_rate=missing_rate,
            bin_edges=[],
            bin_shares=[],
            categories=categories,
            **summary,
        )
    edges = numeric_edges(values)
    sketch = [float(q) for q in np.quantile(present, SKETCH_QUANTILES)] if present.size else []
    chunk_means, chunk_rows = _chunk_ranks(values, sketch)
    return FeatureProfile(
        name=name,
        kind="numeric",
        missing_rate=missing_rate,
        bin_edges=edges,
        bin_shares=bin_shares(values, edges),
        categories={},
        quantiles=sketch,
        rank_variance=float(np.var(mid_ranks(present, sketch))) if sketch else None,
        chunk_rank_means=chunk_means,
        chunk_rank_rows=chunk_rows,
        **summary,
    )


def mid_ranks(values: Matrix, quantiles: Sequence[float]) -> Matrix:
    """Each value's place in the reference, in (0, 1), read off the percentile sketch.

    The mid-rank (halfway between the sketch points below and at-or-below the value) keeps
    ties fair: a count feature whose value fills many percentiles sits in their middle, so the
    reference's own values average 0.5 whether the feature is continuous or discrete.
    """
    sketch = np.asarray(quantiles, dtype=np.float64)
    below = np.searchsorted(sketch, values, side="left")
    at_or_below = np.searchsorted(sketch, values, side="right")
    return (below + at_or_below + 1) / (2.0 * (len(sketch) + 1))


def _chunk_ranks(values: Matrix, sketch: list[float]) -> tuple[list[float], list[int]]:
    """Mean mid-rank and value count of each of REFERENCE_CHUNKS consecutive row blocks.

    The callers pass training rows in event-time order, so a block is a stretch of time."""
    if not sketch:
        return [], []
    means: list[float] = []
    rows: list[int] = []
    for block in np.array_split(values, REFERENCE_CHUNKS):
        present = block[~np.isnan(block)]
        if present.size:
            means.append(float(mid_ranks(present, sketch).mean()))
            rows.append(int(present.size))
    return means, rows


def profile_features(
    matrix: Matrix, names: Sequence[str], categorical: Sequence[str]
) -> list[FeatureProfile]:
    return [
        profile_feature(name, matrix[:, column], name in categorical)
        for column, name in enumerate(names)
    ]


def category_text(value: object) -> str:
    """How a categorical field's value is named in a profile: an enum by its value, a boolean
    as "True"/"False" (the same text whether it comes from a table or a parsed transaction)."""
    member_value = getattr(value, "value", value)
    return str(member_value)


def profile_fields(table: pa.Table) -> list[FieldProfile]:
    """The raw fields of RAW_FIELDS that `table` (training rows) holds."""
    profiles = []
    for name, kind in RAW_FIELDS.items():
        if name not in table.column_names:
            continue
        column = table.column(name)
        rows = len(column)
        null_rate = column.null_count / rows if rows else 0.0
        present = column.drop_null()
        if kind == "categorical":
            counts = pc.value_counts(present).to_pylist()
            total = sum(int(entry["counts"]) for entry in counts)
            categories = {
                category_text(entry["values"]): int(entry["counts"]) / total for entry in counts
            }
            profiles.append(
                FieldProfile(
                    name=name,
                    kind=kind,
                    null_rate=null_rate,
                    categories=dict(sorted(categories.items())),
                )
            )
        elif kind == "numeric" and len(present):
            values = np.asarray(present.to_numpy(zero_copy_only=False), dtype=np.float64)
            low, high = (float(q) for q in np.quantile(values, RANGE_QUANTILES))
            outside = float(np.mean((values < low) | (values > high)))
            profiles.append(
                FieldProfile(
                    name=name,
                    kind=kind,
                    null_rate=null_rate,
                    low=low,
                    high=high,
                    outside_share=outside,
                )
            )
        else:
            profiles.append(FieldProfile(name=name, kind=kind, null_rate=null_rate))
    return profiles


def profile_scores(
    scores: Matrix, outcomes: Sequence[str], computed_on: str = "validation"
) -> ScoreProfile:
    edges = numeric_edges(scores)
    total = len(outcomes)
    rates = {o: (sum(1 for x in outcomes if x == o) / total if total else 0.0) for o in OUTCOMES}
    return ScoreProfile(
        bin_edges=edges,
        bin_shares=bin_shares(scores, edges),
        outcome_rates=rates,
        computed_on="validation" if computed_on == "validation" else "test",
    )


OUTCOMES = ("APPROVE", "REVIEW", "DECLINE")
