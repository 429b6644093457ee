"""Debian's `prometheus` binary as a test subprocess: own config, loopback port, temp storage."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from stream.broker.ports import free_port
from stream.broker.process import stop_child

REPO = Path(__file__).resolve().parents[2]
ALERT_RULES = REPO / "ops" / "prometheus" / "alerts.yml"


def rules_with_short_for(rules_text: str, alerts: Mapping[str, str]) -> str:
    """The alert rules with the named alerts' `for:` replaced: a test cannot wait 10 minutes
    for a pending alert to fire, but the expression it checks is the shipped one."""
    document = yaml.safe_load(rules_text)
    for group in document["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") in alerts:
                rule["for"] = alerts[rule["alert"]]
    return str(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


class PrometheusServer:
    """A running Prometheus; its HTTP API at `base_url`."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process, self.port, self.log = process, port, log

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.base_url}/api/v1/{path}{query}", timeout=5) as reply:
            answer = json.loads(reply.read())
        assert answer["status"] == "success", answer
        return answer["data"]

    def wait_until(self, check: Any, timeout_s: float, what: str) -> Any:
        """Polls `check()` until it returns something truthy; fails with the log's tail."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"prometheus exited:\n{self.tail()}"
            with contextlib.suppress(OSError):
                found = check()
                if found:
                    return found
            time.sleep(0.5)
        raise AssertionError(f"{what} not within {timeout_s} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def prometheus(
    binary: str,
    work: Path,
    scrape_configs: list[dict[str, Any]],
    rules_text: str,
    interval: str = "1s",
) -> Iterator[PrometheusServer]:
    """Prometheus on a free loopback port with `rules_text` loaded; stopped by pid on exit."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "alerts.yml").write_text(rules_text, encoding="utf-8")
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(work / "alerts.yml")],
        "scrape_configs": scrape_configs,
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    log = work / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={work / 'prometheus.yml'}",
                f"--storage.tsdb.path={work / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PrometheusServer(process, port, log)
    try:
        server.wait_until(lambda: _ready(server), 30, "prometheus /-/ready")
        yield server
    finally:
        stop_child(process, 15)


def _ready(server: PrometheusServer) -> bool:
    with urllib.request.urlopen(f"{server.base_url}/-/ready", timeout=2) as reply:
        return bool(reply.status == 200)
