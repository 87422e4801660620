"""Webhook delivery: push the world's updates to the bot's webhook URL, as Telegram does.

Why a task of its own: with a webhook set, Telegram POSTs each update (oldest first, with the
``X-Telegram-Bot-Api-Secret-Token`` header) and counts it delivered on a 2xx answer; on an
error it retries with a growing pause and shows the error in ``getWebhookInfo``. A method call
in the response body (a "webhook reply", JSON or aiogram's multipart form) is run through the
Bot API like any other call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import aiohttp

from sandbox.botapi import BotApi
from sandbox.world import World

log = logging.getLogger("sandbox")


class WebhookSender:
    """Delivers pending updates while a webhook is set; :meth:`changed` (re)starts it."""

    def __init__(self, world: World, api: BotApi, *, timeout: float, retry_max: float) -> None:
        self.world = world
        self.api = api
        self.timeout = timeout
        self.retry_max = retry_max
        self._client: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def open(self) -> None:
        """Ready to deliver (a delivery starts at once if a webhook is already set)."""
        self._closing = False
        self._client = aiohttp.ClientSession()
        self.changed()

    async def close(self) -> None:
        """Cancel the delivery in progress and close the HTTP client."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._client is not None:
            await self._client.close()
            self._client = None

    def changed(self) -> None:
        if self._client is None or self._closing:
            return
        if self.world.webhook is not None and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def _loop(self) -> None:
        backoff = 0.1
        while not self._closing:
            hook = self.world.webhook
            if hook is None:
                return
            pending = self.world.pending_updates(1)
            if not pending:
                await self.world.updates_signal.wait(1.0)
                continue
            update = pending[0]
            error = await self._deliver(hook.url, hook.secret_token, update)
            if self.world.webhook is not hook:
                continue
            if error is None:
                self.world.confirm_updates(update["update_id"] + 1)
                hook.deliveries += 1
                backoff = 0.1
            else:
                hook.last_error_date = int(time.time())
                hook.last_error_message = error
                log.info("webhook delivery failed (%s), retrying in %.1fs", error, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.retry_max)
            self.world.touch()

    async def _deliver(self, url: str, secret: str | None, update: dict[str, Any]) -> str | None:
        if self._client is None:
            raise RuntimeError("the webhook sender is not started")
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        reply: dict[str, Any] | None = None
        try:
            async with self._client.post(
                url,
                data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as resp:
                if not 200 <= resp.status < 300:
                    return f"Wrong response from the webhook: {resp.status} {resp.reason}"
                reply = await _webhook_reply(resp)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return f"Connection failed: {type(exc).__name__}: {exc}"
        if reply and reply.get("method"):
            method = str(reply.pop("method"))
            await self.api.call(method, reply, source="webhook_reply")
        return None


async def _webhook_reply(resp: aiohttp.ClientResponse) -> dict[str, Any] | None:
    """A method call in the webhook's response body (JSON or aiogram's multipart form)."""
    ctype = resp.content_type
    if ctype == "application/json":
        try:
            body = await resp.json()
        except (ValueError, aiohttp.ContentTypeError):
            return None
        return body if isinstance(body, dict) else None
    if ctype.startswith("multipart/"):
        reader = aiohttp.MultipartReader(resp.headers, resp.content)
        fields: dict[str, Any] = {}
        while True:
            part = await reader.next()
            if part is None:
                break
            if isinstance(part, aiohttp.BodyPartReader) and part.name:
                fields[part.name] = await part.text()
        return fields
    return None
