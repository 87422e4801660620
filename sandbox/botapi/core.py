"""The Bot API's entry point: one call, from HTTP or a webhook reply, answered like Telegram.

Why one entry: every call goes the same way, so the bot sees Telegram's behaviour whatever it
calls: look the method up in the spec (404 if unknown), validate and coerce the parameters
(:mod:`sandbox.spec`), apply an injected failure if one is armed, run the implementation (400
"method is not supported by the sandbox" for spec methods without one), and append the call to
the request log. The implementations are grouped by area in the sibling modules.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from typing import Any

from sandbox.botapi.chats import ChatMethods
from sandbox.botapi.common import Handler
from sandbox.botapi.media import MediaMethods
from sandbox.botapi.messages import MessageMethods
from sandbox.botapi.updates import UpdateMethods
from sandbox.errors import ApiError, DropConnection, bad_request
from sandbox.records import FailureRule
from sandbox.spec import BotApiSpec
from sandbox.world import World

log = logging.getLogger("sandbox.botapi")


class BotApi:
    """Implements the Bot API over a :class:`World`."""

    def __init__(
        self,
        world: World,
        spec: BotApiSpec,
        *,
        rate_limits: bool = False,
        webhook_loopback_only: bool = True,
        on_webhook_change: Callable[[], None] | None = None,
    ) -> None:
        self.world = world
        self.spec = spec
        self.rate_limits = rate_limits
        self.webhook_loopback_only = webhook_loopback_only
        self.on_webhook_change = on_webhook_change
        self.closing = False
        self._handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "logOut": self.ok_true,
            "close": self.ok_true,
        }
        areas = (UpdateMethods(self), MessageMethods(self), MediaMethods(self), ChatMethods(self))
        for area in areas:
            self._handlers.update(area.handlers())

    @property
    def implemented(self) -> list[str]:
        return sorted(self._handlers)

    # -- entry point -----------------------------------------------------------------------

    async def call(
        self, method: str, raw: dict[str, Any], *, source: str = "http"
    ) -> tuple[int, dict[str, Any]]:
        """Run one Bot API call; returns (HTTP status, JSON body) and logs it."""
        started = time.time()
        self.world.last_seen = started
        canonical = self.spec.canonical(method)
        params: dict[str, Any] = dict(raw)
        unknown: list[str] = []
        try:
            if canonical is None:
                raise ApiError(404, "Not Found")
            parsed = self.spec.parse_request(canonical, raw)
            params, unknown = parsed.params, parsed.unknown
            params.update({k: raw[k] for k in unknown})  # Telegram ignores them; we keep them
            self._inject_failure(canonical, params)
            handler = self._handlers.get(canonical)
            if handler is None:
                raise bad_request("method is not supported by the sandbox")
            result = await handler(params)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body = exc.code, exc.to_json()
        except DropConnection:
            status, body = 0, {"ok": False, "error_code": 0, "description": "connection dropped"}
            self._log(canonical or method, params, unknown, status, body, started, source)
            raise
        except Exception as exc:  # a sandbox bug must still look like a Telegram error
            log.exception("sandbox failed on %s", method)
            status, body = 500, ApiError(500, f"Internal Server Error: {exc!r}").to_json()
        self._log(canonical or method, params, unknown, status, body, started, source)
        return status, body

    def _log(
        self,
        method: str,
        params: dict[str, Any],
        unknown: list[str],
        status: int,
        body: dict[str, Any],
        started: float,
        source: str,
    ) -> None:
        # Deep copies: the stored message objects change on later edits, the log must not.
        self.world.log_request(
            {
                "method": method,
                "params": copy.deepcopy(params),
                "unknown_params": unknown,
                "time": started,
                "duration": round(time.time() - started, 4),
                "status": status,
                "ok": bool(body.get("ok")),
                "response": copy.deepcopy(body),
                "source": source,
            }
        )
        if method != "getUpdates":
            self.world.touch()

    def _inject_failure(self, method: str, params: dict[str, Any]) -> None:
        for rule in self.world.failures:
            if rule.matches(method, params):
                rule.times -= 1
                self.world.failures = [r for r in self.world.failures if r.times > 0]
                if rule.code == 0:
                    raise DropConnection
                raise rule.error()

    def arm_failure(self, rule: FailureRule) -> None:
        self.world.failures.append(rule)
        self.world.touch()

    # -- the bot itself --------------------------------------------------------------------

    async def ok_true(self, params: dict[str, Any]) -> bool:
        return True

    async def get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self.world.bot_user)
