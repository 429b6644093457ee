"""Two ways to score a batch with a package's model: scikit-learn itself, or treelite's GTIL.

scikit-learn's HistGradientBoosting pays a large fixed cost per `predict_proba` call: input
validation, then one Python-level call per tree (~4-5 ms per call for 250 trees on these
machines, whatever the batch size up to ~64 rows). A live stream scores small batches, so that
fixed cost would dominate. treelite's GTIL evaluates the same trees in C++ from a treelite
checkpoint (plain data, not a pickle) at ~0.1 ms per call; its probabilities equal
scikit-learn's to within a few ulps (the build fails above 1e-12). The package records which
predictor it was evaluated with; the stream and offline batch scoring both use that one, so the
two agree bit for bit.
"""

from __future__ import annotations

import functools
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]
Vector = npt.NDArray[np.float64]
TREELITE_FILE = "model.treelite"


class Predictor(Protocol):
    kind: str

    def fraud_probability(self, batch: Matrix) -> Vector:
        """P(fraud) for each row of `batch` (rows × features in the package's order)."""
        ...


class SklearnPredictor:
    kind = "sklearn"

    def __init__(self, model: Any) -> None:
        self._model = model

    def fraud_probability(self, batch: Matrix) -> Vector:
        probabilities: Vector = self._model.predict_proba(batch)[:, 1]
        return probabilities


class TreelitePredictor:
    """Scores with treelite's GTIL from checkpoint bytes (which must have been verified)."""

    kind = "treelite"

    def __init__(self, checkpoint: bytes, threads: int = 1) -> None:
        import treelite
        import treelite.gtil
        from treelite.gtil import gtil

        # One thread: the worker already uses a core; more would compete with it.
        self._model = treelite.Model.deserialize_bytes(checkpoint)
        # gtil.predict builds and parses a JSON configuration on every call (~40 µs here, more
        # than scoring one row); the same configuration, built once, is reused.
        config = gtil.GTILConfig(nthread=threads, predict_type="default")
        self._predict = functools.partial(gtil._predict_impl, config=config)

    def fraud_probability(self, batch: Matrix) -> Vector:
        rows = np.ascontiguousarray(batch, dtype=np.float64)
        out = self._predict(self._model, rows)
        probabilities: Vector = np.asarray(out, dtype=np.float64).reshape(rows.shape[0], -1)[:, -1]
        return probabilities


def treelite_checkpoint(model: Any) -> bytes:
    """The fitted HistGradientBoosting classifier as a treelite checkpoint."""
    import treelite

    classifier = model.steps[-1][1] if hasattr(model, "steps") else model
    checkpoint: bytes = treelite.sklearn.import_model(classifier).serialize_bytes()
    return checkpoint
