"""The continuous audit: one confluent-kafka consumer over the input and both outcome topics.

Start: input partitions resume at the group's committed offsets (committed only up to the end
of the last published window, with the newest input timestamp below it as commit metadata),
and the outcome topics are read again from `restart_margin_s` before the oldest of those
timestamps (offsets_for_times), so an outcome written while the audit was down, or before it
crashed, still meets its input. The outcome topics' offsets are never committed: they are
always derived from the inputs'.

Before an input is called missing, its grace must have passed *and* the outcome topics must
have been read through that time: every outcome partition's position has reached a high
watermark queried no earlier than it. A lagging audit therefore never mistakes its own lag for
a loss.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from schemas import LostInput, OffsetRange, OutcomeAudit, encode_record, outcome_audit_id_for
from schemas.audit import MAX_LOST_LISTED
from stream.audit.matching import dead_letter_source, decision_ids, transaction_id_of
from stream.audit.metrics import AuditMetrics
from stream.audit.tracking import OutcomeTracker, PendingInput, TrackerConfig, Verdict, Window
from stream.kafka_clients import new_consumer, new_producer
from stream.publishing import publish_confirmed
from stream.redrive import Copy, Redriver, header_pairs, read_originals
from stream.redrive_seal import sealed_redrive_headers, verified_provenance
from stream.settings import Settings

log = logging.getLogger("fraudstream.audit")

POLL_BATCH = 1000
POLL_TIMEOUT_S = 0.2
TICK_S = 0.2
MAX_CHECKPOINTS = 64
KAFKA_TIMEOUT_S = 10.0
UNVERIFIED_LOG_S = 10.0

TopicPartitionKey = tuple[str, int]


RECENT_RECORDS_KEPT = 1_000


class AuditFailed(Exception):
    """The audit cannot go on (e.g. a window's record could not be published)."""


@dataclass(frozen=True)
class AuditConfig:
    bootstrap: str
    input_topic: str
    decisions_topic: str
    dead_letters_topic: str
    audit_topic: str
    group_id: str
    grace_s: float
    max_redrives: int
    window_s: float
    window_max_inputs: int
    restart_margin_s: float
    outcome_ttl_s: float
    max_outcomes: int
    max_pending: int
    start_from: str
    max_event_bytes: int
    worker_id: str
    # Seals this audit's re-drive copies; random unless configured (see AuditSettings).
    redrive_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)


def audit_config(settings: Settings) -> AuditConfig:
    a = settings.audit
    key = a.redrive_key
    return AuditConfig(
        bootstrap=settings.kafka_bootstrap,
        input_topic=settings.topics.transactions,
        decisions_topic=settings.topics.decisions,
        dead_letters_topic=settings.topics.dead_letters,
        audit_topic=settings.topics.audit,
        group_id=a.group_id,
        grace_s=a.grace_s,
        max_redrives=a.max_redrives,
        window_s=a.window_s,
        window_max_inputs=a.window_max_inputs,
        restart_margin_s=a.restart_margin_s,
        outcome_ttl_s=a.outcome_ttl_s,
        max_outcomes=a.max_outcomes,
        max_pending=a.max_pending,
        start_from=a.start_from,
        max_event_bytes=settings.max_event_bytes,
        worker_id=f"audit-{a.group_id}"[:128],
        redrive_key=secrets.token_bytes(32) if key is None else key.get_secret_value().encode(),
    )


