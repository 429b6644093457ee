"""A local Apache Kafka broker for tests and demos on machines without Docker.

Framework-free: it starts a JVM and talks to it with confluent-kafka, nothing else.

    from stream.broker import BrokerConfig, KafkaBroker, free_ports
    port, controller_port = free_ports(2)
    with KafkaBroker(BrokerConfig(work_dir=tmp, port=port, controller_port=controller_port)) as b:
        ...  # b.bootstrap == "127.0.0.1:<port>"
"""

from stream.broker.config import DEFAULT_CONTROLLER_PORT, DEFAULT_PORT, BrokerConfig, BrokerSasl
from stream.broker.errors import (
    BrokerError,
    BrokerExitedError,
    BrokerStartTimeoutError,
    BrokerStateError,
    JarFetchError,
    JavaNotFoundError,
    JavaTooOldError,
    MavenNotFoundError,
    PortInUseError,
    StorageFormatError,
)
from stream.broker.jars import (
    DEFAULT_KAFKA_VERSION,
    cached_jar_dir,
    default_cache_root,
    ensure_jars,
)
from stream.broker.launcher import KafkaBroker, reset_work_dir
from stream.broker.ports import free_port, free_ports, port_is_free

__all__ = [
    "DEFAULT_CONTROLLER_PORT",
    "DEFAULT_KAFKA_VERSION",
    "DEFAULT_PORT",
    "BrokerConfig",
    "BrokerError",
    "BrokerExitedError",
    "BrokerSasl",
    "BrokerStartTimeoutError",
    "BrokerStateError",
    "JarFetchError",
    "JavaNotFoundError",
    "JavaTooOldError",
    "KafkaBroker",
    "MavenNotFoundError",
    "PortInUseError",
    "StorageFormatError",
    "cached_jar_dir",
    "default_cache_root",
    "ensure_jars",
    "free_port",
    "free_ports",
    "port_is_free",
    "reset_work_dir",
]
