"""The Bot API methods the sandbox implements, with Telegram's semantics and error texts.

Why: the bot (aiogram + aiogram-dialog) must behave here exactly as it will against
api.telegram.org, so every method answers like Telegram does, including its failures:
"message is not modified" for an identical edit, "query is too old" for a second
answerCallbackQuery, "can't parse entities" for bad HTML, 403 for blocked users, 429 with
``retry_after`` and 400 with ``migrate_to_chat_id`` when asked to fail. An edit without
``reply_markup`` removes the inline keyboard, as on Telegram.

:meth:`BotApi.call` is the single entry point (HTTP requests and webhook replies both go
through it): look the method up in the spec (404 if unknown), validate and coerce the
parameters (:mod:`sandbox.spec`), apply an injected failure if one is armed, run the
implementation (400 "method is not supported by the sandbox" for spec methods without one),
and append the call to the request log.
"""

from __future__ import annotations

import copy
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from sandbox.spec import ApiError, BotApiSpec, bad_request
from sandbox.tghtml import EntityParseError, ParsedText, parse_html, plain
from sandbox.world import (
    ChatState,
    FailureRule,
    StoredMessage,
    WebhookConfig,
    World,
    scope_key,
)

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
log = logging.getLogger("sandbox.botapi")

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_LANG_RE = re.compile(r"^[a-z]{2}$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
MAX_POLL_TIMEOUT = 50.0


class DropConnection(Exception):
    """An injected network failure: the HTTP layer closes the connection without answering."""


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
        self._poller: object | None = None
        self._global_sends: list[float] = []
        self._handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "logOut": self.ok_true,
            "close": self.ok_true,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "editMessageText": self.edit_message_text,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getChat": self.get_chat,
            "getChatMember": self.get_chat_member,
            "getChatAdministrators": self.get_chat_administrators,
            "getChatMemberCount": self.get_chat_member_count,
            "sendChatAction": self.send_chat_action,
            "setMyDescription": self._bot_text_setter("description"),
            "getMyDescription": self._bot_text_getter("description"),
            "setMyShortDescription": self._bot_text_setter("short_description"),
            "getMyShortDescription": self._bot_text_getter("short_description"),
            "setMyName": self._bot_text_setter("name"),
            "getMyName": self._bot_text_getter("name"),
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
        }

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

    # -- helpers ---------------------------------------------------------------------------

    def _bot_from(self) -> dict[str, Any]:
        bot = self.world.bot_user
        return {k: bot[k] for k in ("id", "is_bot", "first_name", "username")}

    def _chat(self, chat_id: Any, *, sending: bool) -> ChatState:
        world = self.world
        if isinstance(chat_id, str):
            try:
                chat_id = int(chat_id)
            except ValueError:
                raise bad_request("chat not found") from None
        chat = world.chats.get(chat_id)
        if chat is None:
            if sending and chat_id > 0 and chat_id in world.users:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if sending and chat.is_private and chat.id in world.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _check_rate(self, chat: ChatState) -> None:
        if not self.rate_limits:
            return
        now = time.monotonic()
        window, limit = (3.0, 3) if chat.is_private else (60.0, 20)
        recent = [t for t in chat.sent_times if now - t < window]
        if len(recent) >= limit:
            retry = max(1, math.ceil(window - (now - recent[0])))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        self._global_sends = [t for t in self._global_sends if now - t < 1.0]
        if len(self._global_sends) >= 30:
            raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        chat.sent_times.append(now)
        self._global_sends.append(now)

    @staticmethod
    def _parse_text(
        text: str | None, parse_mode: str | None, entities: list[dict[str, Any]] | None
    ) -> ParsedText:
        if text is None:
            raise bad_request("message text is empty")
        if parse_mode:
            mode = parse_mode.lower()
            if mode == "html":
                try:
                    parsed = parse_html(text)
                except EntityParseError as exc:
                    raise bad_request(f"can't parse entities: {exc}") from None
            elif mode in ("markdown", "markdownv2"):
                parsed = plain(text)  # accepted, but not parsed: see the module docstring
            else:
                raise bad_request("unsupported parse_mode")
        else:
            parsed = plain(text, entities)
        if not parsed.text:
            raise bad_request("message text is empty")
        if len(parsed.text) > 4096:
            raise bad_request("message is too long")
        return parsed

    @staticmethod
    def _inline_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
        if not markup or "inline_keyboard" not in markup:
            return None
        rows = [list(row) for row in markup["inline_keyboard"] if row]
        for button in (b for row in rows for b in row):
            url = button.get("url")
            if url is not None and urlsplit(url).scheme not in ("http", "https", "tg"):
                raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong URL")
        return {"inline_keyboard": rows} if rows else None

    def _reply_target(self, chat: ChatState, params: dict[str, Any]) -> StoredMessage | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply"),
            }
        if not reply:
            return None
        try:
            message_id = int(reply["message_id"])
        except (TypeError, ValueError, KeyError):
            raise bad_request("message to be replied not found") from None
        allow = str(reply.get("allow_sending_without_reply")).lower() in ("true", "1")
        other_chat = reply.get("chat_id")
        target = None
        if other_chat is None or str(other_chat) == str(chat.id):
            target = self.world.message_or_none(chat.id, message_id)
        if target is None and not allow:
            raise bad_request("message to be replied not found")
        return target

    def _apply_keyboard(
        self, chat: ChatState, markup: dict[str, Any] | None, message: StoredMessage
    ) -> None:
        if not markup:
            return
        if "keyboard" in markup:
            keyboard = {k: v for k, v in markup.items() if k != "keyboard"}
            keyboard["keyboard"] = [
                [{"text": b} if isinstance(b, str) else b for b in row]
                for row in markup["keyboard"]
            ]
            keyboard["message_id"] = message.message_id
            chat.reply_keyboard = keyboard
            chat.keyboard_hidden = False
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        elif markup.get("force_reply"):
            message.force_reply = {
                k: markup[k] for k in ("input_field_placeholder", "selective") if k in markup
            }

    def _editable(self, params: dict[str, Any]) -> tuple[ChatState, StoredMessage]:
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("inline messages are not supported by the sandbox")
        chat = self._chat(params["chat_id"], sending=True)
        message = self.world.message_or_none(chat.id, int(params["message_id"]))
        if message is None:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return chat, message

    @staticmethod
    def _snapshot(message: StoredMessage) -> dict[str, Any]:
        view = message.view()
        return {k: view[k] for k in ("text", "html", "reply_markup", "date", "edit_date")}

    # -- methods ---------------------------------------------------------------------------

    async def ok_true(self, params: dict[str, Any]) -> bool:
        return True

    async def get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self.world.bot_user)

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
            if updates or remaining <= 0 or self.closing:
                return updates
            await world.updates_signal.wait(remaining)

    async def set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self.delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: An HTTP(S) URL must be provided for webhook")
        if self.webhook_loopback_only and parts.hostname not in _LOOPBACK:
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
        if self.on_webhook_change is not None:
            self.on_webhook_change()
        return True

    async def delete_webhook(self, params: dict[str, Any]) -> bool:
        self.world.webhook = None
        if params.get("drop_pending_updates"):
            self.world.drop_pending_updates()
        if self.on_webhook_change is not None:
            self.on_webhook_change()
        return True

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

    async def send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params["chat_id"], sending=True)
        parsed = self._parse_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        markup = params.get("reply_markup")
        inline = self._inline_markup(markup)
        target = self._reply_target(chat, params)
        self._check_rate(chat)
        data: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": self._bot_from(),
            "chat": dict(chat.chat),
            "date": int(time.time()),
            "text": parsed.text,
        }
        if parsed.entities:
            data["entities"] = parsed.entities
        if target is not None:
            data["reply_to_message"] = self.world.reply_copy(target)
        if inline is not None:
            data["reply_markup"] = inline
        if params.get("link_preview_options"):
            data["link_preview_options"] = params["link_preview_options"]
        is_html = str(params.get("parse_mode") or "").lower() == "html"
        message = StoredMessage(
            chat.id,
            data["message_id"],
            data,
            True,
            "text",
            raw_html=params["text"] if is_html else None,
        )
        self._apply_keyboard(chat, markup, message)
        chat.action = None
        self.world.store(chat, message)
        return data

    async def edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._editable(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        parsed = self._parse_text(
            params.get("text"), params.get("parse_mode"), params.get("entities")
        )
        inline = self._inline_markup(params.get("reply_markup"))
        data = message.data
        if (
            parsed.text == data.get("text")
            and parsed.entities == (data.get("entities") or [])
            and inline == data.get("reply_markup")
        ):
            raise ApiError(400, NOT_MODIFIED)
        message.history.append(self._snapshot(message))
        data["text"] = parsed.text
        _set_or_pop(data, "entities", parsed.entities or None)
        _set_or_pop(data, "reply_markup", inline)
        data["edit_date"] = int(time.time())
        is_html = str(params.get("parse_mode") or "").lower() == "html"
        message.raw_html = params["text"] if is_html else None
        self.world.store(chat, message)
        return data

    async def edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, message = self._editable(params)
        inline = self._inline_markup(params.get("reply_markup"))
        data = message.data
        if inline == data.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        message.history.append(self._snapshot(message))
        _set_or_pop(data, "reply_markup", inline)
        data["edit_date"] = int(time.time())
        self.world.store(chat, message)
        return data

    def _delete(self, chat: ChatState, message_id: int) -> bool:
        message = self.world.message_or_none(chat.id, message_id)
        if message is None:
            return False
        message.deleted = True
        keyboard = chat.reply_keyboard
        if keyboard is not None and keyboard.get("message_id") == message_id:
            # Telegram clients drop a reply keyboard together with the message that brought
            # it; aiogram-dialog relies on this when it leaves a window with a reply keyboard.
            chat.reply_keyboard = None
        self.world.touch(chat)
        return True

    async def delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params["chat_id"], sending=False)
        if not self._delete(chat, int(params["message_id"])):
            raise bad_request("message to delete not found")
        return True

    async def delete_messages(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params["chat_id"], sending=False)
        ids = [int(i) for i in params["message_ids"]]
        if not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")
        for message_id in ids:
            self._delete(chat, message_id)
        return True

    async def answer_callback_query(self, params: dict[str, Any]) -> bool:
        world = self.world
        query = world.callbacks.get(str(params["callback_query_id"]))
        if (
            query is None
            or query.answer is not None
            or time.monotonic() - query.created > world.callback_answer_timeout
        ):
            raise ApiError(400, QUERY_TOO_OLD)
        url = params.get("url")
        if url and not str(url).startswith(f"https://t.me/{world.bot_user['username']}"):
            raise bad_request("URL_INVALID")
        query.answer = {
            "text": params.get("text"),
            "show_alert": bool(params.get("show_alert", False)),
            "url": url,
            "cache_time": params.get("cache_time"),
            "after": round(time.monotonic() - query.created, 3),
        }
        query.done.set()
        world.touch(world.chats.get(query.chat_id))
        return True

    def _commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope")
        if scope and scope.get("chat_id") is not None:
            chat_id = scope["chat_id"]
            if str(chat_id).lstrip("-").isdigit():
                known = int(chat_id) in self.world.chats or int(chat_id) in self.world.users
                if not known:
                    raise bad_request("chat not found")
        language = str(params.get("language_code") or "")
        if language and not _LANG_RE.match(language):
            raise bad_request("LANG_CODE_INVALID")
        return scope_key(scope), language

    def _log_commands(self, method: str, params: dict[str, Any], commands: list[Any]) -> None:
        self.world.commands_log.append(
            {
                "time": time.time(),
                "method": method,
                "scope": params.get("scope") or {"type": "default"},
                "language_code": params.get("language_code") or "",
                "commands": commands,
            }
        )

    async def set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands")
        for command in commands:
            if not _COMMAND_RE.match(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID")
            if not command["description"].strip():
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        if commands:
            self.world.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.world.commands.pop(key, None)
        self._log_commands("setMyCommands", params, commands)
        return True

    async def get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.world.commands.get(self._commands_key(params), []))

    async def delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.world.commands.pop(self._commands_key(params), None)
        self._log_commands("deleteMyCommands", params, [])
        return True

    async def get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params["chat_id"], sending=False)
        info = {
            **chat.chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        if chat.migrated_from is not None:
            info["description"] = f"Upgraded from group {chat.migrated_from}"
        return info

    async def get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params["chat_id"], sending=False)
        return self.world.member_status(chat, int(params["user_id"]))

    async def get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params["chat_id"], sending=False)
        if chat.is_private:
            raise bad_request("there are no administrators in the private chat")
        return [self.world.member_status(chat, self.world.bot_user["id"])]

    async def get_chat_member_count(self, params: dict[str, Any]) -> int:
        chat = self._chat(params["chat_id"], sending=False)
        return 2 if chat.is_private else len(self.world.staff_user_ids) + 1

    async def send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params["chat_id"], sending=True)
        if params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.action = params["action"]
        chat.action_until = time.monotonic() + 5.0
        self.world.touch(chat)
        return True

    def _bot_text_setter(self, kind: str) -> Handler:
        async def setter(params: dict[str, Any]) -> bool:
            language = str(params.get("language_code") or "")
            value = params.get(kind)
            if value:
                self.world.bot_settings[(kind, language)] = value
            else:
                self.world.bot_settings.pop((kind, language), None)
            return True

        return setter

    def _bot_text_getter(self, kind: str) -> Handler:
        async def getter(params: dict[str, Any]) -> dict[str, Any]:
            language = str(params.get("language_code") or "")
            settings = self.world.bot_settings
            value = settings.get((kind, language), settings.get((kind, ""), ""))
            if kind == "name" and not value:
                value = self.world.bot_user["first_name"]
            return {kind: value}

        return getter

    async def set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        key = ("menu_button", str(params.get("chat_id") or ""))
        self.world.bot_settings[key] = params.get("menu_button") or {"type": "default"}
        return True

    async def get_chat_menu_button(self, params: dict[str, Any]) -> dict[str, Any]:
        settings = self.world.bot_settings
        key = ("menu_button", str(params.get("chat_id") or ""))
        return dict(settings.get(key) or settings.get(("menu_button", "")) or {"type": "commands"})


def _set_or_pop(data: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        data.pop(key, None)
    else:
        data[key] = value
