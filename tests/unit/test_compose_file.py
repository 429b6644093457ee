"""docker-compose.yml and the Dockerfile: they cannot run on Docker-less CI, so their structure,
the broker's listener wiring, health checks, start order and secrets are checked here
(`docker-compose config` checks the file against Compose's own schema where it is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.ops_tools import require_tool

REPO = Path(__file__).resolve().parents[2]
SECRETS = (
    "FRAUD_SIGNING_KEY",
    "FRAUD_WEB_TOKEN",
    "FRAUD_AUDIT__REDRIVE_KEY",
    "FRAUD_API_DECISION_KEY",
    "GRAFANA_ADMIN_PASSWORD",
)
FRAUDSTREAM = ("model-build", "worker-1", "worker-2", "monitor", "audit")
LONG_RUNNING = ("kafka", "worker-1", "worker-2", "monitor", "audit", "prometheus", "grafana")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


def _listeners(value: str) -> dict[str, str]:
    """'NAME://host:port,...' -> {NAME: 'host:port'}."""
    return dict(item.split("://", 1) for item in value.split(","))


def test_the_stack_has_every_service(services: dict[str, Any]) -> None:
    assert set(services) == {*LONG_RUNNING, "model-build"}


def test_kafka_is_a_single_node_kraft_broker_with_a_healthcheck(services: dict[str, Any]) -> None:
    kafka = services["kafka"]
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
    assert "--bootstrap-server kafka:9092" in kafka["healthcheck"]["test"][1]


def test_broker_listeners_are_wired_consistently(services: dict[str, Any]) -> None:
    env = services["kafka"]["environment"]
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


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name in LONG_RUNNING:
        check = services[name]["healthcheck"]
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_start_order_waits_for_health_and_for_the_model_build(services: dict[str, Any]) -> None:
    for worker in ("worker-1", "worker-2"):
        assert services[worker]["depends_on"] == {
            "kafka": {"condition": "service_healthy"},
            "model-build": {"condition": "service_completed_successfully"},
        }
    for reader in ("monitor", "audit"):  # they read topics the worker creates
        assert services[reader]["depends_on"] == {"worker-1": {"condition": "service_healthy"}}
    assert services["grafana"]["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    assert services["model-build"]["restart"] == "no"  # a one-shot job


def test_workers_and_monitor_load_the_package_the_build_job_writes(
    services: dict[str, Any],
) -> None:
    build = services["model-build"]
    package = build["environment"]["FRAUD_MODEL_PACKAGE"]
    # model build writes <FRAUD_VAR_DIR>/registry/packages/<name>-<version>.
    name = re.search(r'^name = "(.+)"$', (REPO / "config/training.toml").read_text(), re.M)
    assert name is not None
    command = build["command"][-1]
    version = re.search(r"--version ([^\s;]+)", command)
    assert version is not None
    var_dir = build["environment"]["FRAUD_VAR_DIR"]
    assert package == f"{var_dir}/registry/packages/{name[1]}-{version[1]}"
    assert "--config /app/config/training.toml" in command
    assert f"models:{var_dir}" in build["volumes"]
    for reader in ("worker-1", "worker-2", "monitor"):
        assert services[reader]["environment"]["FRAUD_MODEL_PACKAGE"] == package
        assert f"models:{var_dir}:ro" in services[reader]["volumes"], reader


def test_workers_have_their_own_identity_state_and_port(services: dict[str, Any]) -> None:
    workers = [services["worker-1"], services["worker-2"]]
    assert len({w["environment"]["FRAUD_WORKER_ID"] for w in workers}) == 2
    # RocksDB locks each table partition: two workers never share a state directory.
    states = [v for w in workers for v in w["volumes"] if v.endswith(":/var/lib/fraudstream")]
    assert len(set(states)) == 2
    for worker in workers:
        assert worker["command"] == ["fraudstream", "worker"]
        assert worker["environment"]["FRAUD_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert worker["environment"]["FRAUD_WEB_HOST"] == "0.0.0.0"


def test_published_ports_are_loopback_only_and_documented(services: dict[str, Any]) -> None:
    header = (REPO / "docker-compose.yml").read_text(encoding="utf-8").split("services:")[0]
    published = [port for service in services.values() for port in service.get("ports", [])]
    assert len(published) == 7
    for port in published:
        host, host_port, _ = port.split(":")
        assert host == "127.0.0.1", port
        assert host_port in header, f"{host_port} is not listed in the file's header"


def test_secrets_come_from_the_env_file_not_the_compose_file(services: dict[str, Any]) -> None:
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    example_keys = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    assert set(SECRETS) <= set(example_keys)
    assert not any(example_keys[key] for key in SECRETS), "the example must not carry a secret"
    assert ".env" in (REPO / ".gitignore").read_text().splitlines()
    assert ".env" in (REPO / ".dockerignore").read_text().splitlines()
    for name in FRAUDSTREAM:
        assert services[name]["env_file"] == ".env", name
    for name, service in services.items():
        for key, value in dict(service.get("environment", {})).items():
            if key in SECRETS:  # only ever a required reference to .env, never a value
                assert re.fullmatch(rf"\$\{{{key}:\?[^}}]+\}}", value), (name, key)


def test_prometheus_scrapes_every_process_and_loads_the_alert_rules(
    services: dict[str, Any],
) -> None:
    mounts = services["prometheus"]["volumes"]
    assert "./ops/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts
    config = yaml.safe_load((REPO / "ops/prometheus/prometheus.yml").read_text(encoding="utf-8"))
    assert config["rule_files"] == ["alerts.yml"]
    targets = {
        job["job_name"]: [t for group in job["static_configs"] for t in group["targets"]]
        for job in config["scrape_configs"]
    }
    assert targets["fraudstream-worker"] == ["worker-1:6066", "worker-2:6066"]
    # alerts.yml's DriftMonitorDown reads up{job="fraudstream-monitor"}.
    assert targets["fraudstream-monitor"] == ["monitor:6068"]
    assert targets["fraudstream-audit"] == ["audit:6069"]
    monitor_env = services["monitor"]["environment"]
    audit_env = services["audit"]["environment"]
    assert monitor_env["FRAUD_MONITOR__METRICS_HOST"] == "0.0.0.0"
    assert audit_env["FRAUD_AUDIT__METRICS_HOST"] == "0.0.0.0"
    # The workers' /metrics wants the web token: the file Prometheus reads it from is written
    # by the container's start command onto a tmpfs.
    token_file = next(
        job["authorization"]["credentials_file"]
        for job in config["scrape_configs"]
        if job["job_name"] == "fraudstream-worker"
    )
    assert token_file in services["prometheus"]["command"][0]
    assert str(Path(token_file).parent) in services["prometheus"]["tmpfs"]


def test_grafana_is_provisioned_with_the_datasource_and_dashboards(
    services: dict[str, Any],
) -> None:
    mounts = {m.split(":")[0]: m.split(":")[1] for m in services["grafana"]["volumes"]}
    assert mounts["./ops/grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = yaml.safe_load(
        (REPO / "ops/grafana/provisioning/dashboards/fraudstream.yml").read_text(encoding="utf-8")
    )
    assert mounts["./ops/grafana/dashboards"] == provider["providers"][0]["options"]["path"]
    datasource = yaml.safe_load(
        (REPO / "ops/grafana/provisioning/datasources/prometheus.yml").read_text(encoding="utf-8")
    )["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"


def test_dockerfile_installs_dependencies_before_copying_the_code() -> None:
    lines = [
        line.strip()
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[0] == "FROM python:3.11-slim"
    first_code = lines.index("COPY stream ./stream")
    dependencies = next(i for i, line in enumerate(lines) if "-r /tmp/requirements.txt" in line)
    assert dependencies < first_code
    assert any(line == "RUN pip install --no-deps -c constraints.txt ." for line in lines)
    assert lines[-1] == 'CMD ["fraudstream", "worker"]'


def test_the_image_carries_no_test_dependency() -> None:
    document = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    runtime = document.split("dependencies = [", 1)[1].split("]\n", 1)[0]
    assert "testcontainers" not in runtime
    assert "PyYAML" not in runtime
    for package in ("schemas", "models", "stream"):
        for path in (REPO / package).rglob("*.py"):
            assert "testcontainers" not in path.read_text(encoding="utf-8"), path


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    docker_compose = require_tool("docker-compose")
    # Run on a copy beside a throw-away .env, so the user's own .env is neither needed nor read.
    for name in ("docker-compose.yml", ".env.example"):
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / ".env").write_text("".join(f"{key}=x-{key.lower()}-value\n" for key in SECRETS))
    done = subprocess.run(
        [docker_compose, "--project-directory", str(tmp_path), "config", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
