"""Security by configuration: the signing key guard, Kafka TLS/SASL settings, the web token."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import faust
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import SecretStr, ValidationError
from typer.testing import CliRunner

from stream.broker.config import BrokerConfig, BrokerSasl, scram_format_args, server_properties
from stream.cli import app as cli
from stream.decision_path.app import create_app
from stream.decision_path.web_auth import bearer_token_matches, protect_web
from stream.kafka_clients import client_config, faust_credentials
from stream.settings import DEV_SIGNING_KEY, KafkaSecurity, Settings, get_settings
from stream.signing_keys import DevSigningKeyRefused, package_signing_key, run_signing_key

STREAM = Path(__file__).resolve().parents[2] / "stream"
SCRAM = KafkaSecurity(
    security_protocol="SASL_PLAINTEXT",
    sasl_mechanism="SCRAM-SHA-512",
    sasl_username="worker",
    sasl_password=SecretStr("s3cret"),
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FRAUD_SIGNING_KEY", "FRAUD_ALLOW_DEV_SIGNING_KEY", "FRAUD_MODEL_PACKAGE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()


# The signing key.


def test_development_key_is_refused_naming_the_variables(clean_env: None) -> None:
    with pytest.raises(DevSigningKeyRefused) as refused:
        package_signing_key(Settings())
    assert "FRAUD_SIGNING_KEY" in str(refused.value)
    assert "FRAUD_ALLOW_DEV_SIGNING_KEY=true" in str(refused.value)


def test_development_key_is_accepted_when_explicitly_allowed(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRAUD_ALLOW_DEV_SIGNING_KEY", "true")
    assert package_signing_key(Settings()) == DEV_SIGNING_KEY.encode()


def test_a_configured_key_is_used_as_is(clean_env: None) -> None:
    settings = Settings(signing_key=SecretStr("registry-key"))
    assert package_signing_key(settings) == b"registry-key"
    assert run_signing_key(settings) == "registry-key"


def test_demo_and_chaos_runs_sign_with_a_fresh_key_instead_of_the_public_one(
    clean_env: None,
) -> None:
    first, second = run_signing_key(Settings()), run_signing_key(Settings())
    assert DEV_SIGNING_KEY not in (first, second)
    assert first != second and len(first) >= 32


def test_worker_command_refuses_to_start_with_the_development_key(clean_env: None) -> None:
    # Refused before anything connects: no broker is listening on this address.
    result = CliRunner().invoke(
        cli, ["worker"], env={"FRAUD_KAFKA_BOOTSTRAP": "127.0.0.1:1"}, catch_exceptions=False
    )
    assert result.exit_code == 2
    assert "FRAUD_ALLOW_DEV_SIGNING_KEY" in result.stderr


def test_model_commands_refuse_the_development_key(clean_env: None, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["model", "verify", str(tmp_path)])
    assert result.exit_code == 2
    assert "FRAUD_SIGNING_KEY is not set" in result.stderr


# Kafka TLS and SASL.


def test_sasl_needs_a_username_and_password() -> None:
    with pytest.raises(ValidationError, match="FRAUD_KAFKA__SASL_PASSWORD"):
        KafkaSecurity(security_protocol="SASL_SSL", sasl_username="worker")


def test_a_client_certificate_needs_its_key() -> None:
    with pytest.raises(ValidationError, match="FRAUD_KAFKA__SSL_KEY_FILE"):
        KafkaSecurity(security_protocol="SSL", ssl_cert_file=Path("client.pem"))


def test_tls_files_without_a_tls_protocol_are_refused() -> None:
    with pytest.raises(ValidationError, match="use SSL or SASL_SSL"):
        KafkaSecurity(ssl_ca_file=Path("ca.pem"))


def test_security_is_read_from_nested_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRAUD_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("FRAUD_KAFKA__SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("FRAUD_KAFKA__SASL_USERNAME", "worker")
    monkeypatch.setenv("FRAUD_KAFKA__SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("FRAUD_KAFKA__SSL_CA_FILE", "/etc/kafka/ca.pem")
    monkeypatch.setenv("FRAUD_KAFKA_BOOTSTRAP", "kafka:9093")
    settings = Settings()
    assert settings.kafka_bootstrap == "kafka:9093"
    assert settings.kafka.sasl_password == SecretStr("s3cret")
    assert "s3cret" not in repr(settings)
    assert client_config(settings.kafka_bootstrap, security=settings.kafka) == {
        "bootstrap.servers": "kafka:9093",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.username": "worker",
        "sasl.password": "s3cret",
        "ssl.ca.location": "/etc/kafka/ca.pem",
        "ssl.endpoint.identification.algorithm": "https",
    }


def test_no_client_setting_can_replace_the_security_properties() -> None:
    config = client_config("b:9092", {"security.protocol": "PLAINTEXT", "acks": "all"}, SCRAM)
    assert config["security.protocol"] == "SASL_PLAINTEXT"
    assert config["acks"] == "all"


def test_tools_given_only_an_address_connect_as_the_settings_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FRAUD_KAFKA__SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("FRAUD_KAFKA__SASL_USERNAME", "tool")
    monkeypatch.setenv("FRAUD_KAFKA__SASL_PASSWORD", "pw")
    get_settings.cache_clear()
    try:
        config = client_config("b:9092")
    finally:
        get_settings.cache_clear()
    assert config["sasl.username"] == "tool" and config["sasl.mechanism"] == "SCRAM-SHA-512"


def test_faust_app_gets_the_same_credentials(tmp_path: Path) -> None:
    app = create_app(Settings(kafka=SCRAM, var_dir=tmp_path))
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    # What faust-streaming 0.15.3 hands to each aiokafka consumer and its producer.
    auth = credentials_to_aiokafka_auth(credentials, app.conf.ssl_context)
    assert auth["security_protocol"] == "SASL_PLAINTEXT"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (auth["sasl_plain_username"], auth["sasl_plain_password"]) == ("worker", "s3cret")


def test_faust_over_tls_gets_an_ssl_context() -> None:
    tls = faust_credentials(KafkaSecurity(security_protocol="SSL"))
    assert isinstance(tls, faust.SSLCredentials)
    sasl_tls = faust_credentials(SCRAM.model_copy(update={"security_protocol": "SASL_SSL"}))
    assert isinstance(sasl_tls, faust.SASLCredentials)
    assert credentials_to_aiokafka_auth(sasl_tls)["security_protocol"] == "SASL_SSL"
    assert faust_credentials(KafkaSecurity()) is None


def test_every_kafka_client_is_built_by_the_factory() -> None:
    """No confluent-kafka client constructed in stream/ but through stream.kafka_clients.

    The broker launcher's readiness probe is the one exception: it connects as the broker's
    own admin, to a broker it started, and knows no deployment settings.
    """
    allowed = {STREAM / "kafka_clients.py", STREAM / "broker" / "readiness.py"}
    offenders = []
    for path in sorted(STREAM.rglob("*.py")):
        if path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in {"Producer", "Consumer", "AdminClient", "SerializingProducer"}:
                    offenders.append(f"{path.relative_to(STREAM.parent)}:{node.lineno}")
    assert offenders == []


def test_sasl_broker_listens_with_scram_and_enforces_acls(tmp_path: Path) -> None:
    sasl = BrokerSasl(users={"worker": "w"})
    properties = server_properties(BrokerConfig(work_dir=tmp_path, port=1, sasl=sasl))
    assert properties["advertised.listeners"] == "SASL_PLAINTEXT://127.0.0.1:1"
    assert properties["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert properties["authorizer.class.name"].endswith("StandardAuthorizer")
    assert properties["allow.everyone.if.no.acl.found"] == "false"
    assert scram_format_args(sasl) == [
        "--add-scram",
        "SCRAM-SHA-512=[name=admin,password=admin-secret]",
        "--add-scram",
        "SCRAM-SHA-512=[name=worker,password=w]",
    ]


# The web token.


def test_bearer_token_comparison() -> None:
    assert bearer_token_matches("Bearer t0ken", "t0ken")
    assert bearer_token_matches("bearer t0ken", "t0ken")
    assert not bearer_token_matches("Bearer t0ken-", "t0ken")
    assert not bearer_token_matches("Basic t0ken", "t0ken")
    assert not bearer_token_matches(None, "t0ken")


async def _statuses(token: str | None, headers: dict[str, str]) -> dict[str, int]:
    async def ok(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    application = web.Application()
    for path in ("/health", "/metrics", "/ready", "/router/"):
        application.router.add_get(path, ok)
    protect_web(application, token)
    async with TestClient(TestServer(application)) as client:
        statuses = {}
        for path in ("/health", "/metrics", "/ready", "/router/"):
            response = await client.get(path, headers=headers)
            statuses[path] = response.status
        return statuses


def test_with_a_token_only_health_is_open() -> None:
    assert asyncio.run(_statuses("t0ken", {})) == {
        "/health": 200,
        "/metrics": 401,
        "/ready": 401,
        "/router/": 401,
    }
    authorised = asyncio.run(_statuses("t0ken", {"Authorization": "Bearer t0ken"}))
    assert set(authorised.values()) == {200}


def test_without_a_token_everything_stays_open() -> None:
    assert set(asyncio.run(_statuses(None, {})).values()) == {200}
