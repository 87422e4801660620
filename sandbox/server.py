"""SandboxServer: a Telegram Bot API compatible server plus the page, in one aiohttp app.

Why: ``python bot.py`` without a token, the end-to-end tests and a person clicking through
the page all need "Telegram" without a token or the internet. The server speaks the Bot API
on ``api_url`` (``/bot{token}/{method}``, the URL scheme of ``TelegramAPIServer.from_base``),
so the unmodified bot talks to it through ``TELEGRAM_API_URL``; the same app serves the page
and the control API (``/sandbox/...``, see :mod:`sandbox.control`) on ``web_url``. Both ports
serve the one application; port 0 picks a free port, read it back from the URLs after
:meth:`SandboxServer.start`. ``host`` is 127.0.0.1 unless told otherwise, and both ports
refuse requests from any other origin than their own (:mod:`sandbox.origin`).

The rooms behind it: the world's state (:mod:`sandbox.world`, its records in
:mod:`sandbox.records`) and what people do to it (:mod:`sandbox.humans`); the Bot API methods
(:mod:`sandbox.botapi`); the HTTP plumbing (:mod:`sandbox.http_server`) and webhook delivery
(:mod:`sandbox.webhook`); the Python API below, whose playing side is
:class:`~sandbox.playing.Playing` and reading side :class:`~sandbox.reading.Reading`, both
inherited here; the same API over HTTP (:mod:`sandbox.control`, :mod:`sandbox.client`).

Python API (for in-process tests; the HTTP control API and :class:`sandbox.client.SandboxClient`
mirror it). All ids are ints; message views are the dicts of ``StoredMessage.view()``
(``message_id, from, from_bot, kind, text, html, raw_html, entities, reply_markup, edited,
reply_to, contact, force_reply, delivered, history`` ...).

Lifecycle and facts::

    server = SandboxServer(host="127.0.0.1", api_port=0, web_port=0, mail_dir=Path("data/mail"))
    await server.start(); ...; await server.stop()          # or: async with SandboxServer(...)
    server.api_url, server.web_url, server.token, server.bot_id, server.bot_user
    server.idp                    # the fake e-gov identity provider on web_url + "/idp"
    server.staff_chat_id          # the current staff group id (changes after a migration)
    server.staff_user_ids, server.subscribers, server.staff, server.outsider   # presets
    server.agents, server.agent_user_ids   # the support agents (the bot's SUPPORT_USER_IDS)

Knobs (keyword-only): ``token`` ("123456:SANDBOX"), ``group_privacy`` (True: in groups the bot
only gets commands, replies to it and mentions, like Telegram's default), ``rate_limits``
(False; True answers 429 past ~20 messages/min per group, 3 per 3 s per private chat, 30/s
overall), ``callback_answer_timeout`` (15 s), ``webhook_loopback_only`` (True),
``webhook_timeout`` (10 s), ``webhook_retry_max`` (2 s, the cap of the retry backoff),
``time_zone`` ("Asia/Baku": the page shows every time in the bot's zone, labelled).

Playing the humans (each returns ``{"message": view, "update_id", "delivered", "reason"}``)::

    await server.send_text(user_id, text, *, chat_id=None, reply_to_message_id=None,
                           first_name=None, language_code=None, anonymous=False)
    await server.send_contact(user_id, phone_number=None, *, own=True, chat_id=None,
                              first_name=None, last_name=None)
    await server.send_sticker(user_id, *, chat_id=None, emoji="👍")
    await server.send_photo(user_id, *, chat_id=None, caption=None)
    await server.send_voice(user_id, *, chat_id=None)
    await server.press(user_id, chat_id, message_id, data, *, wait=3.0, anonymous=False)
    await server.click(user_id, chat_id, text, *, message_id=None, wait=3.0)
        # -> {"callback_query_id", "answered", "answer": {"text", "show_alert", ...}, ...}
    await server.open_link(user_id, url)   # a t.me/<bot>?start=X link sends "/start X"
        # -> {"action": "start"|"open_chat"|"outside"|"external"|"refused", "url", "reason",
        #     "chat_id", "sent"?}
    await server.block(user_id, blocked=True)
    server.add_user(user_id, first_name=None, language_code=None, ...)
    server.set_staff_member(user_id, member=True)

Making Telegram misbehave::

    server.fail(method, code, *, times=1, retry_after=None, description=None, chat_id=None)
        # code: 429 | 500 | 403 | 400 | ... | "drop" (close the connection) | "migrate"
    server.migrate_staff_group(chat_id=None) -> new_chat_id
    server.failures() -> list[dict]                     # the armed failure rules

Reading what happened::

    server.messages(chat_id, *, include_deleted=False) -> list[dict]
    server.last_message(chat_id, *, from_bot=True) -> dict | None
    server.chat_state(chat_id, user_id=None) -> dict   # messages, reply_keyboard, action, ...
    server.reply_keyboard(chat_id) -> dict | None
    server.chats() -> list[dict]
    server.requests(method=None) -> list[dict]          # the Bot API request log
    server.commands_log() -> list[dict]                 # set/deleteMyCommands calls
    server.my_commands(scope=None, language_code="") -> list[dict]
    server.commands_for(chat_id, user_id=None) -> list[dict]   # the menu a person sees
    server.mails() -> list[dict]                        # *.eml in mail_dir, newest first
    server.webhook_info() -> dict | None
    server.pending_updates() -> list[dict]
    await server.wait_for(chat_id, predicate=None, *, timeout=5.0, after=None,
                          from_bot=True) -> dict
    await server.wait_for_request(method, predicate=None, *, timeout=5.0) -> dict
    await server.wait_for_mail(predicate=None, *, timeout=5.0) -> dict
    server.config() -> dict                             # what the page gets: urls, presets
    server.reset()                                      # forget chats, updates, logs

Predicates take a message view (or a request-log entry, or a mail dict); a ``str`` predicate
means "the text contains it".
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from sandbox.botapi import BotApi
from sandbox.control import setup_control
from sandbox.errors import PortUnavailable
from sandbox.http_server import Listener, add_bot_api_route, probe_ports
from sandbox.idp import FakeIdentityProvider
from sandbox.mail import MailBox
from sandbox.origin import same_origin_guard
from sandbox.playing import Playing
from sandbox.reading import Reading
from sandbox.records import DEFAULT_STAFF_CHAT_ID, DEFAULT_TOKEN, MAX_TEXT_LENGTH, PresetUser
from sandbox.spec import SPEC_PATH, BotApiSpec
from sandbox.webhook import WebhookSender
from sandbox.world import World

# PortUnavailable, probe_ports and SPEC_PATH are for the entry script (bot.py), which may
# import this module alone (an import-linter contract).
__all__ = ["SPEC_PATH", "PortUnavailable", "SandboxServer", "probe_ports"]

log = logging.getLogger("sandbox")


class SandboxServer(Playing, Reading):
    """The embedded Telegram: Bot API on ``api_url``, page and control API on ``web_url``."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        api_port: int = 8081,
        web_port: int = 8080,
        mail_dir: Path | str | None = None,
        staff_chat_id: int = DEFAULT_STAFF_CHAT_ID,
        staff_user_ids: Iterable[int] | None = None,
        *,
        token: str = DEFAULT_TOKEN,
        group_privacy: bool = True,
        rate_limits: bool = False,
        callback_answer_timeout: float = 15.0,
        webhook_loopback_only: bool = True,
        webhook_timeout: float = 10.0,
        webhook_retry_max: float = 2.0,
        spec_path: Path = SPEC_PATH,
        time_zone: str = "Asia/Baku",
    ) -> None:
        self.host = host
        self.token = token
        self.world = World(
            token=token,
            staff_chat_id=staff_chat_id,
            staff_user_ids=staff_user_ids,
            group_privacy=group_privacy,
            callback_answer_timeout=callback_answer_timeout,
            time_zone=time_zone,
        )
        self.spec = BotApiSpec.load(spec_path)
        self.api = BotApi(
            self.world,
            self.spec,
            rate_limits=rate_limits,
            webhook_loopback_only=webhook_loopback_only,
        )
        self.webhooks = WebhookSender(
            self.world, self.api, timeout=webhook_timeout, retry_max=webhook_retry_max
        )
        self.api.on_webhook_change = self.webhooks.changed
        self.mailbox = MailBox(Path(mail_dir) if mail_dir is not None else None)
        # The e-gov login's stand-in, under /idp on the page's port (sandbox.idp).
        self.idp = FakeIdentityProvider()
        self.api_url = ""
        self.web_url = ""
        self._listener = Listener(host, api_port, web_port)

    # -- lifecycle -------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(
            client_max_size=64 * 1024 * 1024, middlewares=[same_origin_guard(self.host)]
        )
        add_bot_api_route(app, self.token, self.api)
        setup_control(app, self)
        self.idp.add_routes(app)
        return app

    async def start(self) -> None:
        """Bind both ports (0 = any free port) and start serving."""
        if self._listener.running:
            return
        self.api.closing = False
        self.api_url, self.web_url = await self._listener.start(self.build_app())
        await self.webhooks.open()
        log.info("sandbox Bot API on %s, page on %s", self.api_url, self.web_url)

    async def stop(self) -> None:
        """Stop serving; long polls end at once, webhook delivery is cancelled."""
        self.api.closing = True
        self.world.updates_signal.fire()
        await self.webhooks.close()
        await self._listener.stop()

    async def __aenter__(self) -> SandboxServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- facts -----------------------------------------------------------------------------

    @property
    def bot_user(self) -> dict[str, Any]:
        return dict(self.world.bot_user)

    @property
    def bot_id(self) -> int:
        return int(self.world.bot_user["id"])

    @property
    def staff_chat_id(self) -> int:
        return self.world.staff_chat_id

    @property
    def staff_user_ids(self) -> list[int]:
        return sorted(self.world.staff_user_ids)

    @property
    def subscribers(self) -> tuple[PresetUser, ...]:
        return self.world.preset_subscribers

    @property
    def staff(self) -> tuple[PresetUser, ...]:
        return self.world.preset_staff

    @property
    def agents(self) -> tuple[PresetUser, ...]:
        return self.world.preset_agents

    @property
    def agent_user_ids(self) -> list[int]:
        return self.world.agent_user_ids

    @property
    def outsider(self) -> PresetUser:
        return self.world.preset_outsider

    def config(self) -> dict[str, Any]:
        """What the page needs to know: urls, bot, presets, staff group."""

        def preset(p: PresetUser) -> dict[str, Any]:
            shown = {**p.to_user(), "phone_number": p.phone_number, "agent": p.agent}
            return shown | ({"fin": p.fin} if p.fin else {})

        return {
            "api_url": self.api_url,
            "web_url": self.web_url,
            "token": self.token,
            "bot": self.bot_user,
            "bot_api_version": self.spec.version,
            "staff_chat_id": self.staff_chat_id,
            "initial_staff_chat_id": self.world.initial_staff_chat_id,
            "staff_user_ids": self.staff_user_ids,
            "subscribers": [preset(p) for p in self.subscribers],
            "staff": [preset(p) for p in self.staff],
            "agents": [preset(p) for p in self.agents],
            "agent_user_ids": self.agent_user_ids,
            "outsider": preset(self.outsider),
            "group_privacy": self.world.group_privacy,
            "mail_dir": str(self.mailbox.folder) if self.mailbox.folder else None,
            "implemented_methods": self.api.implemented,
            "version": self.world.version,
            "time_zone": self.world.time_zone,
            "max_text_length": MAX_TEXT_LENGTH,
        }
