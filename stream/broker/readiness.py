"""Telling whether a broker answers clients yet."""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from typing import Any

from confluent_kafka.admin import AdminClient

# librdkafka reports every refused connection; while a broker boots that is expected noise,
# so it goes to a logger instead of stderr.
_librdkafka_log = logging.getLogger("stream.broker.readiness")


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when a TCP connection to host:port succeeds: the cheap check before a client call."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def metadata_answers(
    bootstrap: str,
    cluster_id: str | None = None,
    timeout: float = 3.0,
    client_config: Mapping[str, str] | None = None,
) -> bool:
    """True when the cluster answers a metadata request and lists at least one broker.

    With `cluster_id`, only that cluster counts: another broker that grabbed the port first
    answers too, and must not be mistaken for the one being started.
    """
    # The stubs type config values as scalars; librdkafka's Python binding also takes a logger.
    settings: dict[str, Any] = {
        **(client_config or {}),  # how to reach a secured listener (SASL)
        "bootstrap.servers": bootstrap,
        "logger": _librdkafka_log,
    }
    admin = AdminClient(settings)
    try:
        metadata = admin.list_topics(timeout=timeout)
    except Exception:  # KafkaException on timeout; any failure only means "not yet"
        return False
    if cluster_id is not None and metadata.cluster_id != cluster_id:
        return False
    return bool(metadata.brokers)
