"""Time splits with no look-ahead, and the labels one could have known at a given moment.

train:       event_time <  validation_start
validation:  validation_start + gap <= event_time < test_start
test:        test_start + gap <= event_time
Every train row is earlier than every validation row, which is earlier than every test row;
rows inside a gap belong to no part. Each part is identified by the sha256 of its transaction
ids (sorted by UTF-8 bytes, one per line, newline-terminated): independent of file formats and
library versions, so it stays stable while the same rows are selected.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from models.datasets.manifest import SplitManifest, SplitPart, SplitSpec

PART_NAMES = ("train", "validation", "test")


def split_by_time(
    table: Any,
    spec: SplitSpec,
    *,
    dataset_id: str,
    created_at: datetime | None = None,
) -> tuple[SplitManifest, dict[str, Any]]:
    """Cut a transactions table in time; returns the manifest and the three parts' tables."""
    validation_start, test_start = _cut_points(table, spec)
    times = table.column("event_time")
    masks = {
        "train": pc.less(times, pa.scalar(validation_start, type=times.type)),
        "validation": pc.and_(
            pc.greater_equal(times, pa.scalar(validation_start + spec.gap, type=times.type)),
            pc.less(times, pa.scalar(test_start, type=times.type)),
        ),
        "test": pc.greater_equal(times, pa.scalar(test_start + spec.gap, type=times.type)),
    }
    parts = {name: table.filter(mask) for name, mask in masks.items()}
    summaries = {name: _summary(part) for name, part in parts.items()}
    content = {
        "dataset_id": dataset_id,
        "spec": spec.model_dump(mode="json"),
        "validation_start": validation_start.isoformat(),
        "test_start": test_start.isoformat(),
        **{name: summary.model_dump(mode="json") for name, summary in summaries.items()},
    }
    split_id = hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()
    manifest = SplitManifest(
        id=split_id,
        dataset_id=dataset_id,
        spec=spec,
        validation_start=validation_start,
        test_start=test_start,
        train=summaries["train"],
        validation=summaries["validation"],
        test=summaries["test"],
        created_at=created_at if created_at is not None else datetime.now(UTC),
    )
    return manifest, parts


def _cut_points(table: Any, spec: SplitSpec) -> tuple[datetime, datetime]:
    if spec.validation_start is not None and spec.test_start is not None:
        if spec.validation_start > spec.test_start:
            raise ValueError("validation_start must not be after test_start")
        return spec.validation_start.astimezone(UTC), spec.test_start.astimezone(UTC)
    if spec.fractions is None:
        raise ValueError("give either fractions or both validation_start and test_start")
    train, validation, test = spec.fractions
    if min(spec.fractions) < 0 or abs(train + validation + test - 1.0) > 1e-9:
        raise ValueError("fractions must be non-negative and add up to 1")
    if table.num_rows == 0:
        raise ValueError("cannot cut an empty table by fractions")
    ordered = pc.sort_indices(table.column("event_time"))
    times = table.column("event_time").take(ordered)

    # The cut is the event time of the first row past the fraction: rows sharing that instant
    # all go to the later part, so no instant is split between two parts.
    def at(fraction: float) -> datetime:
        index = min(int(fraction * table.num_rows), table.num_rows - 1)
        moment: datetime = times[index].as_py()
        return moment.astimezone(UTC)

    return at(train), at(train + validation)


def _summary(part: Any) -> SplitPart:
    ids = part.column("transaction_id")
    ordered = ids.take(pc.sort_indices(ids))
    digest = hashlib.sha256()
    for chunk in ordered.chunks if isinstance(ordered, pa.ChunkedArray) else [ordered]:
        values = chunk.to_pylist()
        if values:
            digest.update(("\n".join(values) + "\n").encode("utf-8"))
    if part.num_rows == 0:
        start = end = None
        fraud_rate = None
    else:
        bounds = pc.min_max(part.column("event_time")).as_py()
        start, end = bounds["min"], bounds["max"]
        is_fraud = part.column("is_fraud")
        known = part.num_rows - is_fraud.null_count
        fraud_rate = pc.sum(pc.cast(is_fraud, pa.int64())).as_py() / known if known else None
    return SplitPart(
        rows=part.num_rows,
        start=start,
        end=end,
        fraud_rate=fraud_rate,
        ids_sha256=digest.hexdigest(),
    )


def labels_known_at(labels: Any, cutoff: datetime, *, latest_only: bool = True) -> Any:
    """Labels whose labelled_at is at or before `cutoff`: what training at `cutoff` may use.

    With `latest_only`, one row per transaction: its latest label known by then (a later label
    supersedes an earlier one, e.g. a chargeback after a `cleared` review). Sorted by
    transaction_id.
    """
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be timezone-aware")
    when = pa.scalar(cutoff.astimezone(UTC), type=labels.schema.field("labelled_at").type)
    known = labels.filter(pc.less_equal(labels.column("labelled_at"), when))
    if not latest_only:
        return known.sort_by([("transaction_id", "ascending"), ("labelled_at", "ascending")])
    ordered = known.sort_by(
        [
            ("transaction_id", "ascending"),
            ("labelled_at", "descending"),
            ("label_source", "ascending"),
        ]
    ).combine_chunks()
    if ordered.num_rows == 0:
        return ordered
    ids = ordered.column("transaction_id").combine_chunks()
    changed = pc.not_equal(ids.slice(1), ids.slice(0, len(ids) - 1))
    first = pa.concat_arrays([pa.array([True]), changed])
    return ordered.filter(first)


def no_look_ahead(manifest: SplitManifest) -> bool:
    """True when the recorded parts are strictly ordered in time (a cheap sanity check)."""
    parts = [manifest.train, manifest.validation, manifest.test]
    spans = [
        (part.start, part.end) for part in parts if part.start is not None and part.end is not None
    ]
    return all(earlier[1] < later[0] for earlier, later in itertools.pairwise(spans))
