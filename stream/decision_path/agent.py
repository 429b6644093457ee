"""The Faust agent: records from the input topic into the decision stage, batches out.

A micro-batch is decided as soon as no more input is waiting in the agent's queue (so a lone
event is decided at once), when it is full, or when its oldest event has waited
max_batch_wait_ms while input kept coming. No timer: an idle worker does no work.
"""

from __future__ import annotations

import time
from typing import Any

import faust

from stream.decision_path.output import OutputProducer
from stream.decision_path.stage import DecisionStage


def input_topic(app: faust.App, name: str, partitions: int) -> Any:
    return app.topic(
        name,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )


def attach_decision_agent(
    app: faust.App, source: Any, stage: DecisionStage, output: OutputProducer
) -> None:
    @app.agent(source, name="decide")
    async def decide(stream: Any) -> None:
        # Acks are manual: a record is acknowledged once its outcome was sent.
        manual = stream.noack()
        waiting = manual.channel.queue
        async for event in manual.events():
            message = event.message
            if stage.take(
                event.value,
                message.key,
                message.partition,
                message.offset,
                round(message.timestamp * 1000),
                event,
            ):
                await manual.ack(event)
            if waiting.empty() or stage.due(time.monotonic()):
                for done in stage.flush():
                    await manual.ack(done)
                output.poll()