class AuditRunner:
    def __init__(
        self,
        config: AuditConfig,
        metrics: AuditMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.metrics = metrics or AuditMetrics()
        self._clock = clock
        self.tracker = OutcomeTracker(
            TrackerConfig(
                input_topic=config.input_topic,
                grace_ms=round(config.grace_s * 1000),
                max_redrives=config.max_redrives,
                window_ms=round(config.window_s * 1000),
                window_max_inputs=config.window_max_inputs,
                max_outcomes=config.max_outcomes,
            )
        )
        # The latest records only (for tests and inspection); the process runs for weeks.
        self.published: deque[OutcomeAudit] = deque(maxlen=RECENT_RECORDS_KEPT)
        self.published_count = 0
        self._consumer: Any = None
        self._producer: Any = None
        self._redriver: Redriver | None = None
        self._next: dict[TopicPartitionKey, int] = {}  # next offset to read, per partition
        self._at_end: set[TopicPartitionKey] = set()
        self._last_input_ts: dict[int, int] = {}
        self._outcome_partitions: list[TopicPartition] = []
        self._input_partitions: list[TopicPartition] = []
        self._checkpoints: deque[tuple[int, dict[TopicPartitionKey, int]]] = deque()
        self._read_through_ms = 0
        self._paused = False
        self._evicted_seen = 0
        self._unverified_logged_at = -UNVERIFIED_LOG_S
        self._unverified_since_log = 0

    # -- the loop ---------------------------------------------------------------------------

    def run(self, stop: threading.Event, max_seconds: float | None = None) -> int:
        """Audit until `stop` is set (or `max_seconds` passed); returns windows published."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        config = self.config
        self._consumer = new_consumer(
            config.bootstrap,
            {
                "group.id": config.group_id,
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
            },
        )
        self._producer = new_producer(config.bootstrap, {"enable.idempotence": True, "acks": "all"})
        self._redriver = Redriver(config.bootstrap, config.input_topic, config.worker_id)
        try:
            self._assign()
            last_tick = 0.0
            while not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                for message in self._consumer.consume(POLL_BATCH, POLL_TIMEOUT_S):
                    self._handle(message)
                if time.monotonic() - last_tick >= TICK_S:
                    self._tick(self._now_ms())
                    last_tick = time.monotonic()
        finally:
            # Unsettled windows are not committed: a restarted audit reads them again.
            self._consumer.close()
            self._producer.flush(KAFKA_TIMEOUT_S)
            self._redriver.close()
            self._consumer = self._producer = self._redriver = None
        return self.published_count

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # -- where to start ---------------------------------------------------------------------

    def _assign(self) -> None:
        config, consumer = self.config, self._consumer
        self._input_partitions = self._partitions(config.input_topic)
        self._outcome_partitions = self._partitions(config.decisions_topic) + self._partitions(
            config.dead_letters_topic
        )
        committed = consumer.committed(self._input_partitions, timeout=KAFKA_TIMEOUT_S)
        starts: list[TopicPartition] = []
        oldest_ms: int | None = None
        unknown_history = False
        for tp in committed:
            low, high = consumer.get_watermark_offsets(tp, timeout=KAFKA_TIMEOUT_S)
            if tp.offset >= 0:
                offset = max(tp.offset, low)
                stamp = _stamp(tp.metadata)
                if stamp is None:
                    unknown_history = True
                else:
                    oldest_ms = stamp if oldest_ms is None else min(oldest_ms, stamp)
            else:
                offset = low if config.start_from == "earliest" else high
                unknown_history |= config.start_from == "earliest"
            starts.append(TopicPartition(tp.topic, tp.partition, offset))
        if unknown_history:
            since_ms = None  # every outcome there is
        else:
            back = round(config.restart_margin_s * 1000)
            since_ms = (oldest_ms if oldest_ms is not None else self._now_ms()) - back
        starts += self._outcome_starts(since_ms)
        for tp in starts:
            self._next[(tp.topic, tp.partition)] = tp.offset
        log.info(
            "audit assigned",
            extra={
                "start": {f"{tp.topic}/{tp.partition}": tp.offset for tp in starts},
                "outcomes_since_ms": since_ms,
            },
        )
        consumer.assign(starts)

    def _partitions(self, topic: str) -> list[TopicPartition]:
        described = self._consumer.list_topics(topic, timeout=KAFKA_TIMEOUT_S).topics.get(topic)
        if described is None or described.error is not None or not described.partitions:
            raise AuditFailed(f"topic {topic} is unknown to the broker")
        return [TopicPartition(topic, p) for p in sorted(described.partitions)]

    def _outcome_starts(self, since_ms: int | None) -> list[TopicPartition]:
        consumer = self._consumer
        marks = {
            (tp.topic, tp.partition): consumer.get_watermark_offsets(tp, timeout=KAFKA_TIMEOUT_S)
            for tp in self._outcome_partitions
        }
        if since_ms is None:
            return [TopicPartition(t, p, marks[(t, p)][0]) for t, p in marks]
        found = consumer.offsets_for_times(
            [
                TopicPartition(tp.topic, tp.partition, max(0, since_ms))
                for tp in self._outcome_partitions
            ],
            timeout=KAFKA_TIMEOUT_S,
        )
        # -1: nothing that recent in the partition; start at its end.
        return [
            TopicPartition(
                tp.topic,
                tp.partition,
                tp.offset if tp.offset >= 0 else marks[(tp.topic, tp.partition)][1],
            )
            for tp in found
        ]

    # -- records ----------------------------------------------------------------------------

    def _handle(self, message: Message) -> None:
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF and topic is not None:
                key = (topic, partition or 0)
                self._at_end.add(key)
                if offset is not None:
                    self._next[key] = max(self._next.get(key, 0), offset)
            else:
                log.warning("consumer error", extra={"error": str(error)})
            return
        if topic is None or partition is None or offset is None:
            return
        key = (topic, partition)
        self._next[key] = offset + 1
        self._at_end.discard(key)
        _, timestamp_ms = message.timestamp()
        config = self.config
        if topic == config.input_topic:
            self._input(partition, offset, timestamp_ms, message)
        elif topic == config.decisions_topic:
            ids = decision_ids(message.value())
            if ids is not None:
                seen = self.tracker.add_decision(ids.transaction_id, ids.decision_id, timestamp_ms)
                if seen.decision_id != ids.decision_id:
                    self.metrics.conflicts.inc()
                    log.error(
                        "a transaction got two different decision ids",
                        extra={"transaction_id": ids.transaction_id},
                    )
                elif seen.copies > 1:
                    self.metrics.duplicates.inc()
        else:
            coords = dead_letter_source(message.value(), config.input_topic)
            if coords is not None:
                self.tracker.add_dead_letter(coords, timestamp_ms)

    def _input(self, partition: int, offset: int, timestamp_ms: int, message: Message) -> None:
        value = message.value()
        origin = verified_provenance(
            header_pairs(message.headers()),
            self.config.redrive_key,
            partition,
            message.key(),
            value,
        )
        verdict = self.tracker.add_input(
            partition,
            offset,
            timestamp_ms,
            transaction_id_of(value, self.config.max_event_bytes),
            self._now_ms(),
            origin,
        )
        self._last_input_ts[partition] = timestamp_ms
        if origin.unverified_redrive:
            self._report_unverified(partition, offset)
        kind = (
            "redrive_copy"
            if verdict is Verdict.COPY
            else "unverified_redrive"
            if origin.unverified_redrive
            else "dlq_replay"
            if origin.replay_of is not None
            else "input"
        )
        self.metrics.inputs.labels(kind).inc()

    def _report_unverified(self, partition: int, offset: int) -> None:
        """Forged, damaged, or sealed by an audit with another key (e.g. before a restart
        without FRAUD_AUDIT__REDRIVE_KEY): audited as an input of its own. Logged at most every
        UNVERIFIED_LOG_S, as a producer bug could set the header on every record."""
        self._unverified_since_log += 1
        now = time.monotonic()
        if now - self._unverified_logged_at < UNVERIFIED_LOG_S:
            return
        log.warning(
            "re-drive header without a valid seal: counted as an input",
            extra={
                "partition": partition,
                "offset": offset,
                "since_last_log": self._unverified_since_log,
            },
        )
        self._unverified_logged_at, self._unverified_since_log = now, 0

    # -- every tick -------------------------------------------------------------------------

    def _tick(self, now_ms: int) -> None:
        tracker = self.tracker
        tracker.roll(now_ms)
        next_due = tracker.next_due_ms()
        if next_due is not None and next_due <= now_ms:
            self._settle_overdue(now_ms)
        frontier = self._input_frontier(now_ms)
        if frontier is not None:
            tracker.expire_outcomes(frontier - round(self.config.outcome_ttl_s * 1000))
        for window in tracker.settled_windows():
            self._publish(window, now_ms)
        self._apply_backpressure()
        metrics = self.metrics
        metrics.pending.set(tracker.pending)
        metrics.open_windows.set(len(tracker.windows))
        metrics.outcome_index.set(len(tracker.outcomes))
        evicted = tracker.outcomes.evicted
        if evicted > self._evicted_seen:
            metrics.outcome_evictions.inc(evicted - self._evicted_seen)
            self._evicted_seen = evicted

    def _input_frontier(self, now_ms: int) -> int | None:
        """A time no later input is expected to be older than (outcomes before it may go)."""
        times = []
        for tp in self._input_partitions:
            if (tp.topic, tp.partition) in self._at_end:
                times.append(now_ms)
            elif tp.partition in self._last_input_ts:
                times.append(self._last_input_ts[tp.partition])
            else:
                return None  # a partition not read yet: nothing may expire
        return min(times) if times else None

    def _settle_overdue(self, now_ms: int) -> None:
        due = self.tracker.take_due(min(now_ms, self._outcomes_read_through(now_ms)))
        if not due:
            return
        self.metrics.missing.inc(len(due))
        to_redrive = [p for p in due if self.tracker.may_redrive(p)]
        for pending in due:
            if not self.tracker.may_redrive(pending):
                self._lose(pending, "no outcome after every re-drive")
        if to_redrive:
            self._redrive(to_redrive, now_ms)

    def _redrive(self, inputs: list[PendingInput], now_ms: int) -> None:
        assert self._redriver is not None  # only called inside run()
        topic = self.config.input_topic
        originals = read_originals(
            self.config.bootstrap, topic, [p.coords for p in inputs], KAFKA_TIMEOUT_S * 3
        )
        sendable = [p for p in inputs if p.coords in originals]
        for pending in inputs:
            if pending.coords not in originals:
                self._lose(pending, "its bytes are no longer in the input topic")
        key = self.config.redrive_key
        copies = [
            Copy(
                p.partition,
                originals[p.coords].key,
                originals[p.coords].value,
                sealed_redrive_headers(
                    key,
                    (topic, p.partition, p.offset),
                    p.redrives + 1,
                    originals[p.coords].key,
                    originals[p.coords].value,
                ),
            )
            for p in sendable
        ]
        results = self._redriver.send(copies, KAFKA_TIMEOUT_S * 3)
        for pending, result in zip(sendable, results, strict=True):
            if isinstance(result, int):
                self.tracker.redriven(pending, (pending.partition, result), now_ms)
                self.metrics.redriven.inc()
                log.warning(
                    "input without an outcome re-driven",
                    extra={
                        "partition": pending.partition,
                        "offset": pending.offset,
                        "transaction_id": pending.transaction_id,
                        "attempt": pending.redrives,
                        "copy_offset": result,
                    },
                )
            else:
                self.tracker.postpone(pending, now_ms)
                self.metrics.redrive_failures.inc()
                log.error("re-drive failed", extra={"coords": pending.coords, "error": result})

    def _lose(self, pending: PendingInput, why: str) -> None:
        entry = self.tracker.lose(pending)
        self.metrics.lost.inc()
        log.critical(
            "INPUT LOST: no decision and no dead letter",
            extra={
                "topic": self.config.input_topic,
                "partition": entry.partition,
                "offset": entry.offset,
                "transaction_id": entry.transaction_id,
                "redrives": entry.redrives,
                "why": why,
            },
        )

    def _outcomes_read_through(self, now_ms: int) -> int:
        """The latest time up to which every outcome record has been read (see the docstring)."""
        try:
            highs = {
                (tp.topic, tp.partition): self._consumer.get_watermark_offsets(
                    tp, timeout=KAFKA_TIMEOUT_S, cached=False
                )[1]
                for tp in self._outcome_partitions
            }
        except KafkaException as exc:
            log.warning("high watermarks unavailable", extra={"error": str(exc)})
            return self._read_through_ms
        self._checkpoints.append((now_ms, highs))
        while len(self._checkpoints) > MAX_CHECKPOINTS:
            self._checkpoints.popleft()  # a later checkpoint proves as much, a little later
        while self._checkpoints and all(
            self._next.get(key, -1) >= high for key, high in self._checkpoints[0][1].items()
        ):
            self._read_through_ms = self._checkpoints.popleft()[0]
        return self._read_through_ms

    def _apply_backpressure(self) -> None:
        pending = self.tracker.pending
        if not self._paused and pending > self.config.max_pending:
            self._consumer.pause(self._input_partitions)
            self._paused = True
            log.warning(
                "input paused: too many inputs await their outcome", extra={"pending": pending}
            )
        elif self._paused and pending <= self.config.max_pending // 2:
            self._consumer.resume(self._input_partitions)
            self._paused = False

    # -- publish, then commit ---------------------------------------------------------------

    def _publish(self, window: Window, now_ms: int) -> None:
        record = audit_record(window, self.config, now_ms)
        errors = publish_confirmed(
            self._producer,
            self.config.audit_topic,
            self.config.input_topic.encode(),
            encode_record(record),
            KAFKA_TIMEOUT_S * 3,
        )
        if errors:
            # Nothing committed: a restarted audit checks these inputs again.
            raise AuditFailed(f"audit record {record.audit_id} not delivered: {errors[:3]}")
        self.published.append(record)
        self.published_count += 1
        self._count(record)
        self._commit(window)

    def _count(self, record: OutcomeAudit) -> None:
        metrics = self.metrics
        metrics.windows.inc()
        metrics.settled.labels("decided").inc(record.decided)
        metrics.settled.labels("dead_lettered").inc(record.dead_lettered)
        metrics.settled.labels("lost").inc(record.lost)
        metrics.last_checked.set(record.last_input_at.timestamp())
        if record.lost:
            log.error(
                "audit window with lost inputs",
                extra={"audit_id": record.audit_id, "lost": record.lost, "inputs": record.inputs},
            )

    def _commit(self, window: Window) -> None:
        offsets = [
            TopicPartition(self.config.input_topic, partition, end, metadata=str(last_ts))
            for partition, (_, end, last_ts) in sorted(window.ranges.items())
        ]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # The next window commits further; a restart before it re-checks this one (the
            # record keeps its id), so this is logged, not fatal.
            log.warning("offset commit failed", extra={"error": str(exc)})


def audit_record(window: Window, config: AuditConfig, now_ms: int) -> OutcomeAudit:
    ranges = [
        OffsetRange(partition=p, start=start, end=end)
        for p, (start, end, _) in sorted(window.ranges.items())
    ]
    assert window.first_ts is not None and window.last_ts is not None  # a window covers ≥ 1
    return OutcomeAudit(
        audit_id=outcome_audit_id_for(config.input_topic, ranges),
        input_topic=config.input_topic,
        ranges=ranges,
        first_input_at=_at(window.first_ts),
        last_input_at=_at(window.last_ts),
        checked_at=_at(now_ms),
        inputs=window.inputs,
        decided=window.decided,
        dead_lettered=window.dead_lettered,
        lost=len(window.lost),
        redriven=window.redriven,
        redrive_copies=window.copies,
        duplicate_decisions=window.duplicates,
        conflicting_decisions=window.conflicts,
        lost_inputs=[
            LostInput(
                partition=e.partition,
                offset=e.offset,
                transaction_id=e.transaction_id,
                redrives=e.redrives,
            )
            for e in window.lost[:MAX_LOST_LISTED]
        ],
        grace_s=config.grace_s,
        audited_by=config.worker_id,
    )


def _at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _stamp(metadata: str | None) -> int | None:
    """The input timestamp the audit stored with its commit (see _commit), if it is one."""
    return int(metadata) if metadata and metadata.lstrip("-").isdigit() else None
