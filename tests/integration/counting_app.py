"""A minimal Faust app for integration tests: a per-key running count and sum in RocksDB.

Every input event (key = card id, value = {"seq": n, "amount": cents}) updates the card's
totals table and emits one output record with the totals after that event. Configured by
the environment the test sets (this module is test code, not part of the product):
COUNTING_APP_ID, COUNTING_BOOTSTRAP, COUNTING_INPUT, COUNTING_OUTPUT.
"""

from __future__ import annotations

import json
import os
from typing import Any

import faust

PARTITIONS = 4


def _broker_urls(bootstrap: str) -> list[str]:
    return [f"kafka://{server.strip()}" for server in bootstrap.split(",") if server.strip()]


app = faust.App(
    os.environ["COUNTING_APP_ID"],
    broker=_broker_urls(os.environ["COUNTING_BOOTSTRAP"]),
    store="rocksdb://",
    topic_partitions=PARTITIONS,
    topic_replication_factor=1,
    # Small commit interval: a graceful stop commits anyway, this only shortens the test.
    broker_commit_interval=0.5,
)

source = app.topic(
    os.environ["COUNTING_INPUT"], key_type=bytes, value_type=bytes, value_serializer="raw"
)
sink = app.topic(
    os.environ["COUNTING_OUTPUT"], key_type=bytes, value_type=bytes, value_serializer="raw"
)
totals = app.Table(
    "card-totals",
    default=None,
    partitions=PARTITIONS,
    # Tables serialize keys and values as JSON unless told otherwise.
    key_type=str,
)


@app.agent(source)
async def count(stream: Any) -> None:
    async for event in stream.events():
        card = event.key.decode()
        payload = json.loads(event.value)
        before = totals.get(card) or {"count": 0, "sum": 0}
        after = {"count": before["count"] + 1, "sum": before["sum"] + payload["amount"]}
        totals[card] = after
        output = {"card": card, "seq": payload["seq"], **after}
        await sink.send(key=event.key, value=json.dumps(output).encode())
