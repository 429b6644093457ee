"""Prometheus metrics of the outcome audit, on an injected registry (tests get a fresh one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class AuditMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.inputs = Counter(
            "fraud_audit_inputs",
            "Input records read, by kind (input, dlq_replay, redrive_copy, unverified_redrive: "
            "a re-drive header without the audit's seal, audited as an input)",
            ["kind"],
            registry=r,
        )
        self.settled = Counter(
            "fraud_audit_settled_inputs",
            "Inputs of published windows, by final outcome (decided, dead_lettered, lost)",
            ["outcome"],
            registry=r,
        )
        self.missing = Counter(
            "fraud_audit_missing_outcomes",
            "Inputs found without an outcome at the end of a grace period (each time)",
            registry=r,
        )
        self.redriven = Counter(
            "fraud_audit_redriven", "Copies of inputs without an outcome re-driven", registry=r
        )
        self.redrive_failures = Counter(
            "fraud_audit_redrive_failures",
            "Re-drives that could not be produced (tried again after the grace)",
            registry=r,
        )
        self.lost = Counter(
            "fraud_audit_lost",
            "Inputs without an outcome after every re-drive: an outcome is missing for good",
            registry=r,
        )
        self.duplicates = Counter(
            "fraud_audit_duplicate_decisions",
            "Decision records repeating a decision id already seen (harmless after dedupe)",
            registry=r,
        )
        self.conflicts = Counter(
            "fraud_audit_conflicting_decisions",
            "Decisions giving a transaction a second, different decision id (never harmless)",
            registry=r,
        )
        self.windows = Counter(
            "fraud_audit_windows", "Audit windows checked and published", registry=r
        )
        self.pending = Gauge(
            "fraud_audit_pending", "Inputs read and still awaiting their outcome", registry=r
        )
        self.open_windows = Gauge(
            "fraud_audit_open_windows", "Windows read but not yet settled", registry=r
        )
        self.outcome_index = Gauge(
            "fraud_audit_outcome_index_entries", "Outcome ids held for matching", registry=r
        )
        self.outcome_evictions = Counter(
            "fraud_audit_outcome_index_evictions",
            "Outcome ids dropped because the index was full (raise max_outcomes if this grows)",
            registry=r,
        )
        self.last_checked = Gauge(
            "fraud_audit_last_checked_timestamp_seconds",
            "Kafka timestamp of the newest input in a published window: checked up to here",
            registry=r,
        )
