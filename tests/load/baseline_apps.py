"""Baseline Faust apps for the stream benchmark (benchmark code, not product code).

BENCH_KIND=skeleton: everything but the work — consume, one table update per event, emit one
record (through confluent-kafka, as the worker does), flushed before commits like the worker.
BENCH_KIND=naive: the shape of public Faust fraud examples — per event: validate, one-row
predict_proba, `await topic.send`.
"""

from __future__ import annotations

import os
from typing import Any

import faust
import numpy as np

from stream.decision_path.output import OutputProducer
from stream.engine.commit_flush import flush_before_commits
from stream.engine.ordered_recovery import OrderedRecoveryTableManager

KIND = os.environ["BENCH_KIND"]
BOOTSTRAP = os.environ["BENCH_BOOTSTRAP"]
INPUT, OUTPUT = os.environ["BENCH_INPUT"], os.environ["BENCH_OUTPUT"]
PARTITIONS = int(os.environ.get("BENCH_PARTITIONS", "4"))

app = faust.App(
    os.environ["BENCH_APP_ID"],
    broker=f"kafka://{BOOTSTRAP}",
    store="rocksdb://",
    topic_partitions=PARTITIONS,
    TableManager=OrderedRecoveryTableManager,
    key_serializer="raw",
    value_serializer="raw",
    stream_buffer_maxsize=32_768,
    broker_max_poll_records=5_000,
    consumer_max_fetch_size=8 * 1024 * 1024,
    stream_wait_empty=False,
    producer_linger_ms=10,
    producer_max_batch_size=262_144,
)
source = app.topic(INPUT, key_type=bytes, value_type=bytes, partitions=PARTITIONS)
sink = app.topic(OUTPUT, key_type=bytes, value_type=bytes, partitions=PARTITIONS)

if KIND == "skeleton":
    output = OutputProducer(BOOTSTRAP, client_id="bench-skeleton")
    flush_before_commits(app, output.flush)
    counts = app.Table("bench-counts", partitions=PARTITIONS, key_type=bytes, value_type=bytes)

    @app.agent(source)
    async def skeleton(stream: Any) -> None:
        async for event in stream.events():
            key = event.message.key or b""
            previous = counts.get(key)
            counts[key] = (int(previous or b"0") + 1).__str__().encode()
            output.send(OUTPUT, key, event.value)
            output.poll()

elif KIND == "naive":
    from models.package import load_model, verify_package
    from schemas import Transaction

    package = verify_package(
        __import__("pathlib").Path(os.environ["BENCH_PACKAGE"]),
        os.environ["BENCH_SIGNING_KEY"].encode(),
    )
    model = load_model(package)
    width = len(package.manifest.features.features)

    @app.agent(source)
    async def naive(stream: Any) -> None:
        async for event in stream.events():
            transaction = Transaction.model_validate_json(event.value)
            row = np.zeros((1, width))
            row[0, 0] = float(transaction.amount)
            score = float(model.predict_proba(row)[0, 1])
            await sink.send(key=event.message.key, value=f'{{"score": {score}}}'.encode())
else:
    raise SystemExit(f"unknown BENCH_KIND {KIND!r}")
