"""/healthz and /metrics, and the small HTTP listener that serves them.

Where they are served is the settings' choice (``Settings.metrics_listener``): on a listener
of their own (METRICS_HOST:METRICS_PORT, loopback by default), in webhook and polling mode
alike; or, with METRICS_PORT 0 and METRICS_TOKEN set, on the webhook's public listener, where
both ask for ``Authorization: Bearer <METRICS_TOKEN>``. On their own listener /metrics asks
for the token when one is set (a scraper in another container needs METRICS_HOST 0.0.0.0)
and /healthz never does (the container's health check calls it).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.metrics import REGISTRY

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"

HealthCheck = Callable[[], Awaitable[dict[str, bool]]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bearer_matches(request: web.Request, token: str) -> bool:
    """``Authorization: Bearer <token>``, compared in constant time."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        given = ""
    return hmac.compare_digest(given.strip().encode(), token.encode())


class Monitoring:
    """The two endpoints; ``token`` guards /metrics, and /healthz too when ``guard_health``."""

    def __init__(
        self,
        health: HealthCheck,
        refresh_metrics: Callable[[], Awaitable[None]] | None = None,
        *,
        token: str | None = None,
        guard_health: bool = False,
    ) -> None:
        if guard_health and not token:
            raise ValueError("guarding /healthz needs a token")
        self.health = health
        self.refresh_metrics = refresh_metrics
        self.token = token
        self.guard_health = guard_health

    def add_routes(self, app: web.Application) -> None:
        health = self._guarded(self.healthz) if self.guard_health else self.healthz
        metrics = self._guarded(self.metrics) if self.token else self.metrics
        app.router.add_get(HEALTH_PATH, health)
        app.router.add_get(METRICS_PATH, metrics)

    def app(self) -> web.Application:
        """The application of a listener that serves nothing else."""
        app = web.Application()
        self.add_routes(app)
        return app

    def _guarded(self, handler: Handler) -> Handler:
        token = self.token or ""

        async def guarded(request: web.Request) -> web.StreamResponse:
            if not bearer_matches(request, token):
                return web.json_response(
                    {"ok": False, "error": "unauthorized"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return await handler(request)

        return guarded

    async def healthz(self, request: web.Request) -> web.Response:
        checks = await self.health()
        ok = all(checks.values())
        return web.json_response({"ok": ok, **checks}, status=200 if ok else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        if self.refresh_metrics is not None:
            await self.refresh_metrics()
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )


class PathOnlyAccessLogger(AbstractAccessLogger):
    """aiohttp's access log without the query string: the e-gov login's carry a state, a
    code or a start link's token, which no log line should hold."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs',
            request.remote,
            request.method,
            request.path,
            response.status,
            time,
        )


class Listener:
    """One aiohttp application on one address, started and stopped by the worker."""

    def __init__(self, app: web.Application, name: str) -> None:
        self.app = app
        self.name = name
        self.runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> None:
        self.runner = web.AppRunner(
            self.app, handle_signals=False, access_log_class=PathOnlyAccessLogger
        )
        await self.runner.setup()
        await web.TCPSite(self.runner, host, port).start()
        logger.info("%s listening on %s:%s", self.name, host, port)

    @property
    def port(self) -> int:
        """The port it listens on (the system's choice when started on port 0)."""
        if self.runner is None or not self.runner.addresses:
            raise RuntimeError("not started")
        return int(self.runner.addresses[0][1])

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
