"""The one stage of the decision path: validate → enrich → micro-batch → decide → publish.

Every input record leaves as exactly one outcome: a dead letter (sent at once), or a decision
and its scoring-log record (sent when its micro-batch is decided). The agent acknowledges a
record only once its outcome was handed to the output producer, which is flushed before any
offset commit: a committed offset always means a delivered outcome.
"""

from __future__ import annotations

import functools
import logging
import time
from datetime import UTC, datetime
from typing import Any

from schemas import DeadLetter, Decoder, SourceCoords, Transaction, encode_dead_letter
from stream.decision_path.deciding import BatchDecider, PendingEvent
from stream.decision_path.enrich import Enricher
from stream.decision_path.intake import key_rejection
from stream.decision_path.metrics import StreamMetrics
from stream.decision_path.output import OutputProducer
from stream.settings import Settings

log = logging.getLogger(__name__)


class DecisionStage:
    def __init__(
        self,
        settings: Settings,
        decoder: Decoder[Transaction],
        enricher: Enricher,
        decider: BatchDecider,
        output: OutputProducer,
        metrics: StreamMetrics,
    ) -> None:
        self.max_batch = settings.max_batch
        self._max_wait_s = settings.max_batch_wait_ms / 1000
        self._oldest_pending_at = 0.0
        self._input_topic = settings.topics.transactions
        self._dead_letter_topic = settings.topics.dead_letters
        self._decisions_topic = settings.topics.decisions
        self._log_topic = settings.topics.scoring_log
        self._decoder = decoder
        self._enricher = enricher
        self.decider = decider
        self._output = output
        self._metrics = metrics
        self.pending: list[PendingEvent] = []
        self._events_in = 0
        self._replays = 0
        # labels() looks the child up by value each call; the label sets here are few.
        self._decision_counter = functools.lru_cache(maxsize=256)(metrics.decisions.labels)
        self._fallback_counter = functools.lru_cache(maxsize=64)(metrics.fallbacks.labels)
        self._violation_counter = functools.lru_cache(maxsize=1024)(
            metrics.expectation_failures.labels
        )
        self._invalid_counter = functools.lru_cache(maxsize=64)(metrics.invalid.labels)

    def take(
        self,
        value: bytes | None,
        key: bytes | None,
        partition: int,
        offset: int,
        timestamp_ms: int,
        ack: Any,
    ) -> bool:
        """One input record. True when its outcome (a dead letter) is already sent."""
        received_at = time.time()
        self._events_in += 1
        now = datetime.fromtimestamp(received_at, UTC)
        source = SourceCoords(self._input_topic, partition, offset, key, timestamp_ms)
        decoded = self._decoder.decode(value, source, now=now)
        if isinstance(decoded, DeadLetter):
            self._dead_letter(decoded)
            return True
        rejection = key_rejection(key, decoded.card_id)
        if rejection is not None:
            self._dead_letter(self._decoder.dead_letter(value, source, rejection, now=now))
            return True
        assert value is not None and key is not None  # a decoded record with the card id as key
        enriched = self._enricher.enrich(decoded, partition, offset)
        self._replays += enriched.replayed
        if not self.pending:
            self._oldest_pending_at = time.monotonic()
        self.pending.append(
            PendingEvent(
                decoded,
                value,
                key,
                partition,
                offset,
                timestamp_ms,
                enriched.features,
                enriched.merchant_view,
                enriched.event_ms,
                received_at,
                time.time(),
                ack,
            )
        )
        return False

    def due(self, monotonic_now: float) -> bool:
        """The batch is full, or its oldest event has waited max_batch_wait_ms."""
        return len(self.pending) >= self.max_batch or (
            bool(self.pending) and monotonic_now - self._oldest_pending_at >= self._max_wait_s
        )

    def flush(self) -> list[Any]:
        """Decide the queued events and send their outputs; returns what to acknowledge."""
        self._count_inputs()
        if not self.pending:
            return []
        batch, self.pending = self.pending, []
        decided, scoring_us = self.decider.decide(batch)
        metrics = self._metrics
        metrics.batch_size.observe(len(batch))
        if scoring_us:
            metrics.scoring_seconds.observe(scoring_us / 1e6)
        arrival = metrics.decision_latency.labels("arrival")
        event_time = metrics.decision_latency.labels("event_time")
        send = self._output.send
        for event in decided:
            send(self._decisions_topic, event.key, event.decision)
            send(self._log_topic, event.key, event.log)
            fallback = event.fallback_reason is not None
            self._decision_counter(
                event.outcome, event.model_version, "true" if fallback else "false"
            ).inc()
            if event.fallback_reason is not None:
                self._fallback_counter(event.fallback_reason).inc()
            for violation in event.violations:
                self._violation_counter(violation.feature, violation.kind).inc()
            arrival.observe(event.arrival_to_decision_ms / 1000)
            event_time.observe(max(event.event_to_decision_ms, 0.0) / 1000)
        fallbacks = sum(event.fallback_reason is not None for event in decided)
        if fallbacks:
            # One line per batch, not per event: a lagging worker would log thousands a second.
            log.warning(
                "fallback decisions",
                extra={
                    "count": fallbacks,
                    "batch": len(batch),
                    "reasons": sorted({e.fallback_reason for e in decided if e.fallback_reason}),
                },
            )
        return [item.ack for item in batch]

    def _count_inputs(self) -> None:
        if self._events_in:
            self._metrics.events_in.inc(self._events_in)
            self._events_in = 0
        if self._replays:
            self._metrics.replays.inc(self._replays)
            self._replays = 0

    def _dead_letter(self, dead_letter: DeadLetter) -> None:
        self._invalid_counter(dead_letter.category.value).inc()
        self._output.send(
            self._dead_letter_topic, dead_letter.source.key, encode_dead_letter(dead_letter)
        )
