"""Replies that survive Telegram: a request middleware that retries what is safe to retry.

Installed on the bot's session by ``bot.app.build_bot``, it wraps every Bot API call the
handlers make (the dialog's windows, answers to button presses, keyboard removals):

* **429** (``TelegramRetryAfter``): Telegram did not apply the request; wait ``retry_after``
  and send it again, as long as the waits of this call stay within ``max_wait_s`` (30 s).
* **5xx** and **connection errors** (refused, reset, server disconnected, connect timeout):
  exponential backoff with jitter, at most ``max_tries`` (3) tries in all.
* **Read timeouts** (and an answer that is not Telegram's JSON, e.g. a proxy's 502/504
  page): Telegram may have applied the request and only its answer was lost. Repeated only
  for the methods in :data:`REPEATABLE`, whose second application changes nothing (a second
  edit is "message is not modified", a second delete "message to delete not found"), and
  for ``sendMessage`` once: a user who might see the same window twice is better off than
  one who sees nothing at all, so that one repetition is the accepted window of a duplicate.

A connection reset after Telegram has read the request is indistinguishable from one
before it, so a retried ``sendMessage`` after a reset can also, rarely, show a window twice.

"Message is not modified" and "message to delete not found" (for instance the answer to
such a repetition) are passed to the caller unchanged, and the callers count them as
success (:func:`bot.best_effort.counts_as_success`; aiogram-dialog's message manager and the
outbox do so already): an edit's caller expects the edited ``Message``, which the
middleware cannot make up.

When it gives up, one WARNING names the method, the chat id and the failure, never the
text. Waits go through the injected ``sleep``, so tests run without waiting.

The outbox has its own retries, backoff and rate limits (a 429 there must reach its rate
limiter): it sends through :func:`without_retries`, a Bot on the same session whose calls
this middleware passes through untouched.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
)
from aiogram.client.session.middlewares.base import (
    NextRequestMiddlewareType as NextRequest,
)
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response
from aiogram.methods.base import TelegramType as T

logger = logging.getLogger(__name__)

MAX_WAIT_S = 30.0
MAX_TRIES = 3
BACKOFF_S = 0.5

# Applying these twice does no harm: edits and deletes of the same message, the answer to
# a press (a second one is refused as too old, which its callers accept), reads, settings.
REPEATABLE = frozenset(
    {
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "editMessageMedia",
        "deleteMessage",
        "deleteMessages",
        "answerCallbackQuery",
        "getMe",
        "getChat",
        "getChatMember",
        "getChatAdministrators",
        "getWebhookInfo",
        "setWebhook",
        "deleteWebhook",
        "setMyCommands",
        "deleteMyCommands",
        "setChatMenuButton",
    }
)
# Repeated once after a timeout: a possible duplicate window rather than silence.
SEND_ONCE_MORE = frozenset({"sendMessage"})
# Long polling has its own backoff in aiogram's dispatcher.
PASS_THROUGH = frozenset({"getUpdates"})

RETRIED = (TelegramRetryAfter, TelegramServerError, TelegramNetworkError, ClientDecodeError)


class UnretriedBot(Bot):
    """The same bot on the same session; the retry middleware leaves its calls alone."""


def without_retries(bot: Bot) -> Bot:
    """A Bot sharing ``bot``'s session (pool, API server, other middlewares) whose calls
    :class:`TelegramRetries` does not retry: for a caller with its own retry logic."""
    return UnretriedBot(bot.token, session=bot.session, default=bot.default)


def answer_lost(exc: Exception) -> bool:
    """Telegram may have applied the request: a read timeout or an unreadable answer.

    aiogram's aiohttp session turns a timeout into ``TelegramNetworkError("Request timeout
    error")`` raised from the ``TimeoutError``; a connect timeout never sent anything.
    """
    if isinstance(exc, ClientDecodeError):
        return True
    if not isinstance(exc, TelegramNetworkError):
        return False
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return False
    return isinstance(cause, TimeoutError) or exc.message == "Request timeout error"


def chat_of(method: TelegramMethod[Any]) -> object:
    return getattr(method, "chat_id", None) or "-"


class TelegramRetries(BaseRequestMiddleware):
    """Session middleware: retries 429, 5xx, connection errors and safe timeouts."""

    def __init__(
        self,
        *,
        max_wait_s: float = MAX_WAIT_S,
        max_tries: int = MAX_TRIES,
        backoff_s: float = BACKOFF_S,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.max_wait_s = max_wait_s
        self.max_tries = max_tries
        self.backoff_s = backoff_s
        self.sleep = sleep
        self.rng = rng or random.Random()  # noqa: S311 - retry jitter, not a secret

    async def __call__(
        self, make_request: NextRequest[T], bot: Bot, method: TelegramMethod[T]
    ) -> Response[T]:
        if isinstance(bot, UnretriedBot) or method.__api_method__ in PASS_THROUGH:
            return await make_request(bot, method)
        waited = 0.0
        tries = failures = lost = 0
        while True:
            tries += 1
            try:
                return await make_request(bot, method)
            except RETRIED as exc:
                delay: float | None
                if isinstance(exc, TelegramRetryAfter):
                    delay = float(max(exc.retry_after, 1))
                else:
                    failures += 1
                    lost += answer_lost(exc)
                    again = self._again(method, failures, lost)
                    delay = self._backoff(failures) if again else None
                if delay is None or waited + delay > self.max_wait_s:
                    logger.warning(
                        "telegram %s to chat %s: giving up after %d tries and %.1f s of "
                        "waiting: %s",
                        method.__api_method__,
                        chat_of(method),
                        tries,
                        waited,
                        type(exc).__name__,
                    )
                    raise
                logger.debug(
                    "telegram %s to chat %s: %s, try %d in %.2f s",
                    method.__api_method__,
                    chat_of(method),
                    type(exc).__name__,
                    tries + 1,
                    delay,
                )
            await self.sleep(delay)
            waited += delay

    def _again(self, method: TelegramMethod[Any], failures: int, lost: int) -> bool:
        if failures >= self.max_tries:
            return False
        if not lost:
            return True
        name = method.__api_method__
        return name in REPEATABLE or (name in SEND_ONCE_MORE and lost == 1)

    def _backoff(self, failures: int) -> float:
        """0.5 s, 1 s, 2 s ... each between half and one and a half times that."""
        return self.backoff_s * 2 ** (failures - 1) * self.rng.uniform(0.5, 1.5)
