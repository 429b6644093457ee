"""Where a restart's time goes: per partition from the topics, per step from the worker's log.

A restart's cost to scoring is the stretch its partitions go undecided, plus the backlog that
piles up meanwhile and is then decided too late (a budget fallback each). This splits it into
what can be acted on: the old process's stop (SIGTERM → exit), the new one's join, recovery
and first fetch (from its log), and per partition the pause and the inputs that fell back.
Times are wall-clock milliseconds, as Kafka timestamps and the JSON log's `ts` are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from stream.chaos.availability import DecisionSeen, InputSeen

# Lines of the worker's own log that mark a restart's steps, in the order they happen.
STEPS: tuple[tuple[str, str], ...] = (
    ("old_stopping", "[^PromptStopWorker]: Stopping..."),
    ("old_loop_closed", "[^PromptStopWorker]: Closing event loop"),
    # The new process's "previous process exited" comes before its logging is set up.
    ("new_starting", "[^PromptStopWorker]: Starting..."),
    ("joined", "Joined group"),
    ("assigned", "Setting newly assigned partitions"),
    ("recovered", "Recovery complete"),
    ("fetching", "[^---Fetcher]: Starting..."),
    ("worker_ready", "Worker ready"),
)
PAUSED_MS = 300  # a partition undecided this long after the stop was paused by the restart


@dataclass(frozen=True)
class PartitionPause:
    partition: int
    last_before_ms: int  # its last decision before the pause
    first_after_ms: int  # its first decision after the pause
    back_in_budget_ms: int | None  # the first decision after it that did not fall back
    fallbacks: int  # inputs sent from the pause's start until back in budget that fell back
    inputs: int  # inputs sent from the pause's start until back in budget


def partition_pauses(
    inputs: Sequence[InputSeen],
    decisions: Sequence[DecisionSeen],
    stop_ms: int,
    until_ms: int,
) -> list[PartitionPause]:
    """The partitions whose longest pause between decisions began after `stop_ms` (the
    old process decides its in-flight batch after the SIGTERM) and ended by `until_ms`,
    if longer than PAUSED_MS; each transaction counted by its first decision."""
    first: dict[str, DecisionSeen] = {}
    for decision in sorted(decisions, key=lambda d: d.timestamp_ms):
        first.setdefault(decision.transaction_id, decision)
    by_partition: dict[int, list[tuple[InputSeen, DecisionSeen]]] = {}
    for seen in inputs:
        if seen.transaction_id in first:
            by_partition.setdefault(seen.partition, []).append((seen, first[seen.transaction_id]))
    pauses = []
    for partition, pairs in sorted(by_partition.items()):
        times = sorted(d.timestamp_ms for _, d in pairs)
        # The last decision before the stop still counts as a pause's start.
        start = max((i for i, t in enumerate(times) if t < stop_ms), default=0)
        gaps = [(b - a, a, b) for a, b in pairwise(times[start:]) if b <= until_ms]
        if not gaps or max(gaps)[0] < PAUSED_MS:
            continue
        _, last_before, first_after = max(gaps)
        # Caught up: an input sent after the pause began decided in budget again.
        back = min(
            (
                d.timestamp_ms
                for s, d in pairs
                if not d.fallback
                and s.timestamp_ms >= last_before
                and d.timestamp_ms >= first_after
            ),
            default=None,
        )
        sent = [
            d
            for s, d in pairs
            if s.timestamp_ms >= last_before and (back is None or s.timestamp_ms <= back)
        ]
        pauses.append(
            PartitionPause(
                partition=partition,
                last_before_ms=last_before,
                first_after_ms=first_after,
                back_in_budget_ms=back,
                fallbacks=sum(1 for d in sent if d.fallback),
                inputs=len(sent),
            )
        )
    return pauses


def log_steps(lines: Iterable[str], since_ms: int) -> dict[str, int]:
    """Each step's first logged time at or after `since_ms` (steps not logged are missing)."""
    found: dict[str, int] = {}
    for line in lines:
        if not line.startswith("{"):
            continue  # librdkafka's own reports and other raw output
        try:
            record = json.loads(line)
            at = _ms(record["ts"])
            message = str(record["msg"])
        except (ValueError, KeyError):
            continue
        if at < since_ms:
            continue
        for step, marker in STEPS:
            if step not in found and marker in message:
                found[step] = at
    return found


def read_log_steps(path: Path, since_ms: int) -> dict[str, int]:
    try:
        with path.open(errors="replace") as lines:
            return log_steps(lines, since_ms)
    except OSError:
        return {}


def _ms(ts: str) -> int:
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass(frozen=True)
class RestartTimeline:
    worker: str
    stopped_ms: int  # the SIGTERM to the old process
    steps_ms: dict[str, int]  # each step, in ms after the SIGTERM
    pauses: list[PartitionPause]
    # False: the load had ended by the SIGTERM (the new process's warm-up outlasted it), so
    # this restart says nothing about pauses under load.
    under_load: bool = True

    def figures(self) -> dict[str, object]:
        """For the run's JSON: steps and per-partition times relative to the SIGTERM."""
        stop = self.stopped_ms
        return {
            "worker": self.worker,
            "under_load": self.under_load,
            "ms_after_sigterm": self.steps_ms,
            "partitions": [
                {
                    "partition": p.partition,
                    "last_decision_before": p.last_before_ms - stop,
                    "first_decision_after": p.first_after_ms - stop,
                    "back_in_budget": (
                        None if p.back_in_budget_ms is None else p.back_in_budget_ms - stop
                    ),
                    "fallbacks": f"{p.fallbacks}/{p.inputs}",
                }
                for p in self.pauses
            ],
        }


def restart_timeline(
    worker: str,
    stopped_ms: int,
    marks_ms: dict[str, int],
    log_path: Path | None,
    inputs: Sequence[InputSeen],
    decisions: Sequence[DecisionSeen],
    load_ended_ms: int | None = None,
) -> RestartTimeline:
    """`marks_ms`: what the supervisor saw (the old process exited, /ready answered)."""
    absolute = {"sigterm": stopped_ms, **marks_ms}
    if log_path is not None:
        absolute.update(read_log_steps(log_path, stopped_ms))
    ordered = dict(sorted(absolute.items(), key=lambda item: item[1]))
    return RestartTimeline(
        worker=worker,
        stopped_ms=stopped_ms,
        steps_ms={step: at - stopped_ms for step, at in ordered.items()},
        pauses=partition_pauses(
            inputs, decisions, stopped_ms, absolute.get("ready", stopped_ms) + 10_000
        ),
        under_load=load_ended_ms is None or stopped_ms < load_ended_ms,
    )
