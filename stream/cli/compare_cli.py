"""`fraudstream registry compare`: champion against canary and shadows on the logged traffic.

Both topics are read through their record contracts (schemas.ScoringLogRecord, with its version
upgrades, and schemas.label.FraudLabel): a record that breaks one is counted and reported, never
half-read into a wrong label.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import typer

from models.registry import comparison
from schemas import DeadLetter, ScoringLogRecord, UpgradeRegistry
from schemas.base import Record
from schemas.codec import Decoder, SourceCoords
from schemas.label import FraudLabel
from schemas.scoring_log import SCORING_LOG_UPGRADES
from stream.settings import get_settings
from stream.topic_scan import UnknownTopicError, scan

R = TypeVar("R", bound=Record)


def compare(timeout: float = 60.0) -> None:
    """Champion vs canary/shadows on the logged traffic: agreement, score deltas, precision and
    recall where labels arrived."""
    settings = get_settings()
    try:
        label_records = _decoded(FraudLabel, settings.topics.labels, timeout)
    except UnknownTopicError:
        label_records = _Decoded[FraudLabel]([], 0)  # no label has arrived yet
    logs = _decoded(ScoringLogRecord, settings.topics.scoring_log, timeout, SCORING_LOG_UPGRADES)
    for name, decoded in (("scoring-log", logs), ("label", label_records)):
        if decoded.rejected:
            typer.echo(f"skipped {decoded.rejected} {name} records that break their schema")
    pairs = comparison.compare(logs.records, comparison.latest_labels(label_records.records))
    if not pairs:
        typer.echo("no event was scored by both the champion and another model")
    for pair in pairs:
        typer.echo(
            f"{pair.role:7} {pair.challenger:30} vs {pair.champion}: events {pair.events}  "
            f"agreement {pair.agreement:.2%}  mean score delta {pair.mean_delta:+.4f}  "
            f"mean |delta| {pair.mean_abs_delta:.4f}  max |delta| {pair.max_abs_delta:.4f}"
        )
        for who, confusion in (
            ("champion", pair.champion_labelled),
            (pair.role, pair.challenger_labelled),
        ):
            if confusion.labelled:
                typer.echo(
                    f"    {who:8} precision {_ratio(confusion.precision)} "
                    f"recall {_ratio(confusion.recall)} on {confusion.labelled} labelled events"
                )


@dataclass(frozen=True)
class _Decoded(Generic[R]):
    records: list[R]
    rejected: int


def _decoded(
    record_type: type[R], topic: str, timeout: float, upgrades: UpgradeRegistry | None = None
) -> _Decoded[R]:
    """Every record of the topic through its contract (upgrading older versions); a record that
    breaks it is counted, not guessed at."""
    settings = get_settings()
    decoder = Decoder(
        record_type,
        worker_id="registry-compare",
        upgrades=upgrades,
    )
    now = datetime.now(UTC)
    records: list[R] = []
    rejected = 0
    for raw in scan(settings.kafka_bootstrap, topic, timeout_s=timeout):
        decoded = decoder.decode(raw.value, SourceCoords(topic, raw.partition, raw.offset), now=now)
        if isinstance(decoded, DeadLetter):
            rejected += 1
        else:
            records.append(decoded)
    return _Decoded(records, rejected)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
