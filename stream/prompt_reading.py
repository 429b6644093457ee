"""Taking what a long-running confluent-kafka consumer has, as soon as it has anything.

`Consumer.consume(n, timeout)` waits until it holds `n` messages or `timeout` passes
(librdkafka's rd_kafka_consume_batch_queue): at a few hundred records a second a reader that
asks for 1,000 waits out the whole timeout for each batch. For readers where a record's age
matters (the merchant view, latency probes), wait for the first record only, then take what is
already there.
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer


def take_available(consumer: Consumer, max_messages: int, timeout_s: float) -> list[Any]:
    """Up to `max_messages`: the first within `timeout_s`, then only those already fetched."""
    first = consumer.poll(timeout_s)
    if first is None:
        return []
    return [first, *consumer.consume(max_messages - 1, timeout=0)] if max_messages > 1 else [first]
