"""Smoke: `fraudstream worker` comes up on the real broker, scores what `fraudstream load`
sends it, and on SIGTERM leaves cleanly: exit code 0, its port closed, no process of its
session still running. (It stays a static group member until session_timeout_s on purpose,
KIP-345: a worker back in time gets its partitions without a rebalance; not checked here.)"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from tests.support.cli import run_cli
from tests.support.http import get
from tests.support.stream_setup import stream_setup
from tests.support.stream_worker import StreamWorker

pytestmark = [pytest.mark.integration, pytest.mark.smoke]


def _session_members(session_id: int) -> list[int]:
    """Pids of live processes in the session the worker led (it was started in its own)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == session_id:
                members.append(int(entry.name))
        except OSError:  # gone meanwhile
            continue
    return members


def _group_state(bootstrap: str, group: str) -> str:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.describe_consumer_groups([group]).values()
    return str(future.result(timeout=10).state.name)


def test_worker_comes_up_scores_and_shuts_down_cleanly(
    kafka_bootstrap: str, test_package: Path, tmp_path: Path
) -> None:
    setup = stream_setup(kafka_bootstrap, tmp_path / "var", test_package, "smoke")
    worker = StreamWorker(setup.env, tmp_path / "worker", tmp_path / "worker.log")
    worker.start(timeout=120)
    try:
        pid = worker.pid
        assert pid is not None
        assert get(f"{worker.base_url}/health").status == 200
        done = run_cli(setup.env, "load", "--rate", "50", "--count", "100", timeout_s=180)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "decided   100 (0 missing" in done.stdout, done.stdout
        metrics = get(f"{worker.base_url}/metrics").body.decode()
        assert "fraud_decisions_total" in metrics
        assert _group_state(kafka_bootstrap, setup.app_id) == "STABLE"
    finally:
        started_stop = time.monotonic()
        code = worker.stop()
    assert code == 0, worker.log_text()[-3000:]
    assert time.monotonic() - started_stop < 30
    assert _session_members(pid) == []
    with socket.socket() as probe:  # nothing listens on its port any more
        assert probe.connect_ex(("127.0.0.1", worker.web_port)) != 0
    assert "Traceback" not in worker.log_text()
