"""Wiring: settings → the Faust app, its two state tables, the merchant view, the agent, the web.

One process, one Kafka hop: input topic → agent → decisions, scoring log, dead letters.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import faust

from models.governance.changelog import ChangeLog
from models.governance.policy import load_policy
from models.scoring import open_package
from schemas import examples
from stream.commit_watch import CommitWatch
from stream.decision_path.agent import attach_decision_agent, input_topic
from stream.decision_path.api_publish import RequestPublisher
from stream.decision_path.api_routing import Forwarder, Owners
from stream.decision_path.app import create_app
from stream.decision_path.deciding import BatchDecider, Champion
from stream.decision_path.enrich import Enricher
from stream.decision_path.handover import DataDirLock
from stream.decision_path.intake import input_decoder
from stream.decision_path.merchant_view import MerchantView, PartialsReplica
from stream.decision_path.metrics import StreamMetrics
from stream.decision_path.online import OnlineDecider
from stream.decision_path.online_seal import decision_key
from stream.decision_path.output import OutputProducer
from stream.decision_path.overlay import Overlay
from stream.decision_path.readiness import ReadyClock
from stream.decision_path.scoring_api import ScoringApi
from stream.decision_path.stage import DecisionStage
from stream.decision_path.successor_boot import set_autogroup_nice, take_own_priority_back
from stream.decision_path.web import register_views
from stream.decision_path.web_auth import protect_web
from stream.deployment.applier import PlanApplier
from stream.deployment.follower import PlanFollower, apply_current_plan
from stream.engine import engine_matches_pins, engine_versions
from stream.engine.commit_flush import flush_before_commits
from stream.engine.introspection import (
    committed_offset,
    consumer_state,
    fetcher_crash,
    read_progress,
    recovery_completed,
    unprocessed_partitions,
)
from stream.engine.prompt_restart import PromptStopWorker
from stream.engine.release_after_commit import after_final_commit
from stream.engine.state_stores import DictStore, TableStore, close_local_stores
from stream.engine.takeover_gate import start_before_the_gate
from stream.settings import Settings
from stream.signing_keys import package_signing_key
from stream.topics import CARD_STATE_TABLE, MERCHANT_PARTIALS_TABLE, ensure_topics

log = logging.getLogger(__name__)


@dataclass
class Worker:
    app: faust.App
    settings: Settings
    metrics: StreamMetrics
    output: OutputProducer
    changelog: OutputProducer
    champion: Champion | None
    replica: PartialsReplica
    publisher: RequestPublisher
    follower: PlanFollower
    # Run by a warm successor before it waits for the old process (stream.decision_path.handover)
    prepare_handover: Callable[[], None]


def load_champion(settings: Settings) -> Champion | None:
    if settings.model_package is None:
        log.warning("no model package configured (FRAUD_MODEL_PACKAGE): every decision falls back")
        return None
    key = package_signing_key(settings)
    return Champion(open_package(settings.model_package, key, threads=settings.scoring_threads))


def plan_applier(settings: Settings, decider: BatchDecider, metrics: StreamMetrics) -> PlanApplier:
    key = package_signing_key(settings)
    target = None
    if settings.policy_path.exists():
        target = load_policy(settings.policy_path).target
    else:
        log.warning(
            "no governance policy at %s: packages are not checked against a target profile",
            settings.policy_path,
        )
    changelog = ChangeLog(settings.registry_dir / "changelog.jsonl", key)
    return PlanApplier(
        decider, key, metrics, changelog, target, settings.worker_id, settings.scoring_threads
    )


def build_worker(settings: Settings) -> Worker:
    # Before anything connects: with no package configured yet the key would go unused, and a
    # package configured later must not then meet a worker that trusts the public key.
    package_signing_key(settings)
    if not engine_matches_pins():
        log.warning(
            "engine versions %s differ from the pinned ones: re-check stream.engine",
            engine_versions(),
        )
    app = create_app(settings, known_topics=ensure_topics(settings))
    metrics = StreamMetrics()
    client_id = f"{settings.app_id}-{settings.worker_id}"
    # Decisions, scoring logs and the card states they were recorded in share one producer: the
    # states' delivery reports release the decisions (stream/decision_path/state_first.py) and
    # give the offsets the card table persists: ~1-2 µs of callback per record.
    output = OutputProducer(settings.kafka_bootstrap, client_id=client_id, security=settings.kafka)
    changelog = OutputProducer(
        settings.kafka_bootstrap,
        client_id=f"{client_id}-changelog",
        security=settings.kafka,
        **{
            "compression.type": settings.changelog_compression,
            "linger.ms": settings.changelog_linger_ms,
        },
    )
    cards = TableStore(_raw_table(app, CARD_STATE_TABLE, settings.partitions), output)
    partials_table = _raw_table(app, MERCHANT_PARTIALS_TABLE, settings.partitions)
    partials = TableStore(partials_table, changelog)

    view = MerchantView(settings.partitions)
    replica = PartialsReplica(
        settings.kafka_bootstrap,
        settings.kafka,
        {
            "group.id": f"{client_id}-view",
            # Partials trail their owner anyway (changelog_linger_ms): fetch in bulk.
            "fetch.min.bytes": 65_536,
            "fetch.wait.max.ms": 100,
        },
        partials.changelog_topic,
        view,
        metrics.merchant_view_delay.observe_many,
    )
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
    decider = BatchDecider(
        champion, settings.fallback, settings.latency_budget_ms, settings.topics.transactions
    )
    # The live plan, if the control topic has one, replaces the configured package before the
    # warm-up and before the agent exists: nothing is decided under a stale plan.
    applier = plan_applier(settings, decider, metrics)
    apply_current_plan(settings, applier)
    follower = PlanFollower(settings, applier)
    enricher = Enricher(
        cards, partials, view, committed_offset=committed_offset(app, settings.topics.transactions)
    )
    overlay = Overlay()
    online_key = decision_key(settings)
    if online_key is None:
        log.warning("FRAUD_API_DECISION_KEY is not set: POST /v1/score answers 503")
    stage = DecisionStage(
        settings,
        input_decoder(settings, settings.worker_id),
        enricher,
        decider,
        output,
        metrics,
        overlay,
        online_key,
    )

    async def deliver_before_commit() -> None:
        await stage.state_first.drain()  # decisions held for their card states
        await output.flush()
        await changelog.flush()
        cards.persist_delivered_offsets()
        partials.persist_delivered_offsets()

    flush_before_commits(app, deliver_before_commit)

    async def partitions_changed(*_: Any, **__: Any) -> None:
        # Recovery rewrites the tables of newly assigned partitions: cached states may be old.
        enricher.forget()
        # Records decided online and not applied here are applied (counted) by their
        # partition's owner now, or again by this worker after its recovery.
        overlay.clear()

    app.on_partitions_revoked.connect(partitions_changed)
    app.on_partitions_assigned.connect(partitions_changed)
    topics = settings.topics
    output.prepare([topics.decisions, topics.scoring_log, topics.dead_letters])
    changelog.prepare([cards.changelog_topic, partials.changelog_topic])
    publisher = RequestPublisher(
        settings.kafka_bootstrap, f"{client_id}-api", topics.transactions, settings.kafka
    )
    publisher.prepare()
    warm_up(settings, decider)
    source = input_topic(app, settings.topics.transactions, settings.partitions)
    attach_decision_agent(app, source, stage, settings.max_batch)

    async def start_merchant_view() -> None:
        # Said here, not where it was applied: Faust configures logging only when it starts.
        log.info(
            "deployment plan %d in force before the first decision: %s",
            decider.plan.version,
            ", ".join(f"{role} {m.ref.name}:{m.ref.version}" for role, m in decider.plan.models()),
        )
        replica.start()  # unless prepare_handover started it
        follower.start()

    app.task(start_merchant_view)

    settled = asyncio.Event()
    ready_clock = ReadyClock()
    collected_ahead = threading.Event()

    async def settle_memory_before_ready() -> None:
        # What the worker holds once started (code, model, recovered view) lives for good: out
        # of the collector's reach, full collections stop pausing the loop for ~100 ms
        # (measured here: 115 ms gen-2 pauses every ~20 s at 500 events/s before this). Done
        # before /ready says yes, so no traffic meets the one full collection it takes.
        while not started_up():
            await asyncio.sleep(0.2)
        if not collected_ahead.is_set():
            gc.collect()
        # After a collection ahead (prepare_handover), what Faust's start added is frozen
        # without a second full collection: that one would stop the loop while the restart's
        # backlog waits for it.
        gc.freeze()
        settled.set()

    app.task(settle_memory_before_ready)

    def prepare_handover(timeout_s: float = 120.0) -> None:
        """Before a warm successor waits for the old process: what does not need the
        partitions. The merchant view reads the partials' changelog (every partition, while
        the old process still writes it: newest watermark wins) and the one full collection
        runs, so neither competes with the join and recovery while the partitions are paused.
        """
        replica.start()
        follower.start()
        deadline = time.monotonic() + timeout_s
        while not replica.caught_up.wait(0.1):
            if replica.failure is not None or time.monotonic() > deadline:
                return  # /ready reports it; Faust's start takes over as on a cold start
        gc.collect()
        gc.freeze()
        collected_ahead.set()

    _watchdogs(app, settings, metrics, view)

    def started_up() -> bool:
        return replica.caught_up.is_set() and recovery_completed(app)

    def is_ready() -> tuple[bool, str]:
        if decider.champion is None:
            return False, "no verified model package loaded"
        if replica.failure is not None:
            return False, f"merchant view stopped: {replica.failure}"
        if not replica.caught_up.is_set():
            return False, "merchant view is reading the partials' changelog"
        if not recovery_completed(app):
            return False, "state tables are recovering from their changelogs"
        if not settled.is_set():
            return False, "settling memory"
        metrics.time_to_ready.set(ready_clock.mark_ready())
        return True, "tables recovered, merchant view loaded, model loaded and warm"

    register_views(
        app,
        metrics,
        is_ready,
        lambda: _model_info(settings, decider),
        lambda: consumer_state(app),
    )
    web_app = cast(Any, app.web).web_app
    ScoringApi(
        input_decoder(settings, settings.worker_id),
        topics.transactions,
        settings.partitions,
        settings.max_event_bytes,
        settings.api_max_batch,
        Owners(app, CARD_STATE_TABLE, topics.transactions),
        Forwarder(settings.worker_id, timeout_s=settings.api_timeout_ms / 1000 + 1.0),
        OnlineDecider(
            enricher,
            decider,
            overlay,
            publisher,
            online_key,
            settings.api_timeout_ms / 1000,
            metrics,
        ),
        is_ready,
    ).register(web_app, noop=settings.api_noop_endpoint)
    token = settings.web_token
    protect_web(web_app, None if token is None else token.get_secret_value())
    return Worker(
        app,
        settings,
        metrics,
        output,
        changelog,
        champion,
        replica,
        publisher,
        follower,
        prepare_handover,
    )


def warm_up(settings: Settings, decider: BatchDecider) -> None:
    """Run made-up events through the whole stage before the worker says ready.

    The first validation, state step, model call and encodes pay one-off costs (lazy imports,
    caches, allocations): measured here, tens of ms, which the first real decisions must not
    pay. The stage used has its own in-memory tables and sends nowhere.
    """
    transaction = examples.transaction()
    raw = transaction.model_dump_json().encode()
    stage = DecisionStage(
        settings,
        input_decoder(settings, settings.worker_id),
        Enricher(DictStore(), DictStore(), MerchantView(settings.partitions)),
        decider,
        _Discard(),  # type: ignore[arg-type]
        StreamMetrics(),
    )
    now_ms = int(time.time() * 1000)
    for offset in range(3):
        stage.begin_batch()
        stage.take(raw, transaction.card_id.encode(), 0, offset, now_ms)
        stage.take(b"not json", b"key", 0, offset, now_ms)  # the dead-letter path too
        stage.flush()


class _Discard:
    def send(self, *args: Any, **kwargs: Any) -> None:
        return None


def _watchdogs(
    app: faust.App, settings: Settings, metrics: StreamMetrics, view: MerchantView
) -> None:
    async def stop_if_fetcher_crashed() -> None:
        # Alive but consuming nothing is worse than exiting and being restarted.
        reason = fetcher_crash(app)
        if reason is not None:
            log.critical("the Kafka fetcher crashed (%r); stopping the worker", reason)
            await cast(Any, app).crash(RuntimeError(f"fetcher crashed: {reason!r}"))

    app.timer(interval=1.0)(stop_if_fetcher_crashed)
    watch = CommitWatch(stuck_after_s=settings.stuck_commit_after_s)

    async def watch_progress() -> None:
        stuck = 0
        rows = read_progress(app, settings.topics.transactions)
        for tp, committed, consumed_up_to, highwater in rows:
            labels = (tp.topic, str(tp.partition))
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
        metrics.unprocessed_partitions.set(
            unprocessed_partitions(app, settings.topics.transactions)
        )
        watch.forget({(tp.topic, tp.partition) for tp, *_ in rows})
        metrics.merchant_view_size.set(len(view))

    app.timer(interval=5.0)(watch_progress)


def _model_info(settings: Settings, decider: BatchDecider) -> dict[str, Any]:
    plan = decider.plan
    champion = plan.champion
    if champion is None:
        return {"champion": None, "fallback": settings.fallback.value, "plan_version": plan.version}
    manifest = champion.scorer.manifest
    return {
        "plan_version": plan.version,
        "roles": [
            {"role": role, **model.ref.model_dump()}
            | ({"traffic_share": plan.canary_share} if role == "canary" else {})
            for role, model in plan.models()
        ],
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


def _raw_table(app: faust.App, name: str, partitions: int) -> Any:
    # Serializers come from the app's defaults ("raw"): keys and values stay bytes.
    return app.Table(name, partitions=partitions, key_type=bytes, value_type=bytes)


def run_worker(settings: Settings) -> None:
    """Run until SIGTERM/SIGINT; Faust commits (after flushing outputs) on exit."""
    from stream.logs import logging_config

    worker = build_worker(settings)
    faust_worker = PromptStopWorker(
        worker.app,
        loglevel=settings.log_level,
        logging_config=logging_config(settings.log_level, settings.worker_id),
    )
    lock = DataDirLock(settings.worker_data_dir)
    try:
        if not lock.take_now():
            # Another process of this worker holds the data dir: a warm handover (or a
            # misconfiguration). Prepare what needs no partitions, start Faust's clients, and
            # join only once it lets go (stream.engine.takeover_gate).
            worker.prepare_handover()

            async def take_over() -> None:
                await lock.take_when_free_async()
                take_own_priority_back()
                log.info("the previous process let go; starting")

            start_before_the_gate(worker.app, take_over)
        let_go = False

        def let_a_successor_in() -> None:
            nonlocal let_go
            if let_go:
                return
            let_go = True
            # Before the data-dir lock goes: a warm successor opens these stores next.
            close_local_stores(worker.app, standbys_too=False)
            lock.release()
            _yield_cpu_to_a_successor()

        # Once the final commit is made, not at exit (stream.engine.release_after_commit).
        after_final_commit(worker.app, let_a_successor_in)
        try:
            faust_worker.execute_from_commandline()
        finally:
            let_a_successor_in()  # done already unless Faust stopped before its consumer
    finally:
        close_local_stores(worker.app)  # the standbys', opened by a successor a second later
        lock.close()
        worker.replica.stop()
        worker.follower.stop()
        left = worker.output.close() + worker.changelog.close() + worker.publisher.close()
        if left:
            log.error("%d output records were not delivered at shutdown", left)


def _yield_cpu_to_a_successor() -> None:
    """Lowest CPU priority from here on: the data-dir lock is released, offsets are committed
    and outputs flushed, and a warm successor may be joining and recovering this worker's
    partitions, which wait undecided until it fetches. What is left (closing the replica's and
    producers' clients, the interpreter's teardown) took this process 0.6-2.2 s after the lock
    in rolling restarts measured here; it must not compete with the successor for a core."""
    with contextlib.suppress(OSError):  # not allowed here: nothing lost but the head start
        os.nice(19)
    if os.getsid(0) == os.getpid():  # its own session: the share autogroups go by
        set_autogroup_nice(19)
