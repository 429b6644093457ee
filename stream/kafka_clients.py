"""Every Kafka client of fraudstream is made here, so each one connects as configured.

The security block of the settings (`FRAUD_KAFKA__*`: TLS, SASL) reaches Faust's clients through
`faust_credentials` and every confluent-kafka client through `new_producer`, `new_consumer` and
`new_admin` (a unit test fails on a client constructed anywhere else in `stream/`).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient

from stream.settings import KafkaSecurity, get_settings

if TYPE_CHECKING:
    import faust


def librdkafka_security(security: KafkaSecurity) -> dict[str, Any]:
    """The security properties of a librdkafka (confluent-kafka) client."""
    config: dict[str, Any] = {"security.protocol": security.security_protocol}
    if security.uses_sasl:
        assert security.sasl_password is not None  # KafkaSecurity refuses SASL without one
        config["sasl.mechanism"] = security.sasl_mechanism
        config["sasl.username"] = security.sasl_username
        config["sasl.password"] = security.sasl_password.get_secret_value()
    if security.uses_ssl:
        if security.ssl_ca_file is not None:
            config["ssl.ca.location"] = str(security.ssl_ca_file)
        if security.ssl_cert_file is not None and security.ssl_key_file is not None:
            config["ssl.certificate.location"] = str(security.ssl_cert_file)
            config["ssl.key.location"] = str(security.ssl_key_file)
        if security.ssl_key_password is not None:
            config["ssl.key.password"] = security.ssl_key_password.get_secret_value()
        config["ssl.endpoint.identification.algorithm"] = (
            "https" if security.ssl_check_hostname else "none"
        )
    return config


def client_config(
    bootstrap: str, config: Mapping[str, Any] | None = None, security: KafkaSecurity | None = None
) -> dict[str, Any]:
    """`config` plus the brokers and the security properties, which no entry of it can replace.

    `security` defaults to this process's settings: a tool given only a bootstrap address
    still connects the way the deployment is configured.
    """
    chosen = get_settings().kafka if security is None else security
    return {**(config or {}), "bootstrap.servers": bootstrap, **librdkafka_security(chosen)}


def new_producer(
    bootstrap: str, config: Mapping[str, Any] | None = None, security: KafkaSecurity | None = None
) -> Producer:
    return Producer(client_config(bootstrap, config, security))


def new_consumer(
    bootstrap: str, config: Mapping[str, Any] | None = None, security: KafkaSecurity | None = None
) -> Consumer:
    return Consumer(client_config(bootstrap, config, security))


def new_admin(
    bootstrap: str, config: Mapping[str, Any] | None = None, security: KafkaSecurity | None = None
) -> AdminClient:
    return AdminClient(client_config(bootstrap, config, security))


def ssl_context(security: KafkaSecurity) -> ssl.SSLContext:
    """The TLS context of Faust's (aiokafka's) clients, the same trust as librdkafka's."""
    cafile = None if security.ssl_ca_file is None else str(security.ssl_ca_file)
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    context.check_hostname = security.ssl_check_hostname
    if security.ssl_cert_file is not None and security.ssl_key_file is not None:
        password = security.ssl_key_password
        context.load_cert_chain(
            str(security.ssl_cert_file),
            str(security.ssl_key_file),
            None if password is None else password.get_secret_value(),
        )
    return context


def faust_credentials(
    security: KafkaSecurity,
) -> faust.SASLCredentials | faust.SSLCredentials | None:
    """Faust's `broker_credentials`, None for PLAINTEXT.

    faust-streaming 0.15.3 hands them (`credentials_to_aiokafka_auth`) to its worker and client
    consumers, its producer and, through their clients, its topic creation.
    """
    import faust  # here: the command-line tools use this module and never need faust

    context = ssl_context(security) if security.uses_ssl else None
    if security.uses_sasl:
        assert security.sasl_password is not None
        # With an ssl_context Faust makes the protocol SASL_SSL, otherwise SASL_PLAINTEXT.
        return faust.SASLCredentials(
            username=security.sasl_username,
            password=security.sasl_password.get_secret_value(),
            mechanism=security.sasl_mechanism,
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None
