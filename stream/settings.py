"""The one settings object. Only this module reads the environment (prefix FRAUD_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.decision import FallbackMode
from models.features.windows import LONGEST_WINDOW_MS, SHORTEST_WINDOW_MS
from schemas.drift import AlertThresholds


class TopicNames(BaseModel):
    """Topic names; override one with e.g. FRAUD_TOPICS__DECISIONS=my.decisions."""

    model_config = {"frozen": True}

    transactions: str = "fraud.transactions.v1"
    dead_letters: str = "fraud.transactions.dlq.v1"
    decisions: str = "fraud.decisions.v1"
    scoring_log: str = "fraud.scoring-log.v1"
    labels: str = "fraud.labels.v1"
    drift_reports: str = "fraud.drift-reports.v1"
    model_control: str = "fraud.model-control.v1"
    audit: str = "fraud.outcome-audit.v1"
    dlq_replays: str = "fraud.transactions.dlq-replays.v1"


class MonitorSettings(BaseModel):
    """The drift monitor (`fraudstream monitor run`); e.g. FRAUD_MONITOR__WINDOW_KIND=count."""

    model_config = {"frozen": True}

    group_id: str = Field(default="fraudstream-monitor", description="Its consumer group")
    window_kind: Literal["time", "count"] = "time"
    window_seconds: float = Field(default=86_400.0, gt=0, description="Time windows, event time")
    window_events: int = Field(default=50_000, ge=1, description="Count windows")
    prediction_span: int = Field(
        default=7,
        ge=1,
        description="Windows (of a day or longer; of shorter windows: days of them) the score "
        "and decision rates are compared over",
    )
    idle_close_s: float = Field(
        default=60.0,
        ge=0,
        description="Close an open window of ≥ min_events after this long without input; 0: never",
    )
    label_maturity_days: float = Field(
        default=60.0, ge=0, description="Unlabelled this long after the event: genuine"
    )
    join_max_entries: int = Field(default=1_000_000, ge=1)
    early_labels_max: int = Field(default=100_000, ge=0)
    performance_window: int = Field(default=50_000, ge=1, description="Matured events per model")
    rebuild_join_state: bool = Field(
        default=True, description="On start, re-read the last maturity period to refill the join"
    )
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=6068, ge=0, le=65535, description="0: no /metrics server")
    thresholds: AlertThresholds = AlertThresholds()


class AuditSettings(BaseModel):
    """The outcome audit (`fraudstream audit run`); e.g. FRAUD_AUDIT__GRACE_S=30."""

    model_config = {"frozen": True}

    group_id: str = Field(default="fraudstream-audit", description="Commits its input offsets")
    grace_s: float = Field(default=60.0, gt=0, description="How long an input awaits its outcome")
    max_redrives: int = Field(default=2, ge=0, description="Re-drives before an input is lost")
    window_s: float = Field(default=10.0, gt=0, description="Inputs read this long form a window")
    window_max_inputs: int = Field(default=50_000, ge=1)
    restart_margin_s: float = Field(
        default=300.0, ge=0, description="On start, re-read outcomes from this long before"
    )
    outcome_ttl_s: float = Field(default=600.0, gt=0, description="Outcome ids kept this long")
    max_outcomes: int = Field(default=1_000_000, ge=1, description="Most outcome ids kept")
    max_pending: int = Field(default=500_000, ge=1, description="Pause inputs above this")
    start_from: Literal["earliest", "latest"] = Field(
        default="latest", description="Where a new consumer group starts on the input topic"
    )
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=6069, ge=0, le=65535, description="0: no /metrics server")
    # Its own key, not the package-signing key: only the audit needs it (workers never read
    # re-drive headers), and whoever signs packages should not be able to hide inputs from it.
    redrive_key: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Seals the audit's re-drive copies (HMAC-SHA256); unset: a random key per "
        "audit process, so copies made before a restart count as ordinary inputs",
    )


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"]
DEV_SIGNING_KEY = "fraudstream-dev-signing-key-change-me"


class KafkaSecurity(BaseModel):
    """How every Kafka client connects; e.g. FRAUD_KAFKA__SECURITY_PROTOCOL=SASL_SSL.

    One block for Faust's clients and every confluent-kafka client alike
    (`stream.kafka_clients` turns it into each library's terms).
    """

    model_config = {"frozen": True}

    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_file: Path | None = Field(
        default=None, description="PEM CA bundle the brokers' certificates are checked against"
    )
    ssl_cert_file: Path | None = Field(default=None, description="PEM client certificate (mTLS)")
    ssl_key_file: Path | None = Field(default=None, description="PEM key of the client certificate")
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = Field(
        default=True, description="Check the broker's certificate names its host"
    )

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_ssl(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @model_validator(mode="after")
    def _complete(self) -> KafkaSecurity:
        # Half a configuration would silently connect another way than intended (or not at all).
        if self.uses_sasl and (not self.sasl_username or self.sasl_password is None):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs FRAUD_KAFKA__SASL_USERNAME "
                "and FRAUD_KAFKA__SASL_PASSWORD"
            )
        if (self.ssl_cert_file is None) != (self.ssl_key_file is None):
            raise ValueError(
                "a client certificate needs its key: set both FRAUD_KAFKA__SSL_CERT_FILE and "
                "FRAUD_KAFKA__SSL_KEY_FILE, or neither"
            )
        ssl_only = (self.ssl_ca_file, self.ssl_cert_file, self.ssl_key_password)
        if not self.uses_ssl and any(value is not None for value in ssl_only):
            raise ValueError(
                f"TLS files are set but security_protocol is {self.security_protocol}: "
                "use SSL or SASL_SSL"
            )
        return self


class Settings(BaseSettings):
    """Every knob of fraudstream; each field is read from FRAUD_<NAME> (nested: FRAUD_A__B)."""

    model_config = SettingsConfigDict(
        env_prefix="FRAUD_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    # Kafka. KAFKA_BOOTSTRAP_SERVERS (no prefix) is honoured too, as test tooling sets it.
    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices("FRAUD_KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP_SERVERS"),
        description="Comma-separated host:port list of the Kafka brokers",
    )
    kafka: KafkaSecurity = KafkaSecurity()
    topics: TopicNames = TopicNames()
    partitions: int = Field(default=4, ge=1, description="Partitions of the input and state topics")
    replication_factor: int = Field(default=1, ge=1)

    # The stream worker.
    app_id: str = Field(default="fraudstream", description="Consumer group and changelog prefix")
    worker_id: str = Field(default="worker-1", description="Names this worker in logs and records")
    var_dir: Path = Field(default=Path("var"), description="Root of local runtime state")
    data_dir: Path | None = Field(
        default=None, description="RocksDB tables; default var/workers/<app_id>/<worker_id>"
    )
    web_host: str = Field(default="127.0.0.1", description="Bind address of /metrics, /health")
    web_port: int = Field(default=6066, ge=1, le=65535, description="Port of the web endpoints")
    web_token: SecretStr | None = Field(
        default=None,
        description="When set, every web endpoint but /health wants `Authorization: Bearer <it>`",
    )
    api_timeout_ms: int = Field(
        default=2_000,
        ge=10,
        le=60_000,
        description="How long POST /v1/score waits for the broker to acknowledge the decided "
        "transaction before answering 503 (retry it: a retry gets the same decision)",
    )
    api_max_batch: int = Field(
        default=100, ge=1, le=10_000, description="Most transactions in one POST /v1/score:batch"
    )
    # Its own key, not the audit's re-drive key: whoever holds one must not be able to make
    # the other's seals (a worker could hide inputs from the audit; the audit could plant
    # decisions). One per cluster: the worker that applies a record may not be the one that
    # decided it (a rebalance, a restart).
    api_decision_key: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Seals the decisions POST /v1/score made, carried on the published input "
        "(HMAC-SHA256), the same on every worker of the group; unset: the online API answers "
        "503 (with FRAUD_ALLOW_DEV_SIGNING_KEY=true, a public development key is used)",
    )
    api_noop_endpoint: bool = Field(
        default=False,
        description="Serve POST /v1/noop (reads the body, answers {}): the benchmark's baseline",
    )
    processing_guarantee: Literal["at_least_once"] = Field(
        default="at_least_once",
        description="Only at_least_once: outputs and state changelogs are written through "
        "librdkafka, outside Faust's transactions, so exactly_once could not cover them; "
        "consumers de-duplicate decisions by decision_id instead",
    )
    log_level: str = "INFO"
    ordered_recovery: bool = Field(
        default=True,
        description="The engine fixes of stream.engine (resume order, positioning, "
        "stale-record guard); false only to reproduce the faust-streaming defects they fix",
    )
    session_timeout_s: float = Field(
        default=20.0,
        ge=6,
        description="A worker silent this long (crashed) loses its partitions to the others",
    )
    fetch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        le=1500,
        description="Idle broker long-poll per fetch of the input (Faust hard-codes 1500): "
        "what an idle worker costs the broker, and the longest a record can wait at low rates",
    )
    fetch_flow_wait_ms: int = Field(
        default=5,
        ge=1,
        le=1500,
        description="While records flow, the longest a fetch of the input waits; a partition "
        "left out of a fetch (its records still being handed over) can wait this long",
    )
    fetch_flow_min_bytes: int = Field(
        default=1,
        ge=1,
        le=1_048_576,
        description="While records flow, the bytes a fetch of the input waits for (at most "
        "fetch_flow_wait_ms): 1 answers at the first record; a few KB gathers records into "
        "fewer requests, less CPU in the worker and the broker for up to that wait of latency",
    )
    static_membership: bool = Field(
        default=True,
        description="Join the consumer group as a static member (KIP-345): a worker back within "
        "session_timeout_s gets its partitions again without a rebalance of the group",
    )
    group_instance_id: str | None = Field(
        default=None,
        description="The worker's static member id, unique in the group; default: worker_id",
    )
    standby_replicas: int = Field(
        default=1,
        ge=0,
        description="Warm copies of each state-table partition on other workers (only when "
        "more than one runs): a taken-over partition scores without a changelog replay",
    )
    successor_boot_nice: int = Field(
        default=19,
        ge=0,
        le=19,
        description="A warm successor's CPU priority (nice) while it boots beside the process it "
        "replaces; it takes the worker's own back at takeover. 0: boot at full priority",
    )
    stuck_commit_after_s: float = Field(
        default=60.0, gt=0, description="Report a partition whose commit stalls this long"
    )

    # Scoring.
    model_package: Path | None = Field(default=None, description="Champion package directory")
    latency_budget_ms: float = Field(
        default=50.0,
        gt=0,
        description="Budget from the input record's Kafka timestamp to the decision; an event "
        "already older when its batch is scored gets the fallback decision",
    )
    fallback: FallbackMode = Field(
        default=FallbackMode.RULES_ONLY, description="Decision when no model answers in time"
    )
    max_batch: int = Field(
        default=256,
        ge=1,
        description="Most events per micro-batch (one model call); a batch is what is queued "
        "when the agent takes a record, so nothing waits for a batch to fill",
    )
    scoring_threads: int = Field(
        default=1, ge=1, le=64, description="Threads of one model call (treelite predictor)"
    )
    changelog_compression: Literal["none", "lz4", "zstd", "snappy", "gzip"] = Field(
        default="lz4", description="Compression of the state tables' changelog records"
    )
    changelog_linger_ms: float = Field(
        default=50.0,
        ge=0,
        le=1000,
        description="How long changelog records wait to share a request: fewer requests for "
        "the broker; other workers see a merchant's partials this much later (a commit sends "
        "at once)",
    )
    max_future_skew_s: float = Field(
        default=300.0,
        ge=0,
        le=SHORTEST_WINDOW_MS / 1000,
        description="Event times up to this far ahead of the worker's clock are accepted "
        "(clock skew); later ones are dead-lettered future_timestamp. At most the shortest "
        "feature window: a future event moves the windows' horizons forward by its lead",
    )
    max_event_age_s: float = Field(
        default=LONGEST_WINDOW_MS / 1000,
        gt=0,
        description="Event times older than this before the worker's clock are dead-lettered "
        "stale_timestamp. Default: the longest feature window (30 days), beyond which an event "
        "counts in no window and its own history has expired",
    )
    max_event_bytes: int = Field(default=65_536, ge=256)

    # Model package signing (HMAC-SHA256). The default is public: commands that sign or verify
    # packages refuse it unless allow_dev_signing_key says this is a demo or a test.
    signing_key: SecretStr = Field(
        default=SecretStr(DEV_SIGNING_KEY),
        description="Key that signs and verifies model packages",
    )
    allow_dev_signing_key: bool = Field(
        default=False,
        description="Accept the built-in development signing key (demos and tests only)",
    )
    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="Also log each model build to this MLflow tracking server (extra `mlflow`)",
    )
    governance_policy: Path | None = Field(
        default=None,
        description="Roles, actors' public keys, gates and target profile (TOML); "
        "default var/registry/policy.toml",
    )
    monitor: MonitorSettings = MonitorSettings()
    audit: AuditSettings = AuditSettings()

    @field_validator("processing_guarantee", mode="before")
    @classmethod
    def _no_exactly_once(cls, value: object) -> object:
        if value == "exactly_once":
            raise ValueError(
                "exactly_once is not supported: decisions, scoring logs and state changelogs "
                "are written through librdkafka, outside Faust's Kafka transactions, so a "
                "transaction could not cover them. The worker is at-least-once: every input "
                "gets its outcome, a replayed one the same decision_id (de-duplicate by it)"
            )
        return value

    @property
    def uses_dev_signing_key(self) -> bool:
        return self.signing_key.get_secret_value() == DEV_SIGNING_KEY

    @property
    def registry_dir(self) -> Path:
        return self.var_dir / "registry"

    @property
    def policy_path(self) -> Path:
        return self.governance_policy or self.registry_dir / "policy.toml"

    @property
    def consumer_instance_id(self) -> str | None:
        """The static member id given to the consumer, or None for a dynamic member."""
        if not self.static_membership:
            return None
        return self.group_instance_id or self.worker_id

    @property
    def worker_data_dir(self) -> Path:
        # The app id is part of the default: tables of another app must never be reopened.
        return self.data_dir or self.var_dir / "workers" / self.app_id / self.worker_id


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings once per process."""
    return Settings()
