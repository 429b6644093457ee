"""Starts and stops without Faust's and mode's fixed one-second waits.

With static membership a restarted worker's partitions wait, undecided, from its SIGTERM until
the new process is ready (README, Availability), so every second of a restart is a second of
backlog for them. Replaces, in faust-streaming 0.15.3 / mode-streaming 0.7.1:
- `TableManager.on_start` (faust/tables/manager.py ~138-142): sleeps 1.0 s before it subscribes
  the tables' changelogs and starts recovery, so the consumer joins its group a second late
  (measured here: "Joined group" 1.1 s after the manager's "Starting..."). The decision path
  declares its tables before the app starts: nothing can arrive in that second.
- `Worker._sentinel_task` (mode/worker.py ~317-318): the last step of a shutdown, after every
  service has stopped, waits 1.0 s ("Gathering all futures..." → "Closing event loop").
  A tenth of a second still lets the closing transports' callbacks run.
Delete when: upstream drops those sleeps or makes them settings.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust


class PromptTableStart:
    """TableManager mixin: start recovery at once."""

    async def on_start(self) -> None:
        this: Any = self
        if not this.should_stop:
            await this._update_channels()
            await this.recovery.start()


class PromptStopWorker(faust.Worker):
    async def _sentinel_task(self) -> None:
        await asyncio.sleep(0.1)
