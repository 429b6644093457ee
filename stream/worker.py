"""Wiring: settings → Faust app with the two stages, tables, web views and the output producer."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import faust

from models.scoring import open_package
from schemas import DecodeLimits, transaction_decoder
from stream.app import create_app
from stream.card_stage import CardStage
from stream.commit_watch import CommitWatch
from stream.deciding import BatchDecider, Champion
from stream.engine_fixes import engine_matches_pins, engine_versions, flush_outputs_before_commits
from stream.merchant_stage import MerchantStage
from stream.metrics import StreamMetrics
from stream.output import OutputProducer
from stream.settings import Settings
from stream.state_table import FaustStateTable
from stream.topics import ensure_topics
from stream.web import register_views

log = logging.getLogger(__name__)


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


def build_worker(settings: Settings) -> Worker:
    if not engine_matches_pins():
        log.warning(
            "engine versions %s differ from the pinned ones: re-check stream.engine_fixes",
            engine_versions(),
        )
    ensure_topics(settings)
    app = create_app(settings)
    metrics = StreamMetrics()
    output = OutputProducer(
        settings.kafka_bootstrap, client_id=f"{settings.app_id}-{settings.worker_id}"
    )
    flush_outputs_before_commits(app, output.flush)
    champion = load_champion(settings)
    if champion is not None:
        manifest = champion.scorer.manifest
        metrics.model_info.labels(
            "champion",
            manifest.name,
            manifest.version,
            champion.ref.content_hash,
            champion.scorer.predictor.kind,
        ).set(1)
    limits = DecodeLimits(
        max_bytes=settings.max_event_bytes,
        max_future_skew=timedelta(seconds=settings.max_future_skew_s),
    )
    decoder = transaction_decoder(settings.worker_id, limits)
    n = settings.partitions
    transactions = _raw_topic(app, settings.topics.transactions, n)
    handovers = _raw_topic(app, settings.topics.by_merchant, n)
    card_table = _raw_table(app, "card-state", n)
    merchant_table = _raw_table(app, "merchant-state", n)
    card_stage = CardStage(settings, FaustStateTable(card_table), output, decoder, metrics)
    decider = BatchDecider(
        champion, settings.fallback, settings.latency_budget_ms, settings.topics.transactions
    )
    merchant_stage = MerchantStage(
        settings, FaustStateTable(merchant_table), output, decider, metrics
    )

    @app.agent(transactions, name="card-stage")
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

    merchant_streams: list[Any] = []

    @app.agent(handovers, name="merchant-stage")
    async def merchant_agent(stream: Any) -> None:
        manual = stream.noack()
        merchant_streams.append(manual)
        async for event in manual.events():
            merchant_stage.add(event.value, event)
            # Faust hands records over one at a time, so "nothing queued" says nothing about
            # load: batch by size and age instead.
            if merchant_stage.due(time.monotonic()):
                await _flush(manual)
            output.poll()

    async def _flush(manual: Any) -> None:
        for event in merchant_stage.flush(datetime.now(UTC)):
            await manual.ack(event)

    async def flush_stragglers() -> None:
        # The agent only looks at its batch when a record arrives; this flushes the last one.
        if merchant_stage.pending and merchant_streams and merchant_stage.due(time.monotonic()):
            await _flush(merchant_streams[-1])
        output.poll()

    app.timer(interval=settings.max_batch_wait_ms / 2000)(flush_stragglers)

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
    watched_topics = {settings.topics.transactions, settings.topics.by_merchant}

    async def watch_progress() -> None:
        consumer = cast(Any, app).consumer
        assigned = [tp for tp in consumer.assignment() if tp.topic in watched_topics]
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

    def is_ready() -> tuple[bool, str]:
        if champion is None:
            return False, "no verified model package loaded"
        if not cast(Any, app.tables).recovery.completed.is_set():
            return False, "state tables are recovering from their changelogs"
        return True, "tables recovered, model loaded"

    def model_info() -> dict[str, Any]:
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

    register_views(app, metrics, is_ready, model_info)
    return Worker(app, settings, metrics, output, champion)


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


def run_worker(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; Faust commits (after flushing outputs) on the way out."""
    from stream.logs import logging_config

    worker = build_worker(settings)
    faust_worker = faust.Worker(
        worker.app,
        loglevel=settings.log_level,
        logging_config=logging_config(settings.log_level, settings.worker_id),
    )
    try:
        faust_worker.execute_from_commandline()
    finally:
        left = worker.output.close()
        if left:
            log.error("%d output records were not delivered at shutdown", left)
