"""docker-compose.yml and the Dockerfile: they cannot run on Docker-less CI, so their structure
and the broker's listener wiring are checked here (`docker-compose config` checks the syntax)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.compose_yaml import load

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = load((REPO / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _listeners(value: str) -> dict[str, str]:
    """'NAME://host:port,...' -> {NAME: 'host:port'}."""
    return dict(item.split("://", 1) for item in value.split(","))


def test_services_are_the_broker_and_the_worker(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"kafka", "worker"}


def test_kafka_is_a_single_node_kraft_broker_with_a_healthcheck(compose: dict[str, Any]) -> None:
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == "apache/kafka:3.9.1"
    env = kafka["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    for single_replica in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[single_replica] == "1"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "true"
    assert len(env["CLUSTER_ID"]) == 22  # a base64url-encoded UUID, as kafka-storage demands

    check = kafka["healthcheck"]
    assert check["test"][0] == "CMD-SHELL"
    assert "--bootstrap-server kafka:9092" in check["test"][1]
    assert {"interval", "timeout", "retries"} <= set(check)


def test_broker_listeners_are_wired_consistently(compose: dict[str, Any]) -> None:
    env = compose["services"]["kafka"]["environment"]
    listeners = _listeners(env["KAFKA_LISTENERS"])
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(
        item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )

    assert set(listeners) <= set(protocols)
    assert set(advertised) <= set(listeners)
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] in listeners
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] not in advertised
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    # Inside the compose network the broker is reached as kafka:9092.
    assert "kafka:9092" in advertised.values()
    internal = next(name for name, address in advertised.items() if address == "kafka:9092")
    assert listeners[internal].endswith(":9092")


def test_worker_waits_for_a_healthy_broker_and_uses_its_network_name(
    compose: dict[str, Any],
) -> None:
    worker = compose["services"]["worker"]
    assert worker["build"]["context"] == "."
    assert (REPO / worker["build"]["dockerfile"]).is_file()
    assert worker["command"] == ["fraudstream", "worker"]
    assert worker["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert worker["environment"]["FRAUD_KAFKA_BOOTSTRAP"] == "kafka:9092"


def test_dockerfile_installs_the_project_on_python_311_slim() -> None:
    lines = [
        line.strip()
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[0] == "FROM python:3.11-slim"
    assert any(
        line.startswith("RUN pip install") and "-c constraints.txt ." in line for line in lines
    )
    assert lines[-1] == 'CMD ["fraudstream", "worker"]'


def test_the_yaml_reader_refuses_what_it_does_not_understand() -> None:
    assert load("a:\n  b: [x, 'y z', 3]\n  c:\n    - \"q # not a comment\"  # a comment\n") == {
        "a": {"b": ["x", "y z", 3], "c": ["q # not a comment"]}
    }
    for unsupported in ("a: &anchor 1\n", "a: |\n  text\n", "a:\n  - b: c\n", "a: {b: c}\n"):
        with pytest.raises(ValueError):
            load(unsupported)
