"""What the load and stress suites share: a worker at default latency budget, paced traffic
through `stream.load` (the code behind `fraudstream load`), and the worker's memory."""

from __future__ import annotations

from pathlib import Path

from stream.settings import Settings
from tests.support.stream_setup import StreamSetup, stream_setup
from tests.support.stream_worker import StreamWorker


def budget_worker(
    bootstrap: str, package: Path, work: Path, label: str
) -> tuple[StreamWorker, StreamSetup]:
    """A worker with the shipped latency budget (the other suites lift it: they replay hours
    in seconds), so that a late decision shows up as a fallback."""
    setup = stream_setup(
        bootstrap,
        work / "var",
        package,
        label,
        # The default, not this process's environment: the shipped budget is what is tested.
        FRAUD_LATENCY_BUDGET_MS=str(Settings.model_fields["latency_budget_ms"].default),
    )
    return StreamWorker(setup.env, work / "worker", work / "worker.log"), setup


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
