"""Records sent through librdkafka are delivered before Faust commits any offset.

Replaces: nothing upstream; extends the `await self.app.producer.flush()` that
`Consumer._commit_offsets` runs right before committing (faust/transport/consumer.py ~1073,
faust-streaming 0.15.3) to the worker's own producers, so an input offset is committed only
after every output and changelog record of that input was delivered.
processing_guarantee=exactly_once commits through the producer's transactions instead, which
these records are not part of: the worker refuses that setting (see stream.settings).
Delete when: the worker stops sending through its own producers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any


def flush_before_commits(app: Any, flush: Callable[[], Awaitable[None]]) -> None:
    producer = app.producer
    faust_flush = producer.flush

    async def flush_both() -> None:
        await flush()
        await faust_flush()

    producer.flush = flush_both
