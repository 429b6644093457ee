"""`fraudstream broker up | status | down` as a user runs them: a detached broker, found again
from its state file, stopped by pid."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stream.broker import free_ports
from stream.broker.process import pid_alive
from stream.broker.readiness import metadata_answers
from stream.broker.state import read_state

pytestmark = pytest.mark.integration


def _cli(var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from stream.cli import main; main()", "broker", *args],
        env={**os.environ, "FRAUD_VAR_DIR": str(var_dir)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_up_status_down_manage_exactly_one_detached_broker(tmp_path: Path) -> None:
    port, controller_port = free_ports(2)
    state_path = tmp_path / "broker" / "broker.json"
    try:
        up = _cli(tmp_path, "up", "--port", str(port), "--controller-port", str(controller_port))
        assert up.returncode == 0, up.stderr
        assert up.stdout.strip() == f"127.0.0.1:{port}"
        state = read_state(state_path)
        assert state is not None and state.is_running()
        assert metadata_answers(state.bootstrap)
        # Its collections are logged, as Kafka's own scripts do: a latency spike can be
        # checked against the broker's pauses.
        gc_log = tmp_path / "broker" / "logs" / "gc.log"
        assert "Using G1" in gc_log.read_text()

        again = _cli(tmp_path, "up", "--port", str(port), "--controller-port", str(controller_port))
        assert again.returncode == 0 and "already running" in again.stderr
        assert read_state(state_path) == state  # the same process, not a second one

        status = _cli(tmp_path, "status")
        assert status.returncode == 0 and f"pid {state.pid}" in status.stdout

        down = _cli(tmp_path, "down")
        assert down.returncode == 0 and "stopped" in down.stderr
        assert not pid_alive(state.pid)
        assert not state_path.exists()

        after = _cli(tmp_path, "status")
        assert after.returncode == 3 and after.stdout.strip() == "not running"
    finally:
        leftover = read_state(state_path)
        if leftover is not None:
            leftover.stop(timeout=30)
