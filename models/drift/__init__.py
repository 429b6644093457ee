"""Drift and live-performance monitoring, framework-free (never imports faust or kafka).

Live scored events are counted in tumbling windows (`window`) on the bins of the training
profile the package carries, and compared with it (`stats`, `compare`): PSI, binned KS and
total variation per numeric feature, total variation, Cohen's w and the unseen-category share per
categorical one, missing-rate changes, score PSI and REVIEW/DECLINE rate ratios. Alerts are
raised on these effect sizes against documented thresholds (`alerts`), never on p-values.
Delayed fraud labels are joined to scored events with bounded state (`join`) for live
precision, recall and PR-AUC per model version (`performance`). `DriftMonitor` ties it together;
`evaluation` measures detection delay and false alarms on simulated data.
"""

from models.drift.errors import DriftError, ReferenceMismatch
from models.drift.events import ModelScore, ScoredEvent, scored_event
from models.drift.join import JoinCounters, LabelJoin, Matured
from models.drift.monitor import DriftMonitor, JoinSpec
from models.drift.reference import DriftReference, reference_from_manifest
from models.drift.window import WindowSpec

__all__ = [
    "DriftError",
    "DriftMonitor",
    "DriftReference",
    "JoinCounters",
    "JoinSpec",
    "LabelJoin",
    "Matured",
    "ModelScore",
    "ReferenceMismatch",
    "ScoredEvent",
    "WindowSpec",
    "reference_from_manifest",
    "scored_event",
]
