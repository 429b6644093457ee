"""Prometheus metrics of the stream worker, on an injected registry (tests get a fresh one)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from stream.decision_path.batch_histogram import BatchHistogram

if TYPE_CHECKING:
    from stream.decision_path.deciding import ModelCall

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class StreamMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.events_in = Counter("fraud_events_in", "Input records consumed", registry=r)
        self.invalid = Counter(
            "fraud_invalid_events", "Dead-lettered input, by error category", ["reason"], registry=r
        )
        self.decisions = Counter(
            "fraud_decisions",
            "Decisions published, by outcome and model",
            ["outcome", "model_version", "fallback"],
            registry=r,
        )
        self.fallbacks = Counter(
            "fraud_fallbacks", "Fallback decisions, by reason", ["reason"], registry=r
        )
        self.replays = Counter(
            "fraud_replayed_events",
            "Transactions seen again after a restart or re-drive (state left unchanged)",
            registry=r,
        )
        self.expectation_failures = Counter(
            "fraud_input_expectation_failures",
            "Features outside the training profile, by feature and kind",
            ["feature", "kind"],
            registry=r,
        )
        self.scoring_seconds = Histogram(
            "fraud_scoring_seconds", "Model call per batch", buckets=LATENCY_BUCKETS, registry=r
        )
        self.decision_latency = BatchHistogram(
            "fraud_decision_latency_seconds",
            "Latency to the decision, from the Kafka record timestamp (arrival) or event time",
            LATENCY_BUCKETS,
            ["since"],
            registry=r,
        )
        self.batch_size = Histogram(
            "fraud_scoring_batch_size", "Events per model call", buckets=BATCH_BUCKETS, registry=r
        )
        self.table_keys = Gauge(
            "fraud_table_keys", "Estimated keys per state table", ["table"], registry=r
        )
        self.model_info = Gauge(
            "fraud_model_info",
            "The loaded model package (value 1)",
            ["role", "name", "version", "content_hash", "predictor"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "fraud_consumer_lag",
            "Records behind the end, per input partition",
            ["topic", "partition"],
            registry=r,
        )
        self.commit_lag = Gauge(
            "fraud_commit_lag",
            "Records between the committed offset and the consumer position, per partition",
            ["topic", "partition"],
            registry=r,
        )
        self.merchant_view_delay = BatchHistogram(
            "fraud_merchant_view_delay_seconds",
            "Merchant partials read from the changelog: seconds since their owner sent them",
            LATENCY_BUCKETS,
            registry=r,
        )
        self.merchant_view_size = Gauge(
            "fraud_merchant_view_merchants", "Merchants in the in-memory merchant view", registry=r
        )
        self.time_to_ready = Gauge(
            "fraud_time_to_ready_seconds",
            "Seconds from the process start to /ready first answering yes (0 until then)",
            registry=r,
        )
        self.unprocessed_partitions = Gauge(
            "fraud_unprocessed_partitions",
            "Assigned input partitions not being fetched (paused, recovering, awaiting a seek)",
            registry=r,
        )
        self.decisions_held = Gauge(
            "fraud_decisions_held_batches",
            "Decided micro-batches whose decisions wait for their card states to be stored",
            registry=r,
        )
        self.stuck_partitions = Gauge(
            "fraud_stuck_commit_partitions",
            "Partitions whose committed offset has not moved while records wait behind it",
            registry=r,
        )
        self.model_decisions = Counter(
            "fraud_model_decisions",
            "Decisions per deciding model and role (the live plan's champion and canary)",
            ["role", "name", "version"],
            registry=r,
        )
        self.model_scored = Counter(
            "fraud_model_scored_events",
            "Events each deployed model scored, by role (shadows included)",
            ["role", "name", "version"],
            registry=r,
        )
        self.model_call_seconds = Counter(
            "fraud_model_call_seconds",
            "Seconds spent in each deployed model's calls, by role: what a shadow costs",
            ["role", "name", "version"],
            registry=r,
        )
        self.online_decisions = Counter(
            "fraud_online_decisions",
            "Transactions POST /v1/score decided at request time, by how the request ended",
            ["result"],
            registry=r,
        )
        # Where an online request's time goes on its owner: waiting for its turn and being
        # decided ("decided"), then for the broker's acknowledgement of its record
        # ("acknowledged"). Both are mostly turns of a busy event loop and the broker's answer.
        self.online_phase_seconds = Histogram(
            "fraud_online_request_phase_seconds",
            "Seconds of each phase of POST /v1/score on the card's owner",
            ["phase"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rejected_decision_seals = Counter(
            "fraud_rejected_online_decision_seals",
            "Inputs claiming an online decision whose seal did not verify (decided normally)",
            ["reason"],
            registry=r,
        )
        self.plan_version = Gauge(
            "fraud_deployment_plan_version",
            "The live deployment plan this worker applies",
            registry=r,
        )
        self.plan_refusals = Counter(
            "fraud_deployment_plan_refusals",
            "Deployment plans refused (previous plan kept), by reason",
            ["reason"],
            registry=r,
        )

    def count_model_calls(self, calls: Iterable[ModelCall]) -> None:
        """Rows and seconds of each model call, streamed or online (a shadow's cost shows)."""
        for call in calls:
            labels = (call.role, call.model.name, call.model.version)
            self.model_scored.labels(*labels).inc(call.rows)
            self.model_call_seconds.labels(*labels).inc(call.us / 1e6)
