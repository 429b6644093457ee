"""Rolling restarts go one worker at a time and never past a worker that is not ready."""

from __future__ import annotations

import http.server
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stream.cli import app
from stream.rolling import RollingRestartError, rolling_restart


@dataclass
class _Worker:
    name: str
    journal: list[str]
    polls_until_ready: int = 2
    _left: int = 0
    never_ready: bool = False

    def restart(self) -> None:
        assert all(entry.endswith("ready") for entry in self.journal[-1:]), "one at a time"
        self.journal.append(f"{self.name} restarted")
        self._left = self.polls_until_ready

    def ready(self) -> bool:
        if self.never_ready and self.journal:
            return False
        if self._left > 0:
            self._left -= 1
            if self._left == 0:
                self.journal.append(f"{self.name} ready")
            return False
        return True


def test_each_worker_restarts_only_after_the_previous_one_is_ready() -> None:
    journal: list[str] = []
    workers = [_Worker("worker-1", journal), _Worker("worker-2", journal)]
    restarted = rolling_restart(workers, ready_timeout_s=5, poll_s=0.0, say=lambda _: None)
    assert journal == [
        "worker-1 restarted",
        "worker-1 ready",
        "worker-2 restarted",
        "worker-2 ready",
    ]
    assert [done.name for done in restarted] == ["worker-1", "worker-2"]


def test_a_worker_that_stays_unready_stops_the_roll() -> None:
    journal: list[str] = []
    workers = [_Worker("worker-1", journal, never_ready=True), _Worker("worker-2", journal)]
    with pytest.raises(RollingRestartError, match="worker-1 not ready"):
        rolling_restart(workers, ready_timeout_s=0.2, poll_s=0.01, say=lambda _: None)
    assert journal == ["worker-1 restarted"]


@dataclass
class _ReadyServer:
    port: int


@pytest.fixture
def ready_server() -> Iterator[_ReadyServer]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"ready": true}')

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield _ReadyServer(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_command_restarts_each_named_worker_with_its_own_command(
    ready_server: _ReadyServer, tmp_path: Path
) -> None:
    journal = tmp_path / "restarts"
    command = (
        f"{sys.executable} -c \"import sys; open(sys.argv[1], 'a').write(sys.argv[2] + chr(10))\" "
        f"{journal} {{name}}:{{port}}"
    )
    port = ready_server.port
    result = CliRunner().invoke(
        app,
        ["rolling-restart", f"worker-1={port}", f"worker-2={port}", "--restart-command", command],
    )
    assert result.exit_code == 0, result.output
    assert journal.read_text().split() == [f"worker-1:{port}", f"worker-2:{port}"]
    assert "worker-2: ready" in result.output


def test_command_refuses_a_worker_without_its_port() -> None:
    result = CliRunner().invoke(app, ["rolling-restart", "worker-1", "--restart-command", "true"])
    assert result.exit_code == 2
