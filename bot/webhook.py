"""Webhook mode: an aiohttp server that answers Telegram at once and works in the background.

Every request must carry X-Telegram-Bot-Api-Secret-Token (compared in constant time); a wrong
one gets 401, a body that is not an Update gets 400 (bodies over 1 MiB 413), and neither
disturbs the server. The webhook is all this public listener shows, with the e-gov login's
/auth/start and /auth/callback when it is configured (bot.egov_web): /healthz and /metrics
live on the metrics listener (bot.monitoring), and come here only behind METRICS_TOKEN when
an operator asks for it (METRICS_PORT 0); any other path is 404. An update delivered again
is answered 200 like the first and skipped by the dispatcher (bot.once).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.egov_web import EgovWeb
from bot.monitoring import Listener, Monitoring

logger = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
MAX_BODY = 1024 * 1024


class WebhookServer:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        secret: str,
        monitoring: Monitoring | None = None,
        egov: EgovWeb | None = None,
    ) -> None:
        """``monitoring``: /healthz and /metrics served here too (guarded by their token);
        ``egov``: the e-gov login's routes."""
        self.dp, self.bot, self.secret = dp, bot, secret
        self.monitoring = monitoring
        self.egov = egov
        self.tasks: set[asyncio.Task[Any]] = set()
        self.listener = Listener(self.app(), "webhook server")

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(WEBHOOK_PATH, self.handle)
        if self.monitoring is not None:
            self.monitoring.add_routes(app)
        if self.egov is not None:
            self.egov.add_routes(app)
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

    async def start(self, host: str, port: int) -> None:
        await self.listener.start(host, port)

    async def stop(self) -> None:
        """Stop taking requests, then let the updates in flight finish."""
        if self.listener.runner is not None:
            await self.listener.runner.shutdown()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=30)
        await self.listener.stop()
