"""Wiring: settings → one Faust app per stage, with its table, agent, web views and producer.

The card stage and the merchant stage run as two Faust apps (two consumer groups), normally
in two processes under one `fraudstream worker` (see stream.supervisor). In one app they
competed for one consumer: under a backlog, the input topic's records starved the hand-over
topic's (measured: 12,000 card-stage events for 0 merchant-stage ones), and one Python process
used one of the machine's cores. Apart, each stage consumes only its own topic and they
pipeline on two cores.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

import faust

from models.scoring import open_package
from stream.app import create_app
from stream.card_stage import CardStage, card_stage_decoder
from stream.commit_watch import CommitWatch
from stream.deciding import BatchDecider, Champion
from stream.engine_fixes import (
    consumer_state,
    engine_matches_pins,
    engine_versions,
    flush_outputs_before_commits,
)
from stream.merchant_stage import MerchantStage
from stream.metrics import StreamMetrics
from stream.output import OutputProducer
from stream.settings import Settings
from stream.state_table import FaustStateTable
from stream.topics import STAGE_TABLES, ensure_topics, stage_app_id
from stream.web import register_views

log = logging.getLogger(__name__)
Stage = Literal["card", "merchant"]


@dataclass
class Worker:
    app: faust.App
    settings: Settings
    metrics: StreamMetrics
    output: OutputProducer
    champion: Champion | None


def load_champion(settings: Settings) -> Champion | None:
    if settings.model_package is None:
        log.warning("no model package configured (FRAUD_MODEL_PACKAGE): every decision falls back")
        return None
    key = settings.signing_key.get_secret_value().encode()
    return Champion(open_package(settings.model_package, key, threads=settings.scoring_threads))


def build_worker(settings: Settings, stage: Stage) -> Worker:
    if not engine_matches_pins():
        log.warning(
            "engine versions %s differ from the pinned ones: re-check stream.engine_fixes",
            engine_versions(),
        )
    ensure_topics(settings)
    stage_settings = settings.model_copy(
        update={
            "app_id": stage_app_id(settings, stage),
            "data_dir": settings.worker_data_dir / stage,
            "web_port": settings.web_port if stage == "card" else settings.merchant_web_port,
        }
    )
    app = create_app(stage_settings)
    metrics = StreamMetrics()
    output = OutputProducer(
        settings.kafka_bootstrap, client_id=f"{settings.app_id}-{settings.worker_id}-{stage}"
    )
    flush_outputs_before_commits(app, output.flush)
    table = _raw_table(app, STAGE_TABLES[stage], settings.partitions)
    champion = None
    if stage == "card":
        source = settings.topics.transactions
        _card_stage(app, settings, table, output, metrics)
    else:
        source = settings.topics.by_merchant
        champion = load_champion(settings)
        _merchant_stage(app, settings, table, output, metrics, champion)
    _watchdogs(app, settings, metrics, source)
    _table_size_gauge(app, table, metrics, STAGE_TABLES[stage])

    def is_ready() -> tuple[bool, str]:
        if stage == "merchant" and champion is None:
            return False, "no verified model package loaded"
        if not cast(Any, app.tables).recovery.completed.is_set():
            return False, "state tables are recovering from their changelogs"
        return True, f"{stage} stage: tables recovered" + (", model loaded" if champion else "")

    register_views(
        app,
        metrics,
        is_ready,
        lambda: _model_info(settings, champion),
        lambda: consumer_state(app),
    )
    return Worker(app, settings, metrics, output, champion)


def _card_stage(
    app: faust.App,
    settings: Settings,
    table: Any,
    output: OutputProducer,
    metrics: StreamMetrics,
) -> None:
    decoder = card_stage_decoder(settings, settings.worker_id)
    card_stage = CardStage(settings, FaustStateTable(table), output, decoder, metrics)
    source = _raw_topic(app, settings.topics.transactions, settings.partitions)

    @app.agent(source, name="card-stage")
    async def card_agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            card_stage.handle(
                event.value,
                message.key,
                message.partition,
                message.offset,
                int(message.timestamp * 1000),
                datetime.now(UTC),
            )
            output.poll()


def _merchant_stage(
    app: faust.App,
    settings: Settings,
    table: Any,
    output: OutputProducer,
    metrics: StreamMetrics,
    champion: Champion | None,
) -> None:
    if champion is not None:
        manifest = champion.scorer.manifest
        metrics.model_info.labels(
            "champion",
            manifest.name,
            manifest.version,
            champion.ref.content_hash,
            champion.scorer.predictor.kind,
        ).set(1)
    decider = BatchDecider(
        champion, settings.fallback, settings.latency_budget_ms, settings.topics.transactions
    )
    merchant_stage = MerchantStage(settings, FaustStateTable(table), output, decider, metrics)
    source = _raw_topic(app, settings.topics.by_merchant, settings.partitions)
    streams: list[Any] = []

    async def flush(manual: Any) -> None:
        for event in merchant_stage.flush(datetime.now(UTC)):
            await manual.ack(event)

    @app.agent(source, name="merchant-stage")
    async def merchant_agent(stream: Any) -> None:
        # Acks are manual: an event is acknowledged once its decision was sent.
        manual = stream.noack()
        streams.append(manual)
        async for event in manual.events():
            merchant_stage.add(event.value, event)
            # Faust hands records over one at a time, so "nothing queued" says nothing about
            # load: batch by size and age instead.
            if merchant_stage.due(time.monotonic()):
                await flush(manual)
            output.poll()

    async def flush_stragglers() -> None:
        # The agent only looks at its batch when a record arrives; this flushes the last one.
        if merchant_stage.pending and streams and merchant_stage.due(time.monotonic()):
            await flush(streams[-1])
        output.poll()

    app.timer(interval=settings.max_batch_wait_ms / 2000)(flush_stragglers)


def _watchdogs(app: faust.App, settings: Settings, metrics: StreamMetrics, source: str) -> None:
    async def stop_if_fetcher_crashed() -> None:
        # Faust keeps the worker alive when its fetcher crashes (seen with a compression codec
        # the consumer could not read): alive but consuming nothing. Better to exit and be
        # restarted by the supervisor than to stall silently.
        fetcher = cast(Any, app)._fetcher
        if fetcher.crashed:
            log.critical(
                "the Kafka fetcher crashed (%r); stopping the worker", fetcher.crash_reason
            )
            await cast(Any, app).crash(RuntimeError(f"fetcher crashed: {fetcher.crash_reason!r}"))

    app.timer(interval=1.0)(stop_if_fetcher_crashed)
    watch = CommitWatch(stuck_after_s=settings.stuck_commit_after_s)

    async def watch_progress() -> None:
        consumer = cast(Any, app).consumer
        assigned = [tp for tp in consumer.assignment() if tp.topic == source]
        stuck = 0
        for tp in assigned:
            committed = consumer._committed_offset.get(tp)
            read = consumer._read_offset.get(tp)
            consumed_up_to = None if read is None else read + 1
            labels = (tp.topic, str(tp.partition))
            highwater = consumer.highwater(tp)
            if highwater is not None and consumed_up_to is not None:
                metrics.consumer_lag.labels(*labels).set(max(highwater - consumed_up_to, 0))
            if committed is not None and consumed_up_to is not None:
                metrics.commit_lag.labels(*labels).set(max(consumed_up_to - committed, 0))
            if watch.observe((tp.topic, tp.partition), committed, consumed_up_to, time.monotonic()):
                stuck += 1
                log.warning(
                    "committed offset stuck",
                    extra={
                        "topic": tp.topic,
                        "partition": tp.partition,
                        "committed": committed,
                        "consumed_up_to": consumed_up_to,
                    },
                )
        metrics.stuck_partitions.set(stuck)
        watch.forget({(tp.topic, tp.partition) for tp in assigned})

    app.timer(interval=5.0)(watch_progress)


def _table_size_gauge(app: faust.App, table: Any, metrics: StreamMetrics, name: str) -> None:
    gauge = metrics.table_keys.labels(name)

    async def measure() -> None:
        # RocksDB's own estimate per partition database: cheap, no scan.
        databases = list(getattr(table.data, "_dbs", {}).values())
        gauge.set(sum(db.property_int_value("rocksdb.estimate-num-keys") or 0 for db in databases))

    app.timer(interval=10.0)(measure)


def _model_info(settings: Settings, champion: Champion | None) -> dict[str, Any]:
    if champion is None:
        return {"champion": None, "fallback": settings.fallback.value}
    manifest = champion.scorer.manifest
    return {
        "champion": champion.ref.model_dump(),
        "predictor": champion.scorer.predictor.kind,
        "feature_set_version": manifest.features.feature_set_version,
        "built_at": manifest.provenance.built_at.isoformat(),
        "git_commit": manifest.code.git_commit,
        "dataset_id": manifest.data.dataset_id,
        "thresholds": {
            "review": manifest.policy.review_threshold,
            "decline": manifest.policy.decline_threshold,
        },
        "fallback": settings.fallback.value,
        "latency_budget_ms": settings.latency_budget_ms,
    }


def _raw_topic(app: faust.App, name: str, partitions: int) -> Any:
    return app.topic(
        name,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )


def _raw_table(app: faust.App, name: str, partitions: int) -> Any:
    # Serializers come from the app's defaults ("raw"): keys and values stay bytes.
    return app.Table(name, partitions=partitions, key_type=bytes, value_type=bytes)


def run_stage(settings: Settings, stage: Stage) -> None:
    """Run one stage until SIGTERM/SIGINT; Faust commits (after flushing outputs) on exit."""
    from stream.logs import logging_config

    worker = build_worker(settings, stage)
    faust_worker = faust.Worker(
        worker.app,
        loglevel=settings.log_level,
        logging_config=logging_config(settings.log_level, f"{settings.worker_id}-{stage}"),
    )
    try:
        faust_worker.execute_from_commandline()
    finally:
        left = worker.output.close()
        if left:
            log.error("%d output records were not delivered at shutdown", left)
