"""Prometheus metrics of one worker, served on /metrics by bot.monitoring."""

from __future__ import annotations

import time
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
)
from aiogram.client.session.middlewares.base import (
    NextRequestMiddlewareType as NextRequest,
)
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response
from aiogram.methods.base import TelegramType as T
from aiogram.types import TelegramObject, Update
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.middlewares import Data, Handler

REGISTRY = CollectorRegistry(auto_describe=True)

UPDATES = Counter("bot_updates_total", "Updates handled, by type", ["type"], registry=REGISTRY)
LATENCY = Histogram(
    "bot_update_seconds",
    "Time to handle one update",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
DUPLICATE_UPDATES = Counter(
    "bot_updates_duplicate_total",
    "Updates delivered again and skipped (bot.once); not in bot_updates_total",
    registry=REGISTRY,
)
THROTTLED_UPDATES = Counter(
    "bot_updates_throttled_total",
    "Updates dropped by the per-user throttle (bot.throttle); not in bot_updates_total",
    registry=REGISTRY,
)
OUTBOX = Gauge("bot_outbox_messages", "Outbox rows by status", ["status"], registry=REGISTRY)
APPLICATIONS = Gauge(
    "bot_applications", "Applications by status (shared database)", ["status"], registry=REGISTRY
)
EVENTS = Gauge(
    "bot_application_events",
    "Events in the applications' timelines by kind (shared database)",
    ["kind"],
    registry=REGISTRY,
)
TELEGRAM_ERRORS = Counter(
    "bot_telegram_api_errors_total", "Telegram API errors by code", ["code"], registry=REGISTRY
)


class UpdateMetricsMiddleware(BaseMiddleware):
    """Outer middleware on ``dp.update``: counts updates by type and times the handling."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: Data) -> Any:
        kind = event.event_type if isinstance(event, Update) else type(event).__name__
        UPDATES.labels(kind).inc()
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            LATENCY.observe(time.perf_counter() - started)


_CODES = {
    "TelegramRetryAfter": "429",
    "TelegramForbiddenError": "403",
    "TelegramBadRequest": "400",
    "TelegramMigrateToChat": "400",
    "TelegramNotFound": "404",
    "TelegramUnauthorizedError": "401",
    "TelegramConflictError": "409",
    "TelegramEntityTooLarge": "413",
    "TelegramServerError": "5xx",
}


def error_code(exc: TelegramAPIError) -> str:
    return _CODES.get(type(exc).__name__, "other")


class ApiErrorMetrics(BaseRequestMiddleware):
    """Session middleware: counts Telegram API errors by their HTTP-like code."""

    async def __call__(
        self, make_request: NextRequest[T], bot: Bot, method: TelegramMethod[T]
    ) -> Response[T]:
        try:
            return await make_request(bot, method)
        except TelegramAPIError as exc:
            TELEGRAM_ERRORS.labels(error_code(exc)).inc()
            raise
