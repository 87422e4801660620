"""Bot API methods of receiving updates: ``getUpdates`` and the webhook's three methods.

Why together: both are ways of taking the world's update queue, and Telegram allows one at a
time: ``getUpdates`` answers 409 while a webhook is set, a second long poll ends the first with
409, and ``setWebhook`` ends a running long poll. Webhooks are accepted for loopback addresses
only unless the server is told otherwise; the delivery itself is :mod:`sandbox.webhook`.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sandbox.botapi.common import Area, bot_method
from sandbox.errors import ApiError, bad_request
from sandbox.records import WebhookConfig

if TYPE_CHECKING:
    from sandbox.botapi.core import BotApi

MAX_POLL_TIMEOUT = 50.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class UpdateMethods(Area):
    """getUpdates, setWebhook, deleteWebhook, getWebhookInfo."""

    def __init__(self, api: BotApi) -> None:
        super().__init__(api)
        self._poller: object | None = None  # the newest long poll; an older one answers 409

    def _webhook_changed(self) -> None:
        if self.api.on_webhook_change is not None:
            self.api.on_webhook_change()

    @bot_method("getUpdates")
    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        world = self.world
        if world.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        limit = min(100, max(1, int(params.get("limit") or 100)))
        timeout = min(MAX_POLL_TIMEOUT, max(0.0, float(params.get("timeout") or 0)))
        if "allowed_updates" in params:
            allowed = params["allowed_updates"] or []
            world.allowed_updates = set(allowed) if allowed else None
        if params.get("offset") is not None:
            world.confirm_updates(int(params["offset"]))
        token = object()
        self._poller = token
        world.updates_signal.fire()  # an older long poll ends with 409, like Telegram
        deadline = time.monotonic() + timeout
        while True:
            if self._poller is not token:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if world.webhook is not None:
                raise ApiError(409, "Conflict: webhook was set while polling")
            updates = world.pending_updates(limit)
            remaining = deadline - time.monotonic()
            if updates or remaining <= 0 or self.api.closing:
                return updates
            await world.updates_signal.wait(remaining)

    @bot_method("setWebhook")
    async def set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self.delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: An HTTP(S) URL must be provided for webhook")
        if self.api.webhook_loopback_only and parts.hostname not in _LOOPBACK:
            raise bad_request(
                "bad webhook: the sandbox delivers webhooks to loopback addresses only"
            )
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self.world.drop_pending_updates()
        self.world.webhook = WebhookConfig(
            url=url,
            secret_token=secret,
            max_connections=int(params.get("max_connections") or 40),
            ip_address=params.get("ip_address"),
            allowed_updates=params.get("allowed_updates") or None,
        )
        self.world.updates_signal.fire()
        self._webhook_changed()
        return True

    @bot_method("deleteWebhook")
    async def delete_webhook(self, params: dict[str, Any]) -> bool:
        self.world.webhook = None
        if params.get("drop_pending_updates"):
            self.world.drop_pending_updates()
        self._webhook_changed()
        return True

    @bot_method("getWebhookInfo")
    async def get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        hook = self.world.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.world.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
            if hook.last_error_date:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        return info
