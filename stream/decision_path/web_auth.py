"""An optional bearer token in front of every web endpoint of the worker.

A middleware, not a check in each view: Faust's own routes (/router/<table>/<key>/ serves table
values, i.e. card state; /table/, /stats/) sit on the same server and must be covered too.
/health stays open: it says "alive" and nothing else, and liveness probes are the clients least
able to carry a secret; /ready, which explains what is not ready, wants the token like the rest.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

OPEN_PATHS = frozenset({"/health"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bearer_token_matches(authorization: str | None, token: str) -> bool:
    """True when an Authorization header carries exactly `token` (compared in constant time)."""
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def token_middleware(token: str) -> Middleware:
    @web.middleware
    async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in OPEN_PATHS or bearer_token_matches(
            request.headers.get("Authorization"), token
        ):
            return await handler(request)
        return web.json_response(
            {"error": "a bearer token is required (Authorization: Bearer <FRAUD_WEB_TOKEN>)"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="fraudstream"'},
        )

    return require_token


def protect_web(web_app: web.Application, token: str | None) -> None:
    """Require `token` on `web_app` (before its server starts); no token: leave it open."""
    if token:
        web_app.middlewares.append(token_middleware(token))
