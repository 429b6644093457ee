"""Where the tests' Kafka broker comes from, in order of preference:

1. KAFKA_BOOTSTRAP_SERVERS, when set: a broker someone else runs (CI service, docker compose).
2. Testcontainers, when a Docker engine answers.
3. The repository's own launcher (stream.broker): a JVM on free loopback ports in a temp dir.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stream.broker import BrokerConfig, KafkaBroker, free_ports

# cp-kafka 7.9 ships Apache Kafka 3.9, the version the local launcher runs.
TESTCONTAINERS_IMAGE = "confluentinc/cp-kafka:7.9.0"


@dataclass(frozen=True)
class KafkaForTests:
    bootstrap: str
    source: str  # how it was provided, for the test report
    start_seconds: float


def docker_engine_answers(timeout: float = 2.0) -> bool:
    """True when a Docker engine answers a ping within `timeout` (a client alone is not enough)."""
    try:
        import docker

        client = docker.from_env(timeout=int(max(1, timeout)))
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # DockerException, connection errors: no usable engine either way
        return False


@contextlib.contextmanager
def kafka_for_tests(work_dir: Path) -> Iterator[KafkaForTests]:
    """Provide a broker for the whole session and stop it, if it was started here, at the end."""
    explicit = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if explicit:
        yield KafkaForTests(explicit, "KAFKA_BOOTSTRAP_SERVERS", 0.0)
        return
    started = time.monotonic()
    if docker_engine_answers():
        with _testcontainers_kafka() as bootstrap:
            yield KafkaForTests(bootstrap, "testcontainers", time.monotonic() - started)
        return
    port, controller_port = free_ports(2)
    config = BrokerConfig(work_dir=work_dir, port=port, controller_port=controller_port)
    with KafkaBroker(config) as broker:
        source = f"local launcher (pid {broker.pid}, logs in {config.logs_dir})"
        yield KafkaForTests(broker.bootstrap, source, time.monotonic() - started)


@contextlib.contextmanager
def _testcontainers_kafka() -> Iterator[str]:
    from testcontainers.community.kafka import KafkaContainer

    container = (
        KafkaContainer(TESTCONTAINERS_IMAGE)
        .with_kraft()
        # The container's defaults leave the transaction log at 3 replicas: no transactions.
        .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")
    )
    with container:
        yield container.get_bootstrap_server()
