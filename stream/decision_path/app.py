"""The Faust app factory: settings in, an app with nothing connected yet out."""

from __future__ import annotations

import faust
from faust.tables.manager import TableManager

from stream.engine.consumer import install_consumer
from stream.engine.known_topics import install_producer
from stream.engine.ordered_recovery import OrderedRecoveryTableManager
from stream.engine.prompt_restart import PromptTableStart, register_prompt_store
from stream.engine.sensors import drop_monitor
from stream.kafka_clients import faust_credentials
from stream.settings import Settings


def create_app(settings: Settings, known_topics: frozenset[str] = frozenset()) -> faust.App:
    """The worker's Faust app with the engine overrides; `known_topics` (the cluster's topics,
    as the worker's topic setup just listed them) are not declared again at start."""
    data_dir = settings.worker_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.app_id,
        broker=",".join(f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")),
        # TLS/SASL for every aiokafka client of Faust: consumers, producer, topic creation.
        broker_credentials=faust_credentials(settings.kafka),
        # Faust's RocksDB store (same files), without its full collections on a restart's path.
        store=register_prompt_store(),
        datadir=str(data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        processing_guarantee=settings.processing_guarantee,
        # Faust's 60 s default leaves a crashed worker's partitions unscored for a minute.
        broker_session_timeout=settings.session_timeout_s,
        TableManager=type(
            "EngineTableManager",
            (
                PromptTableStart,
                OrderedRecoveryTableManager if settings.ordered_recovery else TableManager,
            ),
            {},
        ),
        # Web server for /metrics, /health, /ready, /model, /consumer: loopback unless configured.
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        # Measured on these machines: bigger buffers, no waiting for empty streams.
        stream_buffer_maxsize=32_768,
        broker_max_poll_records=500,
        consumer_max_fetch_size=1024 * 1024,
        stream_wait_empty=False,
        # Faust's own producer only carries commits; outputs and changelogs go through librdkafka.
        producer_linger_ms=10,
        producer_max_batch_size=262_144,
        # Table values are already bytes; keys are ids.
        key_serializer="raw",
        value_serializer="raw",
        # Both are what keeps scoring going through restarts (README, Reliability): a restarted
        # static member gets its partitions back with no rebalance; a standby takes over warm.
        consumer_group_instance_id=settings.consumer_instance_id,
        table_standby_replicas=settings.standby_replicas,
        logging_config=None,
    )
    drop_monitor(app)
    install_producer(app, known_topics)
    install_consumer(
        app,
        settings.fetch_max_wait_ms,
        gapless_topics={settings.topics.transactions},
        fixes=settings.ordered_recovery,
        fetch_flow_wait_ms=settings.fetch_flow_wait_ms,
        fetch_flow_min_bytes=settings.fetch_flow_min_bytes,
    )
    return app
