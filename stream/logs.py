"""Structured JSON logs, one object per line, with per-message rate limiting.

Fields given with `extra=` (transaction_id, reason, ...) become top-level keys. The rate limit
keeps a storm of identical messages (aiokafka logs ~10,000 "Unable connect to node" lines a
second while a broker is down) to a few lines and a count of what was dropped.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, worker_id: str = "") -> None:
        super().__init__()
        self._worker_id = worker_id

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if self._worker_id:
            payload["worker"] = self._worker_id
        for key, value in record.__dict__.items():
            if key not in _RESERVED and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class RateLimitFilter(logging.Filter):
    """At most `burst` records per (logger, message template) per `interval_s`."""

    def __init__(self, burst: int = 5, interval_s: float = 10.0) -> None:
        super().__init__()
        self._burst = burst
        self._interval = interval_s
        self._windows: dict[tuple[str, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        window = self._windows.get(key)
        if window is None or now - window[0] >= self._interval:
            suppressed = int(window[2]) if window else 0
            self._windows[key] = [now, 1.0, 0.0]
            if suppressed:
                record.suppressed_before = suppressed
            return True
        if window[1] < self._burst:
            window[1] += 1
            return True
        window[2] += 1
        return False


def logging_config(level: str, worker_id: str) -> dict[str, Any]:
    """A dictConfig for Faust's worker: JSON to stderr, rate-limited."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"rate_limit": {"()": RateLimitFilter}},
        "formatters": {"json": {"()": JsonFormatter, "worker_id": worker_id}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["rate_limit"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
    }
