"""The engine override: pinned to the versions it was written for, and the order it enforces.

Removing the fix makes these fail: the app would use Faust's own TableManager/Recovery, whose
post-recovery step resumes the input partitions before the queue clear (see README,
Reliability), and the call-order test would see `resume_partitions` first.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from stream.app import create_app
from stream.engine_fixes import (
    PINNED_VERSIONS,
    OrderedRecovery,
    OrderedRecoveryTableManager,
    engine_versions,
    flush_outputs_before_commits,
)
from stream.settings import Settings


def test_engine_is_the_version_the_fix_was_written_for() -> None:
    # A new faust-streaming or aiokafka must be re-checked against stream/engine_fixes.py.
    assert engine_versions() == PINNED_VERSIONS


def test_app_uses_the_ordered_recovery(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    assert isinstance(app.tables, OrderedRecoveryTableManager)
    assert isinstance(app.tables.recovery, OrderedRecovery)


def test_unfixed_app_is_available_only_on_request(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, ordered_recovery=False))
    assert not isinstance(app.tables, OrderedRecoveryTableManager)


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []


class _Consumer:
    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    def assignment(self) -> set[Any]:
        return {("fraud.transactions.v1", 0), ("app-card-state-changelog", 0)}

    async def perform_seek(self) -> None:
        await asyncio.sleep(0.01)  # a seek takes a round trip; nothing may resume meanwhile
        self.recorder.calls.append("seek")

    def resume_flow(self) -> None:
        self.recorder.calls.append("resume_flow")

    def resume_partitions(self, partitions: set[Any]) -> None:
        self.recorder.calls.append(f"resume_partitions:{sorted(partitions)}")


class _FlowControl:
    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder

    def resume(self) -> None:
        self.recorder.calls.append("flow_control.resume (clears queues)")


class _Fetcher:
    async def maybe_start(self) -> None:
        return None


def test_seek_and_queue_clear_happen_before_input_partitions_resume() -> None:
    recorder = _Recorder()
    recovery: Any = OrderedRecovery.__new__(OrderedRecovery)
    recovery.__dict__["app"] = type(
        "App",
        (),
        {
            "flow_control": _FlowControl(recorder),
            "_fetcher": _Fetcher(),
            "conf": type("Conf", (), {"broker_request_timeout": 5})(),
        },
    )()
    recovery.__dict__["completed"] = asyncio.Event()
    recovery.__dict__["_is_changelog_tp"] = lambda tp: tp[0].endswith("changelog")

    async def wait(coroutine: Any, timeout: float) -> None:
        await coroutine

    recovery.__dict__["_wait"] = wait
    recovery.__dict__["log"] = type("Log", (), {"info": staticmethod(lambda *a: None)})()
    asyncio.run(recovery._seek_then_resume(_Consumer(recorder)))
    assert recorder.calls == [
        "seek",
        "flow_control.resume (clears queues)",
        "resume_flow",
        "resume_partitions:[('fraud.transactions.v1', 0)]",
    ]


class _RecordingProducer:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    async def flush(self) -> None:
        self.calls.append("faust flush")

    async def commit_transactions(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("commit in transaction")


def test_outputs_are_flushed_before_either_kind_of_offset_commit() -> None:
    calls: list[str] = []

    class _App:
        producer = _RecordingProducer(calls)

    async def flush_outputs() -> None:
        calls.append("outputs flushed")

    flush_outputs_before_commits(_App, flush_outputs)

    async def commit_both_ways() -> None:
        await _App.producer.flush()  # at_least_once: before Consumer._commit
        await _App.producer.commit_transactions({}, "group")  # exactly_once

    asyncio.run(commit_both_ways())
    assert calls == [
        "outputs flushed",
        "faust flush",
        "outputs flushed",
        "commit in transaction",
    ]
