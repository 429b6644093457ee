"""The one stage of the decision path: validate → enrich → micro-batch → decide → publish.

Every input record leaves as exactly one outcome: a dead letter (sent at once), or a decision
and its scoring-log record (sent when its micro-batch is decided and the card states they are
recorded in are stored: stream/decision_path/state_first.py). The agent acknowledges the
records of a micro-batch once it was decided; before any offset commit the held decisions are
sent and the output producer flushed: a committed offset always means a delivered outcome.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson

from models.features import window_sums
from schemas import DeadLetter, Decoder, SourceCoords, Transaction, encode_dead_letter
from stream.decision_path.deciding import BatchDecider, PendingEvent
from stream.decision_path.enrich import Enricher, Enrichment
from stream.decision_path.intake import admit
from stream.decision_path.metrics import StreamMetrics
from stream.decision_path.online_seal import CarriedAt, Forged, carried_decision
from stream.decision_path.output import OutputProducer
from stream.decision_path.overlay import Overlay
from stream.decision_path.state_first import HeldBatch, StateFirst
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
        overlay: Overlay | None = None,
        decision_key: bytes | None = None,
    ) -> None:
        self._input_topic = settings.topics.transactions
        self._dead_letter_topic = settings.topics.dead_letters
        self._decisions_topic = settings.topics.decisions
        self._log_topic = settings.topics.scoring_log
        self._decoder = decoder
        self.enricher = enricher
        self.decider = decider
        self._output = output
        self.state_first = StateFirst(output)
        self._metrics = metrics
        # Read at scrape time: nothing on the hot path.
        metrics.decisions_held.set_function(lambda: len(self.state_first))
        # Online decisions: the ones not applied yet, and the key their seals verify under.
        self._overlay = overlay
        self._decision_key = decision_key
        self.pending: list[PendingEvent] = []
        self._now = datetime.now(UTC)
        self._events_in = 0
        self._replays = 0
        # labels() looks the child up by value each call; the label sets here are few.
        self._decision_counter = functools.lru_cache(maxsize=256)(metrics.decisions.labels)
        self._fallback_counter = functools.lru_cache(maxsize=64)(metrics.fallbacks.labels)
        self._violation_counter = functools.lru_cache(maxsize=1024)(
            metrics.expectation_failures.labels
        )
        self._invalid_counter = functools.lru_cache(maxsize=64)(metrics.invalid.labels)
        self._model_decision_counter = functools.lru_cache(maxsize=64)(
            metrics.model_decisions.labels
        )

    def begin_batch(self) -> None:
        """A new micro-batch: one `now` for its validation (the decoder derives its event-time
        window once per distinct `now`)."""
        self._now = datetime.now(UTC)

    def take(
        self,
        value: bytes | None,
        key: bytes | None,
        partition: int,
        offset: int,
        timestamp_ms: int,
        headers: Any = None,
    ) -> None:
        """One input record: a dead letter sent at once, or an event for the batch."""
        received_at = time.time()
        self._events_in += 1
        source = SourceCoords(self._input_topic, partition, offset, key, timestamp_ms)
        decoded = admit(self._decoder, value, source, self._now)
        if isinstance(decoded, DeadLetter):
            self._dead_letter(decoded)
            return
        assert value is not None and key is not None  # a decoded record with the card id as key
        enriched = self.enricher.enrich(decoded, partition, offset)
        self._replays += enriched.replayed
        carried = None
        if headers:
            carried = self._carried(headers, partition, key, value, enriched)
        overlay = self._overlay
        if overlay:
            # The tables count it now (whoever produced it): the overlay must not count it twice.
            overlay.applied(partition, key, enriched.txid_hash)
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
                enriched.txid_hash,
                enriched.prior_decision,
                carried,
            )
        )

    def _carried(
        self,
        headers: Any,
        partition: int,
        key: bytes,
        value: bytes,
        enriched: Enrichment,
    ) -> CarriedAt | None:
        found = carried_decision(
            headers, self._decision_key, self._input_topic, partition, key, value
        )
        if isinstance(found, Forged):
            # Decided normally instead: a producer cannot choose its own decision.
            self._metrics.rejected_decision_seals.labels(found.why).inc()
            log.warning(
                "ignored an online decision whose seal does not verify",
                extra={"partition": partition, "reason": found.why},
            )
            return None
        if found is None:
            return None
        own_partial = enriched.own_partial
        same = list(window_sums(own_partial, enriched.facts)) == orjson.loads(found.own_sums)
        return CarriedAt(found, own_partial.watermark(partition) if same else None)

    def flush(self) -> None:
        """Decide the batch's events and send their outputs."""
        self._count_inputs()
        self.enricher.write_pending()
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        decided, scoring_us = self.decider.decide(batch)
        # The card states, with the decisions recorded, are stored before the decisions leave:
        # a replay must find the decision it would otherwise contradict.
        held = HeldBatch()
        states = self.enricher.record_decisions(
            (
                (item.partition, item.key, item.txid_hash, event.record)
                for item, event in zip(batch, decided, strict=True)
            ),
            held.state_delivered,
        )
        decisions_topic, log_topic = self._decisions_topic, self._log_topic
        records: list[tuple[str, bytes | None, bytes]] = []
        for event in decided:
            records.append((decisions_topic, event.key, event.decision))
            records.append((log_topic, event.key, event.log))
        self.state_first.send_once_stored(held, states, records)
        self._record(batch, decided, scoring_us)

    def poll(self) -> None:
        """Serve the output's delivery reports; send the decisions whose states are stored."""
        self.state_first.poll()

    def _record(self, batch: list[PendingEvent], decided: list[Any], scoring_us: float) -> None:
        """Metrics and logs of a decided batch: one call per label set, not per event."""
        metrics = self._metrics
        metrics.batch_size.observe(len(batch))
        if scoring_us:
            metrics.scoring_seconds.observe(scoring_us / 1e6)
        metrics.decision_latency.observe_many(
            [event.arrival_to_decision_ms / 1000 for event in decided], "arrival"
        )
        metrics.decision_latency.observe_many(
            [max(event.event_to_decision_ms, 0.0) / 1000 for event in decided], "event_time"
        )
        outcomes = Counter(
            (e.outcome, e.model_version, "false" if e.fallback_reason is None else "true")
            for e in decided
        )
        for labels, count in outcomes.items():
            self._decision_counter(*labels).inc(count)
        by_model = Counter((e.role, e.model_version) for e in decided if e.model_version != "none")
        names = {(role, m.ref.version): m.ref.name for role, m in self.decider.plan.models()}
        for (role, version), count in by_model.items():
            name = names.get((role, version), "unknown")
            self._model_decision_counter(role, name, version).inc(count)
        metrics.count_model_calls(self.decider.last_calls)
        fallbacks = Counter(e.fallback_reason for e in decided if e.fallback_reason is not None)
        for reason, count in fallbacks.items():
            self._fallback_counter(reason).inc(count)
        violations = Counter((v.feature, v.kind) for e in decided for v in e.violations)
        for (feature, kind), count in violations.items():
            self._violation_counter(feature, kind).inc(count)
        if fallbacks:
            # One line per batch, not per event: a lagging worker would log thousands a second.
            log.warning(
                "fallback decisions",
                extra={
                    "count": sum(fallbacks.values()),
                    "batch": len(batch),
                    "reasons": sorted(fallbacks),
                },
            )

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
