"""Record contracts: pydantic models of every record on every topic, and the codec at the edge.

"schema" always means a record contract here; "model" always means an ML model.
This package imports nothing from `models` or `stream` and never imports faust or kafka.

One module per topic (transaction, decision, scoring_log, dead_letter, dlq_replay, label,
drift, model_control, audit); shared field types in `primitives`; versioning policy in
`versions`; bytes ↔ records in `codec`; JSON Schema export in `export`.
"""

from schemas.audit import LostInput, OffsetRange, OutcomeAudit, outcome_audit_id_for
from schemas.base import DeploymentRole, ModelRef, Part, Record
from schemas.categories import ErrorCategory
from schemas.codec import (
    DEFAULT_LIMITS,
    DecodeLimits,
    Decoder,
    SourceCoords,
    decode_record,
    decode_transaction,
    encode_dead_letter,
    encode_record,
    raw_sha256,
    transaction_decoder,
)
from schemas.dead_letter import DeadLetter, KafkaSource, dead_letter_id_for
from schemas.decision import (
    Decision,
    DecisionTimings,
    FallbackReason,
    Outcome,
    decision_id_for,
)
from schemas.dlq_replay import DeadLetterReplay
from schemas.drift import DriftReport
from schemas.errors import RecordRejected, SchemaError, UpgradeError
from schemas.label import FraudLabel, LabelSource
from schemas.model_control import ModelControl
from schemas.scoring_log import (
    SCORING_LOG_UPGRADES,
    ExpectationKind,
    ExpectationViolation,
    MerchantPartialSeen,
    Milestones,
    ModelOutput,
    ScoringLogRecord,
)
from schemas.transaction import TRANSACTION_SCHEMA_VERSION, Channel, EntryMode, Transaction
from schemas.versions import UpgradeRegistry

__all__ = [
    "DEFAULT_LIMITS",
    "SCORING_LOG_UPGRADES",
    "TRANSACTION_SCHEMA_VERSION",
    "Channel",
    "DeadLetter",
    "DeadLetterReplay",
    "Decision",
    "DecisionTimings",
    "DecodeLimits",
    "Decoder",
    "DeploymentRole",
    "DriftReport",
    "EntryMode",
    "ErrorCategory",
    "ExpectationKind",
    "ExpectationViolation",
    "FallbackReason",
    "FraudLabel",
    "KafkaSource",
    "LabelSource",
    "LostInput",
    "MerchantPartialSeen",
    "Milestones",
    "ModelControl",
    "ModelOutput",
    "ModelRef",
    "OffsetRange",
    "Outcome",
    "OutcomeAudit",
    "Part",
    "Record",
    "RecordRejected",
    "SchemaError",
    "ScoringLogRecord",
    "SourceCoords",
    "Transaction",
    "UpgradeError",
    "UpgradeRegistry",
    "dead_letter_id_for",
    "decision_id_for",
    "decode_record",
    "decode_transaction",
    "encode_dead_letter",
    "encode_record",
    "outcome_audit_id_for",
    "raw_sha256",
    "transaction_decoder",
]
