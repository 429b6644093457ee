"""The fitted model as bytes that depend on the fitted model alone.

Two builds from the same inputs must give the same model.joblib bytes, so `reproduce` can
prove a rebuild by comparing bytes. Measured here (scikit-learn 1.9, 2-core machine): the trees
are identical whatever the OpenMP thread count, but HistGradientBoosting pickles the thread
count it was fitted with (`_bin_mapper.n_threads`), so a build with OMP_NUM_THREADS=1 gave
different bytes from the same trees. That value only sizes the thread pool of a later
`transform`; None means "what the loading machine has", scikit-learn's own default.
The pickle protocol and compression level are pinned so a library default cannot move them.
"""

from __future__ import annotations

import copy
import io
from typing import Any

import joblib

PICKLE_PROTOCOL = 5
COMPRESSION_LEVEL = 3


def model_bytes(model: Any) -> bytes:
    """joblib bytes of `model` with machine-dependent runtime settings taken out."""
    buffer = io.BytesIO()
    joblib.dump(
        _without_thread_counts(model), buffer, compress=COMPRESSION_LEVEL, protocol=PICKLE_PROTOCOL
    )
    return buffer.getvalue()


def _without_thread_counts(model: Any) -> Any:
    portable = copy.deepcopy(model)  # the caller's fitted model stays as it was
    steps = [step for _, step in portable.steps] if hasattr(portable, "steps") else [portable]
    for step in steps:
        mapper = getattr(step, "_bin_mapper", None)
        if mapper is not None:
            mapper.n_threads = None
    return portable
