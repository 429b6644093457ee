"""The monitor's consumer loop: decode, feed the DriftMonitor, publish each report, then commit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    KafkaException,
    Message,
    TopicPartition,
)

from models.drift import DriftMonitor, DriftReference, JoinSpec, WindowSpec, scored_event
from schemas.codec import Decoder, SourceCoords, encode_record
from schemas.dead_letter import DeadLetter
from schemas.drift import AlertThresholds, DriftReport, WindowKind
from schemas.label import FraudLabel
from schemas.scoring_log import SCORING_LOG_UPGRADES, ScoringLogRecord
from stream.kafka_clients import new_consumer, new_producer
from stream.monitor.errors import PublishFailed
from stream.monitor.metrics import MonitorMetrics
from stream.publishing import publish_confirmed
from stream.settings import Settings

log = logging.getLogger("fraudstream.monitor")

REBUILD_SLACK = timedelta(days=1)
"""Extra look-back when refilling the join: record timestamps trail event times a little."""
POLL_BATCH = 1000
POLL_TIMEOUT_S = 0.5


@dataclass(frozen=True)
class MonitorConfig:
    bootstrap: str
    scoring_log_topic: str
    labels_topic: str
    reports_topic: str
    group_id: str
    windows: WindowSpec
    thresholds: AlertThresholds
    join: JoinSpec
    prediction_span: int = 7
    idle_close_s: float = 60.0
    rebuild_join_state: bool = True
    publish_timeout_s: float = 60.0
    worker_id: str = "monitor"


def monitor_config(settings: Settings) -> MonitorConfig:
    m = settings.monitor
    kind = WindowKind(m.window_kind)
    return MonitorConfig(
        bootstrap=settings.kafka_bootstrap,
        scoring_log_topic=settings.topics.scoring_log,
        labels_topic=settings.topics.labels,
        reports_topic=settings.topics.drift_reports,
        group_id=m.group_id,
        windows=WindowSpec(kind, events=m.window_events, length_ms=round(m.window_seconds * 1000)),
        thresholds=m.thresholds,
        join=JoinSpec(
            maturity_days=m.label_maturity_days,
            max_entries=m.join_max_entries,
            max_early_labels=m.early_labels_max,
            performance_window=m.performance_window,
        ),
        prediction_span=m.prediction_span,
        idle_close_s=m.idle_close_s,
        rebuild_join_state=m.rebuild_join_state,
        worker_id=f"monitor-{m.group_id}"[:128],
    )


Position = tuple[str, int]  # (topic, partition)


class MonitorRunner:
    def __init__(
        self,
        config: MonitorConfig,
        reference: DriftReference,
        metrics: MonitorMetrics | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.reference = reference
        self.metrics = metrics or MonitorMetrics()
        self.monitor = DriftMonitor(
            reference,
            config.windows,
            config.thresholds,
            config.join,
            clock=clock,
            prediction_span=config.prediction_span,
        )
        self._names = reference.feature_names
        self._logs = Decoder(
            ScoringLogRecord,
            worker_id=config.worker_id,
            event_time=lambda record: record.transaction.event_time,
            upgrades=SCORING_LOG_UPGRADES,
        )
        self._labels = Decoder(FraudLabel, worker_id=config.worker_id)
        self._positions: dict[Position, int] = {}
        """Next offset per partition, up to which every record has been taken into account."""
        self._replay_until: dict[int, int] = {}
        """Scoring-log partition → committed offset below which records refill the join only."""
        self._consumer: Any = None
        self._producer: Any = None
        self._closing = False
        self.published = 0

    # -- the loop ----------------------------------------------------------------------------

    def run(
        self,
        stop: threading.Event,
        max_reports: int | None = None,
        max_seconds: float | None = None,
    ) -> int:
        """Consume until `stop` is set (or the limits are reached); returns reports published."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        config = self.config
        self._consumer = new_consumer(
            config.bootstrap,
            {
                "group.id": config.group_id,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "enable.partition.eof": False,
            },
        )
        self._producer = new_producer(config.bootstrap, {"enable.idempotence": True, "acks": "all"})
        self._consumer.subscribe(
            [config.scoring_log_topic, config.labels_topic],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
        )
        last_input = time.monotonic()
        try:
            while not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                if max_reports is not None and self.published >= max_reports:
                    break
                messages = self._consumer.consume(POLL_BATCH, POLL_TIMEOUT_S)
                now = datetime.now(UTC)
                for message in messages:
                    self._handle(message, now)
                if messages:
                    last_input = time.monotonic()
                elif self._idle_for(last_input):
                    report = self.monitor.close_window()
                    if report is not None:
                        self._publish(report)
                    last_input = time.monotonic()
                self.metrics.count_join(
                    self.monitor.join.counters,
                    self.monitor.join.pending,
                    self.monitor.join.sample_rate,
                )
                self.metrics.open_window.set(self.monitor.windowing.open_events)
        finally:
            self._closing = True
            self._consumer.close()  # the open window is not committed: it is read again
            self._producer.flush(self.config.publish_timeout_s)
            self._consumer = self._producer = None  # librdkafka handles go with the last ref
        return self.published

    def _idle_for(self, last_input: float) -> bool:
        idle = self.config.idle_close_s
        return (
            idle > 0
            and time.monotonic() - last_input >= idle
            and self.monitor.windowing.open_events >= self.config.thresholds.min_events
        )

    # -- records -----------------------------------------------------------------------------

    def _handle(self, message: Message, now: datetime) -> None:
        error = message.error()
        if error is not None:
            log.warning("consumer error", extra={"error": str(error)})
            return
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        if topic is None or partition is None or offset is None:
            return  # not a record (librdkafka sets all three on every fetched one)
        coords = SourceCoords(topic, partition, offset, message.key())
        if topic == self.config.scoring_log_topic:
            self._handle_log(message.value(), coords, now)
        else:
            self._handle_label(message.value(), coords, now)

    def _handle_log(self, value: bytes | None, coords: SourceCoords, now: datetime) -> None:
        topic, partition, offset = coords.topic, coords.partition, coords.offset
        replaying = offset < self._replay_until.get(partition, -1)
        record = self._logs.decode(value, coords, now=now)
        if isinstance(record, DeadLetter):
            self._undecodable(topic, record)
        else:
            event = scored_event(record, self._names)
            if replaying:
                self.metrics.records.labels(topic, "replayed").inc()
                self.monitor.observe_join_only(event)
                return
            self.metrics.records.labels(topic, "read").inc()
            closed = self.monitor.due(event.event_ms)
            if closed is not None:
                self._publish(closed)  # covers the records before this one
            self.monitor.observe(event)
        if not replaying:
            self._positions[(topic, partition)] = offset + 1
        closed = self.monitor.full() if not isinstance(record, DeadLetter) else None
        if closed is not None:
            self._publish(closed)  # covers this record too

    def _handle_label(self, value: bytes | None, coords: SourceCoords, now: datetime) -> None:
        label = self._labels.decode(value, coords, now=now)
        if isinstance(label, DeadLetter):
            self._undecodable(coords.topic, label)
        else:
            self.metrics.records.labels(coords.topic, "read").inc()
            self.monitor.observe_label(label)
        self._positions[(coords.topic, coords.partition)] = coords.offset + 1

    def _undecodable(self, topic: str, dead: DeadLetter) -> None:
        self.metrics.records.labels(topic, "undecodable").inc()
        log.warning(
            "undecodable record skipped",
            extra={
                "topic": topic,
                "partition": dead.source.partition,
                "offset": dead.source.offset,
                "category": dead.category.value,
                "detail": dead.detail[:300],
            },
        )

    # -- publish, then commit ----------------------------------------------------------------

    def _publish(self, report: DriftReport) -> None:
        errors = publish_confirmed(
            self._producer,
            self.config.reports_topic,
            report.model.name.encode(),
            encode_record(report),
            self.config.publish_timeout_s,
        )
        if errors:
            # Nothing is committed: a restarted monitor recomputes this window and publishes it.
            raise PublishFailed(f"drift report {report.report_id} not delivered: {errors[:3]}")
        self.published += 1
        self.metrics.report(report, time.time())
        log.info(
            "drift report published",
            extra={
                "report_id": report.report_id,
                "window_start": report.window.start.isoformat(),
                "events": report.window.n,
                "alerts": len(report.alerts),
            },
        )
        self._commit()

    def _commit(self) -> None:
        offsets = [TopicPartition(t, p, o) for (t, p), o in sorted(self._positions.items())]
        if not offsets:
            return
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            # The next report commits further; a restart before it redoes this window (at least
            # once), so this is logged, not fatal.
            log.warning("offset commit failed", extra={"error": str(exc)})

    # -- assignment: where to start ----------------------------------------------------------

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        committed = consumer.committed(partitions, timeout=30)
        lookback = self._lookback_ms()
        starts = (
            {
                (tp.topic, tp.partition): tp.offset
                for tp in consumer.offsets_for_times(
                    [TopicPartition(tp.topic, tp.partition, lookback) for tp in partitions],
                    timeout=30,
                )
            }
            if lookback is not None
            else {}
        )
        for tp in committed:
            rebuild_from = starts.get((tp.topic, tp.partition))
            if tp.topic == self.config.scoring_log_topic:
                tp.offset = self._log_start(tp, rebuild_from)
            elif rebuild_from is not None:
                tp.offset = rebuild_from if rebuild_from >= 0 else OFFSET_END
            elif tp.offset < 0:
                tp.offset = OFFSET_BEGINNING
        log.info(
            "partitions assigned",
            extra={"start": {f"{tp.topic}/{tp.partition}": tp.offset for tp in committed}},
        )
        consumer.assign(committed)

    def _log_start(self, tp: TopicPartition, rebuild_from: int | None) -> int:
        if tp.offset < 0:  # nothing committed yet: every record counts, from the beginning
            return OFFSET_BEGINNING
        if rebuild_from is not None and 0 <= rebuild_from < tp.offset:
            self._replay_until[tp.partition] = tp.offset
            return rebuild_from
        return int(tp.offset)

    def _lookback_ms(self) -> int | None:
        if not self.config.rebuild_join_state or self.config.join.maturity_days <= 0:
            return None
        back = timedelta(days=self.config.join.maturity_days) + REBUILD_SLACK
        return max(0, int((datetime.now(UTC) - back).timestamp() * 1000))

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        # One monitor per deployment: a second member would split the traffic between two
        # monitors, each comparing half of it with the profile.
        if not self._closing:
            log.warning(
                "partitions revoked; is a second monitor running in this group?",
                extra={"partitions": [f"{tp.topic}/{tp.partition}" for tp in partitions]},
            )
        for tp in partitions:
            self._positions.pop((tp.topic, tp.partition), None)
