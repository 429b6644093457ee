"""Offline batch scoring: a file of transactions in, one JSON line per input out.

Each input goes the way it would go through the stream: the stream's codec decodes it (a bad
one becomes a dead letter with the codec's reason, never an exception), the shared feature code
replays the valid ones in file order, the package's own predictor scores them in batches and
its DecisionMaker decides. So a file scored here gets the decisions a worker would have made
for the same events in the same order, from the same verified package.

Inputs: JSON Lines (each line is one message value, exactly as a producer would send it), or
Parquet / CSV rows with the contract's columns (the dataset store's layout; each row is turned
into the JSON a producer would send, then decoded the same way).
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from models.expectations import Violation
from models.features import facts_from_transaction
from models.features.offline import FeatureReplayer
from models.scoring import PackageScorer
from schemas.codec import UTC, SourceCoords, encode_dead_letter, transaction_decoder
from schemas.dead_letter import DeadLetter
from schemas.transaction import Transaction

WORKER_ID = "batch-score"
DEFAULT_BATCH = 512
JSON_LINES_SUFFIXES = (".jsonl", ".ndjson", ".json")
_TEXT_INTEGERS = ("schema_version",)
_TEXT_FLOATS = ("customer_lat", "customer_lon")
_TEXT_BOOLEANS = {"true": True, "false": False}


@dataclass
class ScoringSummary:
    inputs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    dead_letters: Counter[str] = field(default_factory=Counter)

    @property
    def decided(self) -> int:
        return sum(self.outcomes.values())


@dataclass(frozen=True)
class _Pending:
    line: int
    transaction: Transaction | None
    dead_letter: DeadLetter | None
    features: tuple[float, ...] = ()


def read_values(path: Path) -> Iterator[bytes]:
    """The input's message values in file order (JSON Lines as they are; rows as JSON)."""
    suffix = path.suffix.lower()
    if suffix in JSON_LINES_SUFFIXES:
        with path.open("rb") as lines:
            for line in lines:
                yield line.rstrip(b"\r\n")
    elif suffix in (".parquet", ".pq"):
        for batch in pq.ParquetFile(path).iter_batches():
            yield from (row_as_json(row) for row in batch.to_pylist())
    elif suffix == ".csv":
        yield from _csv_values(path)
    else:
        raise ValueError(f"{path}: expected .jsonl/.ndjson/.json, .parquet or .csv")


def score_values(
    values: Iterable[bytes],
    scorer: PackageScorer,
    write: Callable[[bytes], object],
    *,
    source_name: str,
    batch_size: int = DEFAULT_BATCH,
    now: datetime | None = None,
) -> ScoringSummary:
    """Decode, replay features, score and decide every value; `write` gets one JSON line each.

    Output lines keep the input order; a dead letter's source offset is its 1-based line.
    """
    decoder = transaction_decoder(WORKER_ID)
    clock = now or datetime.now(UTC)
    replayer = FeatureReplayer()
    summary = ScoringSummary()
    pending: list[_Pending] = []
    valid_in_batch = 0
    sequence = 0  # orders the valid events for the feature state, as offsets do in the stream
    for line, raw in enumerate(values, start=1):
        summary.inputs += 1
        source = SourceCoords(topic=f"file:{source_name}"[:249], partition=0, offset=line)
        result = decoder.decode(raw, source, now=clock)
        if isinstance(result, DeadLetter):
            summary.dead_letters[str(result.category)] += 1
            pending.append(_Pending(line, None, result))
            continue
        features = replayer.step(facts_from_transaction(result), sequence)
        sequence += 1
        pending.append(_Pending(line, result, None, features))
        valid_in_batch += 1
        if valid_in_batch >= batch_size:
            _flush(pending, scorer, write, summary)
            pending, valid_in_batch = [], 0
    _flush(pending, scorer, write, summary)
    return summary


def row_as_json(row: dict[str, Any], *, from_text: bool = False) -> bytes:
    """A table row as the JSON value a producer would send (nulls left out).

    From CSV every cell is text: the few non-string fields of the contract are converted when
    the text clearly is one, anything else stays text so the codec reports it.
    """
    present = {name: value for name, value in row.items() if value is not None}
    if from_text:
        present = _typed_text(present)
    return json.dumps(present, default=_json_scalar, separators=(",", ":")).encode()


def _flush(
    pending: list[_Pending],
    scorer: PackageScorer,
    write: Callable[[bytes], object],
    summary: ScoringSummary,
) -> None:
    valid = [item for item in pending if item.transaction is not None]
    scores: list[float] = []
    violations: list[list[Violation]] = []
    if valid:
        matrix = np.array([item.features for item in valid], dtype=np.float64)
        scores = [float(s) for s in scorer.fraud_probability(matrix)]
        violations = scorer.expectations.check(matrix)
    ranks = iter(range(len(valid)))
    manifest = scorer.manifest
    model = {
        "name": manifest.name,
        "version": manifest.version,
        "content_hash": scorer.package.content_hash,
    }
    for item in pending:
        if item.dead_letter is not None:
            dead = json.loads(encode_dead_letter(item.dead_letter))
            write(_line({"line": item.line, "dead_letter": dead}))
            continue
        assert item.transaction is not None
        rank = next(ranks)
        verdict = scorer.decisions.decide(scores[rank], item.features)
        summary.outcomes[verdict.outcome] += 1
        record = {
            "line": item.line,
            "transaction_id": item.transaction.transaction_id,
            "score": scores[rank],
            "outcome": verdict.outcome,
            "reason_codes": list(verdict.reason_codes),
            "model": model,
            "violations": [
                {"feature": v.feature, "kind": v.kind, "detail": v.detail} for v in violations[rank]
            ],
        }
        write(_line(record))


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def _csv_values(path: Path) -> Iterator[bytes]:
    # Every column as text: the contract, not CSV type inference, decides what a cell is
    # (an mcc of "0742" must stay a string, an amount must keep its decimal text).
    with path.open("rb") as handle:
        header = pa_csv.open_csv(handle).schema.names
    options = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
    )
    reader = pa_csv.open_csv(path, convert_options=options)
    for batch in reader:
        yield from (row_as_json(row, from_text=True) for row in batch.to_pylist())


def _typed_text(row: dict[str, Any]) -> dict[str, Any]:
    typed = dict(row)
    for name in _TEXT_INTEGERS:
        value = typed.get(name)
        if isinstance(value, str) and value.isdigit():
            typed[name] = int(value)
    for name in _TEXT_FLOATS:
        value = typed.get(name)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # not a number: the codec will say so
                typed[name] = float(value)
    present = typed.get("card_present")
    if isinstance(present, str) and present.lower() in _TEXT_BOOLEANS:
        typed["card_present"] = _TEXT_BOOLEANS[present.lower()]
    return typed


def _json_scalar(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # the contract's decimal string, never a binary float
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a transaction field type")
