"""The monitor's view of one scoring-log entry: compact, in the reference's feature order."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from models.drift.quality import FieldKeys, field_keys
from models.features.facts import epoch_ms
from schemas.base import DeploymentRole, ModelRef
from schemas.scoring_log import ScoringLogRecord

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

FLAGGED_OUTCOMES = frozenset({"REVIEW", "DECLINE"})
"""An event counts as flagged (a positive prediction) when a model's outcome is one of these."""


class ModelScore(NamedTuple):
    """One model's output on one event."""

    model: ModelRef
    role: DeploymentRole
    score: float
    outcome: str


class ScoredEvent(NamedTuple):
    transaction_id: str
    event_ms: int
    features: tuple[float, ...]
    """In the reference's feature order; NaN where the log has no value."""
    outputs: tuple[ModelScore, ...]
    """Every model that produced a score (failed models are left out)."""
    fields: FieldKeys = ()
    """Raw input fields as keys (models.drift.quality.FIELDS); empty when not known."""


def scored_event(record: ScoringLogRecord, feature_names: tuple[str, ...]) -> ScoredEvent:
    logged = record.features
    features = tuple(
        math.nan if (value := logged.get(name)) is None else float(value) for name in feature_names
    )
    outputs = tuple(
        ModelScore(output.model, output.role, output.score, str(output.outcome))
        for output in record.outputs
        if output.score is not None and output.outcome is not None
    )
    return ScoredEvent(
        record.transaction_id,
        epoch_ms(record.transaction.event_time),
        features,
        outputs,
        field_keys(record.transaction),
    )


def utc_from_ms(epoch_ms: int) -> datetime:
    """Exact (no float rounding) inverse of models.features.facts.epoch_ms."""
    return _EPOCH + timedelta(milliseconds=epoch_ms)
