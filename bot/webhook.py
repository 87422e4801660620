"""Webhook mode: an aiohttp server that answers Telegram at once and works in the background.

Every request must carry X-Telegram-Bot-Api-Secret-Token; a wrong one gets 401, a body that
is not an Update gets 400, and neither disturbs the server. /healthz checks the database
(and Redis when used); /metrics is Prometheus.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import ValidationError

from bot.metrics import REGISTRY

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"

HealthCheck = Callable[[], Awaitable[dict[str, bool]]]


class WebhookServer:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        secret: str,
        health: HealthCheck,
        refresh_metrics: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.dp, self.bot, self.secret = dp, bot, secret
        self.health = health
        self.refresh_metrics = refresh_metrics
        self.tasks: set[asyncio.Task[Any]] = set()
        self.runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(WEBHOOK_PATH, self.handle)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        token = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(token.encode(), self.secret.encode()):
            return web.json_response({"ok": False, "error": "unauthorized"}, status=401)
        try:
            payload = json.loads(await request.read())
            update = Update.model_validate(payload, context={"bot": self.bot})
        except (ValueError, ValidationError, UnicodeDecodeError):
            return web.json_response({"ok": False, "error": "bad update"}, status=400)
        task = asyncio.create_task(self._feed(update))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return web.json_response({"ok": True})

    async def _feed(self, update: Update) -> None:
        try:
            await self.dp.feed_update(self.bot, update)
        except Exception:
            logger.exception("update %s failed", update.update_id)

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

    async def start(self, host: str, port: int) -> None:
        self.runner = web.AppRunner(self.app(), handle_signals=False)
        await self.runner.setup()
        await web.TCPSite(self.runner, host, port).start()
        logger.info("webhook server listening on %s:%s", host, port)

    async def stop(self) -> None:
        """Stop taking requests, then let the updates in flight finish."""
        if self.runner is not None:
            await self.runner.shutdown()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=30)
        if self.runner is not None:
            await self.runner.cleanup()
