"""SandboxServer: a Telegram Bot API compatible server plus the page, in one aiohttp app.

Why: ``python bot.py`` without a token, the end-to-end tests and a person clicking through
the page all need "Telegram" without a token or the internet. The server speaks the Bot API
on ``api_url`` (``/bot{token}/{method}``, the URL scheme of ``TelegramAPIServer.from_base``),
so the unmodified bot talks to it through ``TELEGRAM_API_URL``; the same app serves the page
and the control API (``/sandbox/...``, see :mod:`sandbox.control`) on ``web_url``. Both ports
serve the one application; port 0 picks a free port, read it back from the URLs after
:meth:`SandboxServer.start`.

Python API (for in-process tests; the HTTP control API and :class:`sandbox.client.SandboxClient`
mirror it). All ids are ints; message views are the dicts of ``StoredMessage.view()``
(``message_id, from, from_bot, kind, text, html, raw_html, entities, reply_markup, edited,
reply_to, contact, force_reply, delivered, history`` ...).

Lifecycle and facts::

    server = SandboxServer(host="127.0.0.1", api_port=0, web_port=0, mail_dir=Path("data/mail"))
    await server.start(); ...; await server.stop()          # or: async with SandboxServer(...)
    server.api_url, server.web_url, server.token, server.bot_id, server.bot_user
    server.staff_chat_id          # the current staff group id (changes after a migration)
    server.staff_user_ids, server.subscribers, server.staff, server.outsider   # presets

Knobs (keyword-only): ``token`` ("123456:SANDBOX"), ``group_privacy`` (True: in groups the bot
only gets commands, replies to it and mentions, like Telegram's default), ``rate_limits``
(False; True answers 429 past ~20 messages/min per group, 3 per 3 s per private chat, 30/s
overall), ``callback_answer_timeout`` (15 s), ``webhook_loopback_only`` (True),
``webhook_timeout`` (10 s), ``webhook_retry_max`` (2 s, the cap of the retry backoff).

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

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from sandbox.botapi import BotApi, DropConnection
from sandbox.control import setup_control
from sandbox.mail import MailBox
from sandbox.spec import SPEC_PATH, BotApiSpec
from sandbox.world import (
    DEFAULT_STAFF_CHAT_ID,
    DEFAULT_TOKEN,
    CallbackQuery,
    FailureRule,
    PresetUser,
    SandboxError,
    World,
    scope_key,
)

log = logging.getLogger("sandbox")

Predicate = Callable[[dict[str, Any]], bool] | str | None


class SandboxServer:
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
    ) -> None:
        self.host = host
        self._ports = (api_port, web_port)
        self.token = token
        self.world = World(
            token=token,
            staff_chat_id=staff_chat_id,
            staff_user_ids=staff_user_ids,
            group_privacy=group_privacy,
            callback_answer_timeout=callback_answer_timeout,
        )
        self.spec = BotApiSpec.load(spec_path)
        self.api = BotApi(
            self.world,
            self.spec,
            rate_limits=rate_limits,
            webhook_loopback_only=webhook_loopback_only,
            on_webhook_change=self._webhook_changed,
        )
        self.mailbox = MailBox(Path(mail_dir) if mail_dir is not None else None)
        self.webhook_timeout = webhook_timeout
        self.webhook_retry_max = webhook_retry_max
        self.api_url = ""
        self.web_url = ""
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._closing = False

    # -- lifecycle -------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api_handler)
        setup_control(app, self)
        return app

    async def start(self) -> None:
        """Bind both ports (0 = any free port) and start serving."""
        if self._runner is not None:
            return
        self._closing = False
        self.api.closing = False
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        api_port, web_port = self._ports
        sockets: list[socket.socket] = []
        try:
            api_sock = _bind(self.host, api_port)
            sockets.append(api_sock)
            if web_port == api_port and api_port != 0:
                web_sock = api_sock
            else:
                web_sock = _bind(self.host, web_port)
                sockets.append(web_sock)
            for sock in sockets:
                await web.SockSite(runner, sock).start()
        except OSError:  # a port is taken: leave nothing half-started behind
            for sock in sockets:
                sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.api_url = f"http://{host}:{api_sock.getsockname()[1]}"
        self.web_url = f"http://{host}:{web_sock.getsockname()[1]}"
        self._client = aiohttp.ClientSession()
        self._webhook_changed()
        log.info("sandbox Bot API on %s, page on %s", self.api_url, self.web_url)

    async def stop(self) -> None:
        """Stop serving; long polls end at once, webhook delivery is cancelled."""
        self._closing = True
        self.api.closing = True
        self.world.updates_signal.fire()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

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
    def outsider(self) -> PresetUser:
        return self.world.preset_outsider

    def config(self) -> dict[str, Any]:
        """What the page needs to know: urls, bot, presets, staff group."""

        def preset(p: PresetUser) -> dict[str, Any]:
            return {**p.to_user(), "phone_number": p.phone_number}

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
            "outsider": preset(self.outsider),
            "group_privacy": self.world.group_privacy,
            "mail_dir": str(self.mailbox.folder) if self.mailbox.folder else None,
            "implemented_methods": self.api.implemented,
            "version": self.world.version,
        }

    # -- playing the humans ----------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str | None = None,
        language_code: str | None = None,
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """Create or update a simulated user (the chat appears when they first write)."""
        user = self.world.ensure_user(
            int(user_id),
            first_name=first_name,
            language_code=language_code,
            last_name=last_name,
            username=username,
        )
        self.world.touch()
        return dict(user)

    def set_staff_member(self, user_id: int, member: bool = True) -> None:
        """Add a user to (or remove from) the staff group's members."""
        self.world.ensure_user(int(user_id))
        if member:
            self.world.staff_user_ids.add(int(user_id))
        else:
            self.world.staff_user_ids.discard(int(user_id))
        self.world.touch()

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        first_name: str | None = None,
        language_code: str | None = None,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """A text message from a person: private chat by default, or ``chat_id`` (a group)."""
        if not text or not text.strip():
            raise SandboxError("text is empty")
        self.world.ensure_user(int(user_id), first_name=first_name, language_code=language_code)
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {
                    "type": "bot_command",
                    "offset": 0,
                    "length": len(command.encode("utf-16-le")) // 2,
                }
            ]
        return self.world.user_post(
            int(user_id),
            content,
            kind="text",
            chat_id=chat_id,
            reply_to_message_id=reply_to_message_id,
            anonymous=anonymous,
        )

    async def send_contact(
        self,
        user_id: int,
        phone_number: str | None = None,
        *,
        own: bool = True,
        chat_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> dict[str, Any]:
        """A contact: ``own=True`` is the "share my number" button (contact.user_id = sender).

        Without ``phone_number`` a preset user's own phone is used (someone else's for
        ``own=False``).
        """
        world = self.world
        user = world.ensure_user(int(user_id))
        preset = next(
            (p for p in (*self.subscribers, *self.staff, self.outsider) if p.id == int(user_id)),
            None,
        )
        if phone_number is None:
            phone_number = (preset.phone_number if preset and own else None) or (
                f"99450{int(user_id) % 10**7:07d}" if own else "994709998877"
            )
        contact: dict[str, Any] = {"phone_number": str(phone_number)}
        if own:
            contact["first_name"] = user["first_name"]
            if user.get("last_name"):
                contact["last_name"] = user["last_name"]
            contact["user_id"] = int(user_id)
        else:
            contact["first_name"] = first_name or "Someone"
            if last_name:
                contact["last_name"] = last_name
        return world.user_post(int(user_id), {"contact": contact}, kind="contact", chat_id=chat_id)

    async def send_sticker(
        self, user_id: int, *, chat_id: int | None = None, emoji: str = "👍"
    ) -> dict[str, Any]:
        sticker = {
            "file_id": f"CAACAgIAAxkBAAE{int(time.time() * 1000) % 10**8:08d}SANDBOXSTICKER",
            "file_unique_id": "AgADsandboxstk",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "SandboxStickers",
            "file_size": 12345,
        }
        return self.world.user_post(
            int(user_id), {"sticker": sticker}, kind="sticker", chat_id=chat_id
        )

    async def send_photo(
        self, user_id: int, *, chat_id: int | None = None, caption: str | None = None
    ) -> dict[str, Any]:
        stamp = int(time.time() * 1000) % 10**8
        photo = [
            {
                "file_id": f"AgACAgIAAxkBAAI{stamp:08d}SANDBOXPHOTO{size}",
                "file_unique_id": f"AQADsandbox{size}",
                "width": size,
                "height": size * 3 // 4,
                "file_size": size * 40,
            }
            for size in (90, 320, 800)
        ]
        content: dict[str, Any] = {"photo": photo}
        if caption:
            content["caption"] = caption
        return self.world.user_post(int(user_id), content, kind="photo", chat_id=chat_id)

    async def send_voice(self, user_id: int, *, chat_id: int | None = None) -> dict[str, Any]:
        voice = {
            "file_id": f"AwACAgIAAxkBAAI{int(time.time() * 1000) % 10**8:08d}SANDBOXVOICE",
            "file_unique_id": "AgADsandboxvoc",
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": 9000,
        }
        return self.world.user_post(int(user_id), {"voice": voice}, kind="voice", chat_id=chat_id)

    async def press(
        self,
        user_id: int,
        chat_id: int,
        message_id: int | None,
        data: str,
        *,
        wait: float = 3.0,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """Press the inline button with callback ``data`` on a message; wait for the answer."""
        query = self.world.create_callback(
            int(user_id), int(chat_id), message_id, data=data, anonymous=anonymous
        )
        return await self._await_answer(query, wait)

    async def click(
        self,
        user_id: int,
        chat_id: int,
        text: str,
        *,
        message_id: int | None = None,
        wait: float = 3.0,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """Press an inline button by its visible text (on the newest message that has it).

        A URL button returns ``{"url": ...}`` instead of creating a callback query.
        """
        query = self.world.create_callback(
            int(user_id), int(chat_id), message_id, text=text, anonymous=anonymous
        )
        return await self._await_answer(query, wait)

    async def _await_answer(
        self, query: CallbackQuery | dict[str, Any], wait: float
    ) -> dict[str, Any]:
        if isinstance(query, dict):
            return query
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(query.done.wait(), wait)
        return query.result()

    async def block(self, user_id: int, blocked: bool = True) -> dict[str, Any]:
        """The user blocks (or unblocks) the bot; sends to them answer 403 meanwhile."""
        return self.world.set_blocked(int(user_id), blocked)

    # -- making Telegram misbehave ---------------------------------------------------------

    def fail(
        self,
        method: str,
        code: int | str,
        *,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Fail the next ``times`` calls of ``method`` ("*" = any method but getUpdates).

        ``code`` is an HTTP error code (429 gets ``retry_after``, default 1), ``"drop"`` to
        close the connection without an answer, or ``"migrate"`` to upgrade the staff group
        right now (``method`` and ``times`` are then ignored).
        """
        if str(code).lower() == "migrate":
            return {"migrated_to": self.migrate_staff_group(chat_id)}
        if str(code).lower() == "drop":
            numeric = 0
        else:
            try:
                numeric = int(code)
            except (TypeError, ValueError):
                raise SandboxError(f"unknown failure code {code!r}") from None
            if not 400 <= numeric <= 599:
                raise SandboxError("code must be an HTTP error code, 'drop' or 'migrate'")
        if method != "*" and self.spec.canonical(method) is None:
            raise SandboxError(f"unknown Bot API method {method!r}")
        rule = FailureRule(
            method=method if method == "*" else str(self.spec.canonical(method)),
            code=numeric,
            times=max(1, int(times)),
            retry_after=retry_after,
            description=description,
            chat_id=chat_id,
        )
        self.api.arm_failure(rule)
        return {"armed": rule.to_json()}

    def migrate_staff_group(self, chat_id: int | None = None) -> int:
        """Upgrade the staff group to a supergroup; returns the new chat id."""
        return self.world.migrate_group(chat_id)

    def failures(self) -> list[dict[str, Any]]:
        return [rule.to_json() for rule in self.world.failures]

    # -- reading what happened -------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        chat = self.world.chats.get(int(chat_id))
        if chat is None:
            return []
        return [m.view() for m in chat.visible_messages(include_deleted)]

    def last_message(self, chat_id: int, *, from_bot: bool = True) -> dict[str, Any] | None:
        for message in reversed(self.messages(chat_id)):
            if message["from_bot"] == from_bot:
                return message
        return None

    def chat_state(self, chat_id: int, user_id: int | None = None) -> dict[str, Any]:
        view = self.world.chat_view(int(chat_id))
        view["commands"] = self.world.commands_for(int(chat_id), user_id)
        return view

    def reply_keyboard(self, chat_id: int) -> dict[str, Any] | None:
        chat = self.world.chats.get(int(chat_id))
        return dict(chat.reply_keyboard) if chat and chat.reply_keyboard else None

    def chats(self) -> list[dict[str, Any]]:
        return self.world.chat_list()

    def requests(self, method: str | None = None) -> list[dict[str, Any]]:
        """The Bot API request log (every call with a valid token), oldest first."""
        wanted = self.spec.canonical(method) or method if method else None
        return [r for r in self.world.requests if wanted is None or r["method"] == wanted]

    def commands_log(self) -> list[dict[str, Any]]:
        return list(self.world.commands_log)

    def my_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        return list(self.world.commands.get((scope_key(scope), language_code), []))

    def commands_for(self, chat_id: int, user_id: int | None = None) -> list[dict[str, Any]]:
        return self.world.commands_for(int(chat_id), user_id)

    def mails(self) -> list[dict[str, Any]]:
        return self.mailbox.list()

    def webhook_info(self) -> dict[str, Any] | None:
        hook = self.world.webhook
        if hook is None:
            return None
        return {
            "url": hook.url,
            "secret_token": hook.secret_token,
            "allowed_updates": hook.allowed_updates,
            "deliveries": hook.deliveries,
            "last_error_date": hook.last_error_date,
            "last_error_message": hook.last_error_message,
            "pending_update_count": len(self.world.updates),
        }

    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self.world.updates)

    def reset(self) -> None:
        """Forget chats, messages, updates, logs and failures (users and presets stay)."""
        self.world.reset()

    async def wait_for(
        self,
        chat_id: int,
        predicate: Predicate = None,
        *,
        timeout: float = 5.0,
        after: int | None = None,
        from_bot: bool = True,
    ) -> dict[str, Any]:
        """Wait until a message matching ``predicate`` is in the chat; returns the newest.

        ``after``: only messages with a greater message_id. Edits count: a message edited
        to match is found. Raises ``TimeoutError`` listing the chat's last messages.
        """
        check = _as_predicate(predicate)

        def find() -> dict[str, Any] | None:
            for message in reversed(self.messages(chat_id)):
                if message["from_bot"] != from_bot:
                    continue
                if after is not None and message["message_id"] <= after:
                    continue
                if check(message):
                    return message
            return None

        async def describe() -> str:
            tail = [
                f"#{m['message_id']} {'bot' if m['from_bot'] else 'user'}: {m['text']!r}"
                for m in self.messages(chat_id)[-5:]
            ]
            return f"no matching message in chat {chat_id}; last: {tail}"

        return await self._wait(find, timeout, describe)

    async def wait_for_request(
        self, method: str, predicate: Predicate = None, *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait until the bot made a call of ``method`` matching ``predicate`` (newest)."""
        check = _as_predicate(predicate, key="params")

        def find() -> dict[str, Any] | None:
            for entry in reversed(self.requests(method)):
                if check(entry):
                    return entry
            return None

        async def describe() -> str:
            return f"no matching {method} request; {len(self.requests(method))} calls seen"

        return await self._wait(find, timeout, describe)

    async def wait_for_mail(
        self, predicate: Predicate = None, *, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait until an .eml matching ``predicate`` is in mail_dir (polled every 100 ms)."""
        check = _as_predicate(predicate, key="subject")
        deadline = time.monotonic() + timeout
        while True:
            for mail in self.mails():
                if check(mail):
                    return mail
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no matching e-mail in {self.mailbox.folder}")
            await asyncio.sleep(0.1)

    async def _wait(
        self,
        find: Callable[[], dict[str, Any] | None],
        timeout: float,
        describe: Callable[[], Any],
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = find()
            if found is not None:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(await describe())
            await self.world.changed.wait(min(remaining, 0.5))

    # -- Bot API over HTTP -----------------------------------------------------------------

    async def _api_handler(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _json({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        try:
            raw = await read_params(request)
        except ValueError as exc:
            return _json(
                {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}, 400
            )
        try:
            status, body = await self.api.call(request.match_info["method"], raw)
        except DropConnection:
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable() from None
        return _json(body, status)

    # -- webhook delivery ------------------------------------------------------------------

    def _webhook_changed(self) -> None:
        if self._client is None or self._closing:
            return
        if self.world.webhook is not None and (
            self._webhook_task is None or self._webhook_task.done()
        ):
            self._webhook_task = asyncio.get_running_loop().create_task(self._webhook_loop())

    async def _webhook_loop(self) -> None:
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
                backoff = min(backoff * 2, self.webhook_retry_max)
            self.world.touch()

    async def _deliver(self, url: str, secret: str | None, update: dict[str, Any]) -> str | None:
        assert self._client is not None
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        reply: dict[str, Any] | None = None
        try:
            async with self._client.post(
                url,
                data=json.dumps(update, ensure_ascii=False).encode("utf-8"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
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


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query string + body (JSON, urlencoded or multipart) as one flat dict."""
    params: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ValueError("can't parse JSON body") from None
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = value
            else:  # an uploaded file: the sandbox keeps only its description
                params[key] = {"filename": value.filename, "content_type": value.content_type}
    return params


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


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False)
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _as_predicate(predicate: Predicate, key: str = "text") -> Callable[[dict[str, Any]], bool]:
    if predicate is None:
        return lambda _item: True
    if isinstance(predicate, str):
        needle = predicate

        def contains(item: dict[str, Any]) -> bool:
            value = item.get(key)
            if isinstance(value, dict):
                value = value.get("text")
            return needle in str(value or "")

        return contains
    return predicate
