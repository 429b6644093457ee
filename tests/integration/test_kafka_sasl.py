"""A secured cluster: SCRAM-SHA-512 over SASL_PLAINTEXT, ACLs enforced (StandardAuthorizer).

A worker configured through FRAUD_KAFKA__* (Faust's clients and its librdkafka producers and
consumers alike) decides end to end as a user holding only prefixed ACLs; a client with a wrong
password fails authentication; an authenticated user without ACLs is refused the topics. The
worker's web endpoints want the configured token, all but /health.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)
from pydantic import SecretStr

from schemas import Decision
from stream.broker import BrokerConfig, BrokerSasl, KafkaBroker, free_ports
from stream.kafka_clients import new_admin, new_producer
from stream.settings import KafkaSecurity, get_settings
from tests.support.clients import produce, wait_for_records
from tests.support.stream_setup import simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

pytestmark = pytest.mark.integration

WORKER_USER, WORKER_PASSWORD = "worker", "worker-secret"
INTRUDER_USER, INTRUDER_PASSWORD = "intruder", "intruder-secret"
WEB_TOKEN = "web-token-for-the-test"
EVENTS = 50


def _security(user: str, password: str) -> KafkaSecurity:
    return KafkaSecurity(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username=user,
        sasl_password=SecretStr(password),
    )


@pytest.fixture(scope="module")
def sasl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    port, controller_port = free_ports(2)
    sasl = BrokerSasl(users={WORKER_USER: WORKER_PASSWORD, INTRUDER_USER: INTRUDER_PASSWORD})
    config = BrokerConfig(
        work_dir=tmp_path_factory.mktemp("kafka-sasl"),
        port=port,
        controller_port=controller_port,
        sasl=sasl,
    )
    with KafkaBroker(config) as broker:
        yield broker


def _grant_worker(broker: KafkaBroker, app_id: str) -> None:
    """What a worker of `app_id` needs, by prefix: its topics, changelogs and groups."""
    sasl = broker.config.sasl
    assert sasl is not None
    admin = new_admin(broker.bootstrap, security=_security(sasl.admin_user, sasl.admin_password))
    principal = f"User:{WORKER_USER}"
    bindings = [
        AclBinding(
            resource,
            prefix,
            ResourcePatternType.PREFIXED,
            principal,
            "*",
            AclOperation.ALL,
            AclPermissionType.ALLOW,
        )
        for resource, prefix in (
            (ResourceType.TOPIC, "test."),  # the test's topics (tests.support.stream_setup)
            (ResourceType.TOPIC, app_id),  # changelogs, Faust's leader topic
            (ResourceType.GROUP, app_id),  # the worker's group and its merchant view's
            (ResourceType.GROUP, "test-reader-"),  # tests.support.clients' readers
        )
    ]
    for future in admin.create_acls(bindings, request_timeout=30).values():
        future.result(timeout=30)


def _get(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_secured_worker_decides_and_web_wants_its_token(
    sasl_broker: KafkaBroker,
    test_package: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client_env = {
        "FRAUD_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
        "FRAUD_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
        "FRAUD_KAFKA__SASL_USERNAME": WORKER_USER,
        "FRAUD_KAFKA__SASL_PASSWORD": WORKER_PASSWORD,
    }
    setup = stream_setup(
        sasl_broker.bootstrap,
        tmp_path / "var",
        test_package,
        "sasl",
        **client_env,
        FRAUD_WEB_TOKEN=WEB_TOKEN,
        # Not among stream_setup's per-test topics; here under the prefix the worker may use.
        FRAUD_TOPICS__DLQ_REPLAYS=f"test.sasl.dlq-replays.{tmp_path.name}",
    )
    _grant_worker(sasl_broker, setup.app_id)
    # This process's helpers connect as the deployment's settings say: as the worker's user.
    for name, value in client_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        events = simulated_events(limit=EVENTS)
        worker = StreamWorker(setup.env, tmp_path / "data", tmp_path / "worker.log")
        with worker.started():
            produce(sasl_broker.bootstrap, setup.topic("transactions"), events)
            decisions = wait_for_records(sasl_broker.bootstrap, setup.topic("decisions"), EVENTS)
            base = worker.base_url
            token = {"Authorization": f"Bearer {WEB_TOKEN}"}
            wrong = {"Authorization": "Bearer not-the-token"}
            statuses = {
                "health": _get(f"{base}/health"),
                "metrics without token": _get(f"{base}/metrics"),
                "metrics with a wrong token": _get(f"{base}/metrics", wrong),
                "faust's table router without token": _get(f"{base}/router/"),
                "ready without token": _get(f"{base}/ready"),
                "metrics with token": _get(f"{base}/metrics", token),
                "ready with token": _get(f"{base}/ready", token),
            }
    finally:
        get_settings.cache_clear()
    decided = {Decision.model_validate_json(r.value or b"").transaction_id for r in decisions}
    sent = {json.loads(value)["transaction_id"] for _, value in events}
    assert decided == sent
    assert statuses == {
        "health": 200,
        "metrics without token": 401,
        "metrics with a wrong token": 401,
        "faust's table router without token": 401,
        "ready without token": 401,
        "metrics with token": 200,
        "ready with token": 200,
    }


def _errors_of(security: KafkaSecurity, bootstrap: str, topic: str) -> list[Any]:
    """Errors a producer reports when it sends one record to `topic` as `security` says."""
    errors: list[Any] = []

    def on_delivery(error: KafkaError | None, _message: Any) -> None:
        if error is not None:
            errors.append(error.code())

    producer = new_producer(
        bootstrap,
        {"error_cb": lambda error: errors.append(error.code()), "message.timeout.ms": 10_000},
        security,
    )
    producer.produce(topic, b"refused?", on_delivery=on_delivery)
    producer.flush(15)
    return errors


def test_wrong_password_fails_authentication(sasl_broker: KafkaBroker) -> None:
    errors = _errors_of(
        _security(WORKER_USER, "not-the-password"), sasl_broker.bootstrap, "test.sasl.refused"
    )
    assert KafkaError._AUTHENTICATION in errors


def test_user_without_acls_is_refused_the_topics(sasl_broker: KafkaBroker) -> None:
    sasl = sasl_broker.config.sasl
    assert sasl is not None
    topic = "test.sasl.owned-by-others"
    admin = new_admin(
        sasl_broker.bootstrap, security=_security(sasl.admin_user, sasl.admin_password)
    )
    for future in admin.create_topics([NewTopic(topic, 1, 1)], request_timeout=30).values():
        future.result(timeout=30)
    errors = _errors_of(_security(INTRUDER_USER, INTRUDER_PASSWORD), sasl_broker.bootstrap, topic)
    assert KafkaError._AUTHENTICATION not in errors  # it did authenticate
    assert KafkaError.TOPIC_AUTHORIZATION_FAILED in errors
    intruder_admin = new_admin(
        sasl_broker.bootstrap, security=_security(INTRUDER_USER, INTRUDER_PASSWORD)
    )
    # Metadata hides what the user may not describe.
    assert topic not in intruder_admin.list_topics(timeout=10).topics
    stranger = new_admin(sasl_broker.bootstrap, security=_security("nobody", "x"))
    with pytest.raises(KafkaException):
        stranger.list_topics(timeout=5)
