"""Online/offline parity: the stream's features and scores equal an offline recomputation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from models.features import FEATURE_NAMES
from models.features.facts import facts_from_transaction
from models.features.offline import FeatureReplayer
from models.scoring import open_package
from schemas import ScoringLogRecord, Transaction
from stream.replay import accepted_sources, read_topic, recompute
from tests.support.clients import produce, wait_for_records
from tests.support.stream_setup import SIGNING_KEY, simulated_events, stream_setup
from tests.support.stream_worker import StreamWorker

pytestmark = pytest.mark.integration


def _same(a: float | None, b: float) -> bool:
    """Bit-for-bit equality, where the log's null is the feature code's NaN."""
    return math.isnan(b) if a is None else a == b and math.copysign(1, a) == math.copysign(1, b)


def test_stream_features_and_scores_equal_offline_recomputation(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", test_package, "parity")
    events = simulated_events(seed=23, limit=3000)
    worker = StreamWorker(setup.env, tmp_path / "data", tmp_path / "worker.log")
    with worker.started(timeout=120):
        produce(kafka_bootstrap, setup.topic("transactions"), events)
        logs = wait_for_records(kafka_bootstrap, setup.topic("scoring_log"), len(events), 180)

    logged = [ScoringLogRecord.model_validate_json(r.value or b"") for r in logs]
    assert len({entry.transaction_id for entry in logged}) == len(events)
    inputs = read_topic(kafka_bootstrap, setup.topic("transactions"))
    offline = recompute(inputs, accepted_sources(logged))
    expected = np.array([offline.features_of(entry) for entry in logged])
    scorer = open_package(test_package, SIGNING_KEY.encode())
    offline_scores = scorer.fraud_probability(expected)

    mismatched_features = mismatched_scores = 0
    for entry, vector, score in zip(logged, expected, offline_scores, strict=True):
        online = [entry.features[name] for name in FEATURE_NAMES]
        mismatched_features += not all(_same(a, b) for a, b in zip(online, vector, strict=True))
        (champion,) = entry.outputs
        mismatched_scores += champion.score != score
    assert mismatched_features == 0
    assert mismatched_scores == 0
    # The merchant features really came from other partitions too (4 partitions, one worker).
    assert any(len(entry.merchant_view or []) > 1 for entry in logged)

    # Card features also equal the training pipeline's replay in event-time order, because
    # every card's events reach the card stage in the order they were produced.
    replayer = FeatureReplayer()
    card_columns = [i for i, name in enumerate(FEATURE_NAMES) if name.startswith("card_")]
    training_order = [Transaction.model_validate_json(value) for _, value in events]
    by_id = {entry.transaction_id: entry for entry in logged}
    for sequence, transaction in enumerate(training_order):
        vector = replayer.step(facts_from_transaction(transaction), sequence)
        online = by_id[transaction.transaction_id]
        assert all(_same(online.features[FEATURE_NAMES[i]], vector[i]) for i in card_columns)
