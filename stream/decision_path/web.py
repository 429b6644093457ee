"""The worker's HTTP endpoints: /metrics, /health, /ready, /model, /consumer (loopback).

The online scoring endpoints (/v1/score, /v1/score:batch) are in `scoring_api.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from stream.decision_path.metrics import StreamMetrics


def register_views(
    app: faust.App,
    metrics: StreamMetrics,
    is_ready: Callable[[], tuple[bool, str]],
    model_info: Callable[[], dict[str, Any]],
    consumer_info: Callable[[], dict[str, Any]],
) -> None:
    @app.page("/metrics")
    async def metrics_view(web: Any, request: Any) -> Any:
        # aiohttp wants the charset apart from the media type.
        media_type = CONTENT_TYPE_LATEST.split(";")[0]
        return web.bytes(generate_latest(metrics.registry), content_type=media_type)

    @app.page("/health")
    async def health_view(web: Any, request: Any) -> Any:
        return web.json({"status": "alive"})

    @app.page("/ready")
    async def ready_view(web: Any, request: Any) -> Any:
        ready, why = is_ready()
        return web.json({"ready": ready, "detail": why}, status=200 if ready else 503)

    @app.page("/model")
    async def model_view(web: Any, request: Any) -> Any:
        return web.json(model_info())

    @app.page("/consumer")
    async def consumer_view(web: Any, request: Any) -> Any:
        return web.json(consumer_info())
