"""Stage 2, partitioned by merchant_id: merchant features, micro-batched scoring, decisions.

State is updated per event (Faust needs the current event for the changelog); the model call
and the sends are batched. An event is acknowledged only after its decision and scoring-log
record were handed to the output producer, which is flushed before any offset commit, so a
committed offset always means a delivered decision.
"""

from __future__ import annotations

import functools
import logging
import time
from datetime import datetime
from typing import Any

from models.features import MerchantState, facts_from_transaction, feature_vector, merchant_step
from schemas import Transaction
from stream import internal
from stream.deciding import BatchDecider, Scoreable
from stream.metrics import StreamMetrics
from stream.output import OutputProducer
from stream.settings import Settings
from stream.state_table import StateTable

log = logging.getLogger(__name__)


class MerchantStage:
    def __init__(
        self,
        settings: Settings,
        table: StateTable,
        output: OutputProducer,
        decider: BatchDecider,
        metrics: StreamMetrics,
    ) -> None:
        self.max_batch = settings.max_batch
        self.max_wait_s = settings.max_batch_wait_ms / 1000
        self._oldest_pending_at = 0.0
        self._decisions_topic = settings.topics.decisions
        self._log_topic = settings.topics.scoring_log
        self._table = table
        self._output = output
        self.decider = decider
        self._metrics = metrics
        self._events_in = metrics.events_in.labels("merchant")
        self._replays = metrics.replays.labels("merchant")
        self.pending: list[Scoreable] = []
        # labels() looks the child up by value each call; the label sets here are few.
        self._decision_counter = functools.lru_cache(maxsize=256)(metrics.decisions.labels)
        self._fallback_counter = functools.lru_cache(maxsize=64)(metrics.fallbacks.labels)
        self._violation_counter = functools.lru_cache(maxsize=1024)(
            metrics.expectation_failures.labels
        )

    def add(self, value: bytes, ack: Any) -> None:
        """Apply one hand-over to the merchant state and queue it for scoring."""
        self._events_in.inc()
        handover = internal.decode(value)
        # The card stage validated these exact bytes; this re-read cannot fail on them.
        transaction = Transaction.model_validate_json(handover.raw)
        facts = facts_from_transaction(transaction)
        key = transaction.merchant_id.encode()
        blob = self._table.get(key)
        state = MerchantState.decode(blob) if blob is not None else MerchantState.empty()
        step = merchant_step(state, facts, handover.origin_partition, handover.origin_offset)
        if not step.applied:
            self._replays.inc()
        # Written on a replay too, so that a changelog record lost with a killed worker is
        # re-sent (see CardStage.handle).
        self._table.set(key, step.state.encode())
        features = feature_vector(facts, handover.card_features, step.features)
        if not self.pending:
            self._oldest_pending_at = time.monotonic()
        self.pending.append(Scoreable(handover, transaction, features, facts.event_ms, ack))

    def due(self, monotonic_now: float) -> bool:
        """The batch is full, or its oldest event has waited max_batch_wait_ms."""
        return len(self.pending) >= self.max_batch or (
            bool(self.pending) and monotonic_now - self._oldest_pending_at >= self.max_wait_s
        )

    def flush(self, now: datetime) -> list[Any]:
        """Decide the queued events and send their outputs; returns what to acknowledge."""
        if not self.pending:
            return []
        batch, self.pending = self.pending, []
        decided, scoring_us = self.decider.decide(batch, now)
        metrics = self._metrics
        metrics.batch_size.observe(len(batch))
        if scoring_us:
            metrics.scoring_seconds.observe(scoring_us / 1e6)
        arrival = metrics.decision_latency.labels("arrival")
        event_time = metrics.decision_latency.labels("event_time")
        send = self._output.send
        for event in decided:
            send(self._decisions_topic, event.card_key, event.decision)
            send(self._log_topic, event.card_key, event.log)
            fallback = event.fallback_reason is not None
            self._decision_counter(
                event.outcome, event.model_version, "true" if fallback else "false"
            ).inc()
            if event.fallback_reason is not None:
                self._fallback_counter(event.fallback_reason).inc()
                log.warning(
                    "fallback decision",
                    extra={
                        "transaction_id": event.transaction_id,
                        "reason": event.fallback_reason,
                        "outcome": event.outcome,
                    },
                )
            for violation in event.violations:
                self._violation_counter(violation.feature, violation.kind).inc()
            arrival.observe(event.arrival_to_decision_ms / 1000)
            event_time.observe(max(event.event_to_decision_ms, 0.0) / 1000)
        return [item.ack for item in batch]
