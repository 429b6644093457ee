"""The outcome audit: proof, from the topics themselves, that every input got exactly one outcome.

Every record on the input topic must end as one decision (deduplicated by decision_id) or one
dead letter. The audit reads the input topic and both outcome topics, matches each input to its
outcome (a decision by transaction id, a dead letter by the input's coordinates), re-drives an
input still without one after a grace period (the original bytes again, with a
`fraudstream-redrive-of` header sealed with the audit's key, stream.redrive_seal: an unsealed
one is an ordinary input), reports it lost after `max_redrives`, and publishes one
`OutcomeAudit` record per window of the input topic, plus Prometheus metrics.

Why not a Faust app: the audit exists because the engine's own bookkeeping cannot be trusted
(README, Reliability: faust-streaming 0.15.3 committed offsets past events that never got an
output). An auditor that shares the engine's consumer, offset tracking and recovery would share its
failure modes and could hide exactly the loss it is meant to find. So it uses confluent-kafka
directly: manual assignment of every partition (no rebalances, no recovery race), offsets
committed explicitly and only for windows whose check is complete, and no state but what it
can rebuild from the topics after a restart. It needs no tables either: its state is small,
bounded and derived.

`audit_once` is the one-shot form (read everything to the end, then account), for tests and
operators (the chaos command keeps its own check, which also knows what it produced);
`AuditRunner` is the long-running process (`fraudstream audit run`).
"""

from stream.audit.metrics import AuditMetrics
from stream.audit.once import AuditSummary, MissingInput, audit_once
from stream.audit.runner import AuditConfig, AuditFailed, AuditRunner, audit_config, audit_record

__all__ = [
    "AuditConfig",
    "AuditFailed",
    "AuditMetrics",
    "AuditRunner",
    "AuditSummary",
    "MissingInput",
    "audit_config",
    "audit_once",
    "audit_record",
]
