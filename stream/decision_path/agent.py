"""The Faust agent: records from the input topic into the decision stage, batches out.

A micro-batch is what is waiting in the agent's queue when it takes a record (up to
max_batch): a lone event is decided at once, a burst together, and nothing ever waits for a
batch to fill. No timer either: an idle worker does no work.
"""

from __future__ import annotations

from typing import Any

import faust

from stream.decision_path.stage import DecisionStage


class RawBytes(faust.Schema):  # type: ignore[type-arg]
    """Keys and values as the bytes Kafka holds, without Faust's codec registry per record.

    The stage decodes and validates the bytes itself (schemas.codec): bad bytes must become a
    dead letter with a reason, never a decode error inside Faust.
    """

    def compile(
        self,
        app: Any,
        *,
        on_key_decode_error: Any = None,
        on_value_decode_error: Any = None,
        default_propagate: bool = False,
    ) -> Any:
        event_class: Any = app.conf.Event

        async def decode(message: Any, *, propagate: bool = default_propagate) -> Any:
            return event_class(app, message.key, message.value, message.headers, message)

        return decode


def input_topic(app: faust.App, name: str, partitions: int) -> Any:
    return app.topic(name, partitions=partitions, schema=RawBytes())


def attach_decision_agent(
    app: faust.App, source: Any, stage: DecisionStage, max_batch: int
) -> None:
    @app.agent(source, name="decide")
    async def decide(stream: Any) -> None:
        # Acks are manual: a record is acknowledged once it was decided (a commit first sends
        # the decisions held for their card states, then flushes: see the stage).
        manual = stream.noack()
        waiting = manual.channel.queue
        async for first in manual.events():
            batch = [first]
            # The records already queued join the batch: taken without a pass through the
            # stream's iterator, which costs an await and its bookkeeping per record.
            while len(batch) < max_batch and not waiting.empty():
                batch.append(waiting.get_nowait())
            stage.begin_batch()
            for event in batch:
                message = event.message
                stage.take(
                    event.value,
                    message.key,
                    message.partition,
                    message.offset,
                    round(message.timestamp * 1000),
                    message.headers,
                )
            stage.flush()
            for event in batch:
                event.ack()  # what Stream.ack does, minus the (absent) sensors
            stage.poll()
