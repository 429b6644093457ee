"""Input expectations from the package's data profile, checked per event, never blocking.

An expectation fails when a feature is above the training maximum or below the minimum, is a
category training never saw, or is missing although training never had it missing. A failure
is reported (scoring log, metrics); the event is still scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from schemas.model_package import FeatureProfile


class Violation(NamedTuple):
    feature: str
    kind: str  # above_max | below_min | unseen_category | missing
    observed: float | None
    detail: str


class ExpectationChecker:
    """Vectorised over a batch: one comparison per feature column, not per value."""

    def __init__(self, profiles: Sequence[FeatureProfile]) -> None:
        self._names = [p.name for p in profiles]
        self._profiles = list(profiles)
        nan = float("nan")
        numeric = [p.kind == "numeric" for p in profiles]
        self._low = np.array(
            [
                p.min if (p.min is not None and is_num) else nan
                for p, is_num in zip(profiles, numeric, strict=True)
            ]
        )
        self._high = np.array(
            [
                p.max if (p.max is not None and is_num) else nan
                for p, is_num in zip(profiles, numeric, strict=True)
            ]
        )
        self._never_missing = np.array([p.missing_rate == 0.0 for p in profiles])
        self._categorical = [
            (column, {float(code) for code in p.categories})
            for column, p in enumerate(profiles)
            if p.kind == "categorical"
        ]
        # The same bounds as plain lists, for checking a few rows without numpy's overhead.
        self._row_bounds = [
            (column, float(low), float(high), bool(never_missing))
            for column, (low, high, never_missing) in enumerate(
                zip(self._low, self._high, self._never_missing, strict=True)
            )
        ]

    def check_rows(self, rows: Sequence[Sequence[float]]) -> list[list[Violation]]:
        """The same as `check`, row by row in Python: cheaper for a handful of rows."""
        return [self._check_row(row) for row in rows]

    def _check_row(self, row: Sequence[float]) -> list[Violation]:
        above: list[Violation] = []
        below: list[Violation] = []
        missing: list[Violation] = []
        for column, low, high, never_missing in self._row_bounds:
            value = row[column]
            if value != value:  # NaN: missing (comparisons with NaN are all false)
                if never_missing:
                    missing.append(self._violation(column, "missing", None))
            elif value > high:
                above.append(self._violation(column, "above_max", value))
            elif value < low:
                below.append(self._violation(column, "below_min", value))
        found = above + below + missing
        for column, seen in self._categorical:
            value = row[column]
            if value == value and float(value) not in seen:
                found.append(self._violation(column, "unseen_category", value))
        return found

    def check(self, batch: npt.NDArray[np.float64]) -> list[list[Violation]]:
        """Violations per row of `batch` (rows × features in profile order)."""
        found: list[list[Violation]] = [[] for _ in range(batch.shape[0])]
        missing = np.isnan(batch)
        with np.errstate(invalid="ignore"):
            above = batch > self._high
            below = batch < self._low
        for row, column in zip(*np.nonzero(above), strict=True):
            found[row].append(self._violation(column, "above_max", batch[row, column]))
        for row, column in zip(*np.nonzero(below), strict=True):
            found[row].append(self._violation(column, "below_min", batch[row, column]))
        for row, column in zip(*np.nonzero(missing & self._never_missing), strict=True):
            found[row].append(self._violation(column, "missing", None))
        for column, seen in self._categorical:
            for row in range(batch.shape[0]):
                value = batch[row, column]
                if not np.isnan(value) and float(value) not in seen:
                    found[row].append(self._violation(column, "unseen_category", value))
        return found

    def _violation(self, column: int, kind: str, observed: float | None) -> Violation:
        profile = self._profiles[column]
        value = None if observed is None else float(observed)
        if kind == "above_max":
            detail = f"{value} > training max {profile.max}"
        elif kind == "below_min":
            detail = f"{value} < training min {profile.min}"
        elif kind == "missing":
            detail = "missing; training never had it missing"
        else:
            detail = f"category {value} not among training categories {sorted(profile.categories)}"
        return Violation(self._names[column], kind, value, detail)
