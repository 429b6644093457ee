"""A restart's timeline: which partitions paused, for how long, and what fell back meanwhile."""

from __future__ import annotations

import json
from pathlib import Path

from stream.chaos.availability import DecisionSeen, InputSeen
from stream.chaos.timeline import log_steps, partition_pauses, restart_timeline


def _inputs_and_decisions() -> tuple[list[InputSeen], list[DecisionSeen]]:
    # Partition 0 flows every 100 ms; partition 1 stops deciding at the SIGTERM (1,000 ms)
    # and resumes at 2,500 ms: its backlog falls back, then an input sent at 2,400 ms is in time.
    inputs = [InputSeen(0, t, f"a{t}") for t in range(0, 4_000, 100)]
    inputs += [InputSeen(1, t, f"b{t}") for t in range(0, 4_000, 100)]
    decisions = [DecisionSeen(f"a{t}", t + 10, False) for t in range(0, 4_000, 100)]
    for t in range(0, 4_000, 100):
        if t < 1_000:
            decisions.append(DecisionSeen(f"b{t}", t + 10, False))
        elif t < 2_400:
            decisions.append(DecisionSeen(f"b{t}", 2_500 + t // 100, True))
        else:
            decisions.append(DecisionSeen(f"b{t}", max(t + 10, 2_600), False))
    decisions.append(DecisionSeen("b1000", 3_900, False))  # a duplicate: the first one counts
    return inputs, decisions


def test_only_the_paused_partition_is_reported_with_its_backlog() -> None:
    inputs, decisions = _inputs_and_decisions()
    [pause] = partition_pauses(inputs, decisions, stop_ms=1_000, until_ms=10_000)
    assert pause.partition == 1
    assert (pause.last_before_ms, pause.first_after_ms) == (910, 2_510)
    assert pause.back_in_budget_ms == 2_600  # b2400, the first input decided in budget
    # Sent from 910 to 2,600 ms: b1000..b2600 (17), of which b1000..b2300 fell back (14).
    assert (pause.fallbacks, pause.inputs) == (14, 17)


def test_a_pause_that_begins_after_the_sigterm_is_found() -> None:
    # The old process decides its in-flight batch after the SIGTERM; the pause follows.
    inputs, decisions = _inputs_and_decisions()
    [pause] = partition_pauses(inputs, decisions, stop_ms=700, until_ms=10_000)
    assert (pause.partition, pause.last_before_ms, pause.first_after_ms) == (1, 910, 2_510)
    assert partition_pauses(inputs, decisions, stop_ms=700, until_ms=2_000) == []


def _line(ts: str, msg: str) -> str:
    return json.dumps({"ts": ts, "level": "INFO", "logger": "x", "msg": msg})


LOG = [
    _line("2026-12-06T20:00:00.000Z", "Joined group 'g' (generation 1)"),  # before: not counted
    "%4|1796586732.260|GETPID|producer| librdkafka says something",
    _line("2026-12-06T20:00:10.100Z", "[^PromptStopWorker]: Stopping..."),
    _line("2026-12-06T20:00:10.700Z", "[^PromptStopWorker]: Closing event loop"),
    _line("2026-12-06T20:00:10.900Z", "[^PromptStopWorker]: Starting..."),
    _line("2026-12-06T20:00:11.000Z", "Joined group 'g' (generation 1)"),
    _line("2026-12-06T20:00:11.050Z", "Setting newly assigned partitions {...}"),
    _line("2026-12-06T20:00:11.300Z", "[^---OrderedRecovery]: Recovery complete"),
    _line("2026-12-06T20:00:11.550Z", "[^---Fetcher]: Starting..."),
    _line("2026-12-06T20:00:11.600Z", "[^---OrderedRecovery]: Worker ready"),
    _line("2026-12-06T20:00:12.000Z", "Joined group 'g' (generation 2)"),  # later: the first counts
]
SIGTERM_MS = 1_796_587_210_000  # 2026-12-06T20:00:10.000Z


def test_log_steps_are_the_first_marks_since_the_stop() -> None:
    steps = log_steps(LOG, SIGTERM_MS)
    relative = {step: at - SIGTERM_MS for step, at in steps.items()}
    assert relative == {
        "old_stopping": 100,
        "old_loop_closed": 700,
        "new_starting": 900,
        "joined": 1_000,
        "assigned": 1_050,
        "recovered": 1_300,
        "fetching": 1_550,
        "worker_ready": 1_600,
    }


def test_the_timeline_orders_supervisor_and_log_marks_after_the_sigterm(tmp_path: Path) -> None:
    log_path = tmp_path / "worker.log"
    log_path.write_text("\n".join(LOG) + "\n")
    timeline = restart_timeline(
        "worker-1",
        SIGTERM_MS,
        {"old_exited": SIGTERM_MS + 800, "ready": SIGTERM_MS + 1_750},
        log_path,
        [],
        [],
    )
    assert list(timeline.steps_ms) == [
        "sigterm",
        "old_stopping",
        "old_loop_closed",
        "old_exited",
        "new_starting",
        "joined",
        "assigned",
        "recovered",
        "fetching",
        "worker_ready",
        "ready",
    ]
    assert timeline.figures()["ms_after_sigterm"] == timeline.steps_ms
    assert timeline.under_load


def test_a_restart_after_the_load_ended_is_flagged() -> None:
    timeline = restart_timeline("worker-2", SIGTERM_MS, {}, None, [], [], SIGTERM_MS - 1)
    assert not timeline.under_load
    assert timeline.figures()["under_load"] is False
