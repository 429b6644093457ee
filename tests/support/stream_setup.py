"""What stream integration tests share: a signed test package, per-test topics and settings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from models.simulator import (
    SimulatorConfig,
    iter_transaction_json,
    shift_to_now,
    simulate,
)
from models.training.quick import build_small_package
from stream.settings import Settings, TopicNames

SIGNING_KEY = "integration-test-signing-key"
TOPIC_FIELDS = (
    "transactions",
    "dead_letters",
    "decisions",
    "scoring_log",
    "labels",
    "drift_reports",
    "model_control",
    "audit",
)


def build_test_package(root: Path, seed: int = 7) -> Path:
    """A small but real package: simulated data, the shipped training config, signed."""
    return build_small_package(root, SIGNING_KEY.encode(), seed=seed, version="0.0.1-test")


@dataclass(frozen=True)
class StreamSetup:
    env: dict[str, str]
    topics: dict[str, str]
    app_id: str

    def topic(self, field: str) -> str:
        return self.topics[field]

    def settings(self) -> Settings:
        return Settings(
            kafka_bootstrap=self.env["FRAUD_KAFKA_BOOTSTRAP"],
            app_id=self.app_id,
            topics=TopicNames(**self.topics),
        )


API_DECISION_KEY = "test-online-decision-key"


def stream_setup(
    bootstrap: str, var_dir: Path, package: Path | None, label: str, **overrides: Any
) -> StreamSetup:
    """Settings for one test's workers: their own topics, consumer group and state."""
    suffix = uuid.uuid4().hex[:8]
    topics = {field: f"test.{label[:30]}.{field}.{suffix}" for field in TOPIC_FIELDS}
    app_id = f"fs-{label[:20]}-{suffix}"
    env = {
        "FRAUD_KAFKA_BOOTSTRAP": bootstrap,
        "FRAUD_APP_ID": app_id,
        "FRAUD_VAR_DIR": str(var_dir),
        "FRAUD_SIGNING_KEY": SIGNING_KEY,
        "FRAUD_PARTITIONS": "4",
        # Tests replay hours of simulated traffic in seconds: no event may miss the budget.
        "FRAUD_LATENCY_BUDGET_MS": str(3_600_000),
        "FRAUD_LOG_LEVEL": "INFO",
        # One key for the group's workers: online decisions are sealed with it (POST /v1/score).
        "FRAUD_API_DECISION_KEY": API_DECISION_KEY,
        **{f"FRAUD_TOPICS__{field.upper()}": name for field, name in topics.items()},
    }
    if package is not None:
        env["FRAUD_MODEL_PACKAGE"] = str(package)
    env.update({key: str(value) for key, value in overrides.items()})
    return StreamSetup(env, topics, app_id)


def simulated_events(
    seed: int = 11, limit: int | None = None, days: int | None = None
) -> list[tuple[bytes, bytes]]:
    """Keyed transaction JSON in event-time order, moved to end in the recent past."""
    config = (
        SimulatorConfig.small(seed=seed)
        if days is None
        else SimulatorConfig(seed=seed, n_days=days)
    )
    transactions = simulate(config).transactions
    if limit is not None:
        transactions = transactions.slice(0, limit)
    start = datetime.now(UTC) - timedelta(days=2)
    moved, _ = shift_to_now(transactions, now=start, speedup=60.0)
    return list(iter_transaction_json(moved))
