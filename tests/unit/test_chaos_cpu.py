"""The chaos run's CPU sampler (stream/chaos/cpu.py): reading /proc, finding its worker
processes, and turning samples into % of a core per second."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from stream.chaos.cpu import (
    TICKS_PER_SECOND,
    CpuSampler,
    cpu_seconds,
    median_before,
)


def _stat(pid: int, comm: str, utime: int, stime: int) -> str:
    # Fields after the command name: state, ppid, ... utime is the 14th field, stime the 15th.
    after = ["S", "1"] + ["0"] * 9 + [str(utime), str(stime)] + ["0"] * 30
    return f"{pid} ({comm}) " + " ".join(after)


def test_cpu_seconds_reads_user_and_system_time_past_an_odd_command_name(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "stat").write_text(_stat(42, "py (worker) x", 300, 100))
    assert cpu_seconds(42, tmp_path) == 400 / TICKS_PER_SECOND
    assert cpu_seconds(43, tmp_path) is None  # gone


def test_cpu_seconds_of_a_busy_process_grows() -> None:
    started = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert started is not None
    used = cpu_seconds(os.getpid())
    assert used is not None and used - started >= 0.2


def test_samples_become_percent_of_a_core_per_second(monkeypatch: pytest.MonkeyPatch) -> None:
    used = {7: [10.0, 10.5, 11.0], 8: [1.0, 1.0, 1.25]}
    calls = {"n": 0}

    def fake_cpu(pid: int) -> float | None:
        return used[pid][calls["n"]]

    import stream.chaos.cpu as cpu_module

    monkeypatch.setattr(cpu_module, "cpu_seconds", fake_cpu)
    sampler = CpuSampler(lambda: {"broker": [7], "workers": [8]}, t0=100.0)
    for now in (100.2, 100.7, 101.7):  # samples in seconds 0, 0 and 1; the last one late
        sampler.sample(now)
        calls["n"] += 1
    # The first sample only sets each process's baseline; a late sample's CPU is spread over
    # the time it covers (0.5 s of broker CPU over 1.0 s: 50 %, not 100 %).
    assert sampler.by_second() == {
        0: {"broker": 100.0, "workers": 0.0},
        1: {"broker": 50.0, "workers": 25.0},
    }


def test_the_median_before_a_disruption_skips_the_start_and_stops_at_it() -> None:
    by_second = {s: {"broker": float(s)} for s in range(0, 30)}
    assert median_before(by_second, end=20, skip=5) == {"broker": 12.0}  # seconds 5..19
    assert median_before(by_second, end=4, skip=5) == {"broker": 2.5}  # a short run: 2, 3
    assert median_before(by_second, end=0) == {}
