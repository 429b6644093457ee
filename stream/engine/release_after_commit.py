"""A stopping worker lets its successor in once its final commit is made, not at its exit.

Replaces, in faust-streaming 0.15.3 / mode-streaming 0.7.1, for the warm handover
(stream.decision_path.handover): the moment the data-dir lock is released, which was after
Faust's whole stop. After the final commit and the consumer's close came the web server's,
the cache's and the producer's stops, mode's sentinel and the event loop's close (one
takeover's log here: the consumer closed 17 ms after the SIGTERM, the loop 30 ms), all while
the restarted worker's partitions waited.

Here the consumer's shutdown, which comes after its final commit (`Consumer.on_stop`, outputs
flushed before it: `commit_flush`) and after its group client closed, stops the web server
(the successor binds the same port next; Faust starts the web before the consumer, so it
would stop after; mode's `Service.stop` does nothing the second time) and runs the app's
`after_final_commit` callbacks: the worker closes its active partitions' stores and releases
the data-dir lock there. Nothing after that point writes a store or the group's offsets.
Delete when: Faust offers a hook between its final commit and the rest of its stop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

CALLBACKS = "_after_final_commit"


def after_final_commit(app: Any, callback: Callable[[], None]) -> None:
    """Run `callback` once the app's consumer has made its final commit and closed."""
    app.__dict__.setdefault(CALLBACKS, []).append(callback)


class ReleaseAfterCommit:
    """Consumer mixin: the app's `after_final_commit` callbacks at the consumer's shutdown."""

    async def on_shutdown(self) -> None:
        parent: Any = super()
        await parent.on_shutdown()
        consumer: Any = self
        app = consumer.app
        callbacks = app.__dict__.get(CALLBACKS, ())
        if callbacks and app.conf.web_enabled:
            await app.web.stop()
        for callback in callbacks:
            callback()
