"""The one-shot audit: read the input and outcome topics to their end, then account for every
input. For tests and operators (`fraudstream audit check`); it uses the same
matching as the continuous audit, without grace periods, re-drives or windows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from stream.audit.matching import dead_letter_source, decision_ids, transaction_id_of
from stream.audit.tracking import OutcomeTracker, TrackerConfig
from stream.redrive_seal import verified_provenance
from stream.settings import TopicNames
from stream.topic_scan import scan

_UNBOUNDED = 2**62


@dataclass(frozen=True)
class MissingInput:
    partition: int
    offset: int
    transaction_id: str | None


@dataclass(frozen=True)
class AuditSummary:
    inputs: int  # input records, re-drive copies not included
    decided: int  # inputs whose outcome is a decision
    dead_lettered: int  # inputs whose outcome is a dead letter
    missing: list[MissingInput]  # inputs without an outcome
    redrive_copies: int  # copies the audit re-drove (their originals carry the outcome)
    unverified_redrives: int  # inputs with a re-drive header but no valid seal (in `inputs`)
    decision_records: int  # decision records, repeats included
    duplicate_decisions: int  # decision records repeating a decision id seen before
    duplicates_after_dedupe: int  # transactions with 2+ decision ids, ids naming 2+ transactions

    @property
    def complete(self) -> bool:
        """Every input has an outcome and de-duplication by decision id leaves one each."""
        return not self.missing and self.duplicates_after_dedupe == 0


def audit_once(
    bootstrap: str,
    topics: TopicNames,
    *,
    max_event_bytes: int = 65_536,
    timeout_s: float = 120.0,
    redrive_key: bytes | None = None,
) -> AuditSummary:
    """Account for every input now in `topics.transactions`.

    Outcomes are read first, so every input meets all of them. `max_event_bytes` is the
    worker's limit (FRAUD_MAX_EVENT_BYTES): larger inputs are not parsed for their id.
    `redrive_key` is the key of the audit that re-drove copies (FRAUD_AUDIT__REDRIVE_KEY);
    without it no copy verifies, so each counts as an input (and needs an outcome).
    """
    tracker = OutcomeTracker(
        TrackerConfig(
            input_topic=topics.transactions,
            grace_ms=0,
            max_redrives=0,
            window_ms=_UNBOUNDED,
            window_max_inputs=_UNBOUNDED,
            max_outcomes=_UNBOUNDED,
        )
    )
    decision_records = 0
    transactions_of: defaultdict[str, set[str]] = defaultdict(set)
    for record in scan(bootstrap, topics.decisions, timeout_s=timeout_s):
        ids = decision_ids(record.value)
        if ids is None:
            continue
        decision_records += 1
        transactions_of[ids.decision_id].add(ids.transaction_id)
        tracker.add_decision(ids.transaction_id, ids.decision_id, record.timestamp_ms)
    for record in scan(bootstrap, topics.dead_letters, timeout_s=timeout_s):
        coords = dead_letter_source(record.value, topics.transactions)
        if coords is not None:
            tracker.add_dead_letter(coords, record.timestamp_ms)
    unverified = 0
    for record in scan(bootstrap, topics.transactions, timeout_s=timeout_s):
        origin = verified_provenance(
            record.headers, redrive_key, record.partition, record.key, record.value
        )
        unverified += origin.unverified_redrive
        tracker.add_input(
            record.partition,
            record.offset,
            record.timestamp_ms,
            transaction_id_of(record.value, max_event_bytes),
            now_ms=0,
            origin=origin,
        )
    windows = tracker.windows
    shared_ids = sum(1 for names in transactions_of.values() if len(names) > 1)
    return AuditSummary(
        inputs=sum(w.inputs for w in windows),
        decided=sum(w.decided for w in windows),
        dead_lettered=sum(w.dead_lettered for w in windows),
        missing=[
            MissingInput(p.partition, p.offset, p.transaction_id) for p in tracker.pending_inputs()
        ],
        redrive_copies=sum(w.copies for w in windows),
        unverified_redrives=unverified,
        decision_records=decision_records,
        duplicate_decisions=tracker.totals.duplicate_decisions,
        duplicates_after_dedupe=tracker.totals.conflicting_decisions + shared_ids,
    )
