"""Where a local broker keeps its files and how its server.properties reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from stream.broker.jars import DEFAULT_KAFKA_VERSION
from stream.broker.ports import LOOPBACK

DEFAULT_PORT = 9092
DEFAULT_CONTROLLER_PORT = 9093


@dataclass(frozen=True)
class BrokerSasl:
    """Clients must authenticate with SCRAM and are authorised by ACLs (StandardAuthorizer).

    The client listener becomes SASL_PLAINTEXT (loopback: no TLS). `admin` is a super user;
    `users` are further SCRAM users, created with the storage format and granted nothing:
    a test gives them ACLs through the admin. Names and passwords must avoid `,=[]"`.
    """

    admin_user: str = "admin"
    admin_password: str = "admin-secret"
    mechanism: str = "SCRAM-SHA-512"
    users: Mapping[str, str] = field(default_factory=dict, hash=False)

    def credentials(self) -> dict[str, str]:
        """Every SCRAM user, the admin included: name → password."""
        return {self.admin_user: self.admin_password, **self.users}

    def admin_client_config(self) -> dict[str, str]:
        """librdkafka properties of a client that connects as the admin."""
        return {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": self.mechanism,
            "sasl.username": self.admin_user,
            "sasl.password": self.admin_password,
        }


GcCollector = Literal["g1", "zgc", "shenandoah"]


@dataclass(frozen=True)
class BrokerConfig:
    """One single-node KRaft broker (broker and controller in one JVM) in `work_dir`.

    `overrides` replaces or adds server.properties entries, e.g. for a test that needs
    a short retention; the generated defaults suit tests and local demos.
    """

    work_dir: Path
    port: int = DEFAULT_PORT
    controller_port: int = DEFAULT_CONTROLLER_PORT
    host: str = LOOPBACK
    kafka_version: str = DEFAULT_KAFKA_VERSION
    cache_root: Path | None = None
    heap: str = "512m"
    # False: the JVM's quick (C1) compiler only, the default for brokers that share a small
    # machine with their clients for minutes (tests, demos, benchmarks); True: the JVM's
    # default tiered compilation (C1 then C2), as a long-running production broker has.
    optimising_jit: bool = False
    gc_pause_target_ms: int = 20
    """G1's pause-time goal (-XX:MaxGCPauseMillis; 20 as in Kafka's start scripts): G1 then
    paused this broker ~10 ms (up to 18) every 4-5 s under the API benchmark. 5 gave ~5 ms
    pauses (up to 15) three to four times as often, and no API p99 shown better through the
    sittings' noise (docs/performance.md), so the default stays Kafka's."""
    gc_collector: GcCollector = "g1"
    """The JVM's collector: "g1" (Kafka's), or "zgc" / "shenandoah", whose pauses do not grow
    with the heap's young generation (sub-millisecond on JDK 17) at the price of concurrent
    collector threads on the same cores. `gc_pause_target_ms` applies to G1 only."""
    node_id: int = 1
    overrides: Mapping[str, str] = field(default_factory=dict, hash=False)
    sasl: BrokerSasl | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.work_dir / "data"

    @property
    def logs_dir(self) -> Path:
        return self.work_dir / "logs"

    @property
    def server_log(self) -> Path:
        return self.logs_dir / "server.log"

    @property
    def console_log(self) -> Path:
        """The JVM's own stdout/stderr: what is printed before log4j is set up lands here."""
        return self.logs_dir / "console.log"

    @property
    def gc_log(self) -> Path:
        """The JVM's garbage-collection log (pauses: whether a latency spike was the broker's)."""
        return self.logs_dir / "gc.log"

    @property
    def properties_path(self) -> Path:
        return self.work_dir / "server.properties"

    @property
    def log4j_path(self) -> Path:
        return self.work_dir / "log4j.properties"


def server_properties(config: BrokerConfig) -> dict[str, str]:
    """The broker's settings: a loopback-only, single-replica cluster that starts quickly."""
    host, node = config.host, config.node_id
    properties = {
        "process.roles": "broker,controller",
        "node.id": str(node),
        # Static quorum: `format` needs no --standalone/--initial-controllers, and the
        # voter set never changes for a single node.
        "controller.quorum.voters": f"{node}@{host}:{config.controller_port}",
        "listeners": f"PLAINTEXT://{host}:{config.port},CONTROLLER://{host}:{config.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{host}:{config.port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(config.data_dir),
        # One broker: every internal topic must accept a single replica.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        # Fewer internal partitions than the default 50 make the first consumer group and the
        # first transaction ready in well under a second.
        "offsets.topic.num.partitions": "8",
        "transaction.state.log.num.partitions": "8",
        # Consumer groups start at once instead of waiting 3 s for more members.
        "group.initial.rebalance.delay.ms": "0",
        # Faust creates some internal topics (e.g. its leader-assignor topic) by first use.
        "auto.create.topics.enable": "true",
        "num.partitions": "1",
        "delete.topic.enable": "true",
        # Small segments and bounded retention keep a test or demo broker's disk use small.
        "log.segment.bytes": str(16 * 1024 * 1024),
        "log.retention.hours": "24",
        "log.retention.bytes": str(256 * 1024 * 1024),
        "log.retention.check.interval.ms": "60000",
        # The compaction buffer is allocated whole; 128 MiB by default is a quarter of the heap.
        "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
        "num.network.threads": "2",
        "num.io.threads": "4",
    }
    if config.sasl is not None:
        properties.update(sasl_properties(config, config.sasl))
    properties.update(config.overrides)
    return properties


def sasl_properties(config: BrokerConfig, sasl: BrokerSasl) -> dict[str, str]:
    """A SASL_PLAINTEXT client (and inter-broker) listener, SCRAM, ACLs enforced."""
    host, listener = config.host, "SASL_PLAINTEXT"
    mechanism = sasl.mechanism.lower()
    return {
        "listeners": f"{listener}://{host}:{config.port},CONTROLLER://{host}:{config.controller_port}",
        "advertised.listeners": f"{listener}://{host}:{config.port}",
        "inter.broker.listener.name": listener,
        "listener.security.protocol.map": f"{listener}:{listener},CONTROLLER:PLAINTEXT",
        "sasl.enabled.mechanisms": sasl.mechanism,
        "sasl.mechanism.inter.broker.protocol": sasl.mechanism,
        f"listener.name.{listener.lower()}.{mechanism}.sasl.jaas.config": (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{sasl.admin_user}" password="{sasl.admin_password}";'
        ),
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        # The controller listener stays PLAINTEXT on loopback, so the node's own broker-to-
        # controller requests arrive as ANONYMOUS and must be allowed; clients only ever reach
        # the SASL listener (advertised alone).
        "super.users": f"User:{sasl.admin_user};User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
    }


def scram_format_args(sasl: BrokerSasl) -> list[str]:
    """`kafka-storage format` arguments that create the SCRAM users with the cluster."""
    args: list[str] = []
    for name, password in sasl.credentials().items():
        args += ["--add-scram", f"{sasl.mechanism}=[name={name},password={password}]"]
    return args


def render_properties(properties: Mapping[str, str]) -> str:
    """Java .properties text; values here hold no backslashes or newlines, so none are escaped."""
    lines = ["# Generated by fraudstream's broker launcher; rewritten at every start."]
    lines += [f"{key}={value}" for key, value in properties.items()]
    return "\n".join(lines) + "\n"
