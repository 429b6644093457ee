"""A decided event: what the decision stage sends for one input, and what its metrics count."""

from __future__ import annotations

from typing import NamedTuple

from models.expectations import Violation


class DecidedEvent(NamedTuple):
    key: bytes
    outcome: str
    fallback_reason: str | None
    model_version: str
    role: str
    arrival_to_decision_ms: float
    event_to_decision_ms: float
    violations: list[Violation]
    decision: bytes  # fraud.decisions.v1 value
    log: bytes  # fraud.scoring-log.v1 value
    record: bytes | None  # what the card state keeps of a new decision (None: a re-sent one)
