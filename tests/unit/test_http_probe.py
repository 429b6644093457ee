"""ops/docker/http_ok.py, the compose health checks' probe (the slim image has no curl)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

PROBE = Path(__file__).resolve().parents[2] / "ops" / "docker" / "http_ok.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("http_ok", PROBE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.path == "/open" or (
            self.path == "/ready" and self.headers.get("Authorization") == "Bearer s3cret"
        )
        self.send_response(200 if ok else 503)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        return


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_2xx_answer_is_healthy_and_the_token_is_sent(server: str) -> None:
    probe = _load().probe
    assert probe(f"{server}/open", None)
    assert probe(f"{server}/ready", "s3cret")
    assert not probe(f"{server}/ready", None)  # 503
    assert not probe(f"{server}/ready", "wrong")


def test_no_answer_is_unhealthy_and_the_exit_code_says_so(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _load()
    monkeypatch.setenv("FRAUD_WEB_TOKEN", "s3cret")
    assert module.main(["http_ok.py", f"{server}/ready"]) == 0
    assert module.main(["http_ok.py", "http://127.0.0.1:9/nothing-listens"]) == 1
    assert module.main(["http_ok.py"]) == 2
