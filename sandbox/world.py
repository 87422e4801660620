"""The sandbox's in-memory Telegram: users, chats, messages, pending updates, knobs.

Why a separate model: the Bot API side (``botapi.py``, what the bot calls) and the control
side (``control.py`` and the Python API of ``SandboxServer``, what the page and the tests call
to play the humans) must see one consistent world. Everything here is plain synchronous Python
on the event loop's thread, so no locking is needed; waiting is done with :class:`Signal`.

Telegram behaviours modelled here, because a bot that ignores them breaks in production:

* message ids are counted per chat, shared by the user's and the bot's messages;
* a private chat exists for the bot only after the user wrote to it: before that a send
  fails with 403 "bot can't initiate conversation with a user" (unknown ids: 400 "chat not
  found"); a blocked user gives 403 "bot was blocked by the user", and writing again
  unblocks (Telegram's "Restart bot"), each with a ``my_chat_member`` update;
* in groups the bot has privacy mode on by default (``getMe.can_read_all_group_messages`` is
  false): it only receives commands, replies to its own messages, mentions and service
  messages; other group messages are stored (and shown on the page) but not delivered;
* a reply carries ``reply_to_message`` with the full original message (one level deep);
* a staff group can be upgraded to a supergroup: both service messages are emitted and the
  old id answers 400 with ``migrate_to_chat_id`` from then on;
* updates are kept until confirmed by ``getUpdates(offset)``; ``allowed_updates`` filters them.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sandbox.entities import entities_to_html
from sandbox.spec import ApiError

DEFAULT_TOKEN = "123456:SANDBOX"
BOT_ID = 123456
BOT_USERNAME = "azersu_sandbox_bot"
BOT_FIRST_NAME = "Azersu (sandbox)"
DEFAULT_STAFF_CHAT_ID = -1001000000001
STAFF_CHAT_TITLE = "Staff"
ANONYMOUS_ADMIN = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
# Telegram's default when allowed_updates was never given (or given as an empty list).
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass(frozen=True)
class PresetUser:
    """A simulated person offered by the page and usable by tests."""

    id: int
    first_name: str
    language_code: str
    phone_number: str
    last_name: str | None = None
    username: str | None = None

    def to_user(self) -> dict[str, Any]:
        return _user_dict(
            self.id, self.first_name, self.language_code, self.last_name, self.username
        )


# Telegram user ids (9 digits, unlike the 6-digit demo subscriber codes, to avoid confusion).
# Own phone numbers come without "+", as Telegram's mobile clients usually send them.
PRESET_SUBSCRIBERS: tuple[PresetUser, ...] = (
    PresetUser(610000001, "Aysel", "az", "994501234567", "Məmmədova", "aysel_m"),
    PresetUser(610000002, "Дмитрий", "ru", "994551112233", "Иванов", "dmitri_i"),
    PresetUser(610000003, "John", "en", "994701234567", "Smith", "john_s"),
)
PRESET_STAFF: tuple[PresetUser, ...] = (
    PresetUser(620000001, "Rauf", "az", "994502000001", "Əliyev", "rauf_staff"),
    PresetUser(620000002, "Leyla", "ru", "994502000002", "Hüseynova", "leyla_staff"),
)
# Not a member of the staff group: for testing that the bot refuses strangers.
PRESET_OUTSIDER = PresetUser(630000001, "Kamran", "az", "994503000001", "Nəsirov")


def _user_dict(
    user_id: int,
    first_name: str,
    language_code: str | None,
    last_name: str | None = None,
    username: str | None = None,
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


class SandboxError(Exception):
    """A control-API request that cannot be carried out (bad user input, no such button)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Signal:
    """A broadcast 'something changed': every waiter wakes on the next :meth:`fire`."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    data: dict[str, Any]  # the Telegram Message object, as the bot would receive it
    from_bot: bool
    kind: str  # text, contact, sticker, photo, voice, service
    raw_html: str | None = None
    delivered: bool = True
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    force_reply: dict[str, Any] | None = None

    def view(self) -> dict[str, Any]:
        """The page's and tests' view of a message (flat, with rendered HTML); a copy."""
        data = copy.deepcopy(self.data)
        text = data.get("text")
        if text is None:
            text = data.get("caption")
        entities = data.get("entities") or data.get("caption_entities") or []
        sender = data.get("from") or {}
        reply = data.get("reply_to_message")
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "date": data.get("date"),
            "from": {
                k: sender[k]
                for k in ("id", "is_bot", "first_name", "last_name", "username")
                if k in sender
            },
            "from_bot": self.from_bot,
            "kind": self.kind,
            "text": text,
            "html": entities_to_html(text, entities) if text is not None else None,
            "raw_html": self.raw_html,
            "entities": entities,
            "reply_markup": data.get("reply_markup"),
            "edited": "edit_date" in data,
            "edit_date": data.get("edit_date"),
            "reply_to": reply.get("message_id") if reply else None,
            "contact": data.get("contact"),
            "force_reply": copy.deepcopy(self.force_reply),
            "delivered": self.delivered,
            "deleted": self.deleted,
            "history": copy.deepcopy(self.history),
            "service": {
                k: data[k] for k in ("migrate_to_chat_id", "migrate_from_chat_id") if k in data
            }
            or None,
        }


@dataclass
class ChatState:
    chat: dict[str, Any]
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None
    keyboard_hidden: bool = False
    action: str | None = None
    action_until: float = 0.0
    migrated_to: int | None = None
    migrated_from: int | None = None
    version: int = 0
    sent_times: deque[float] = field(default_factory=lambda: deque(maxlen=64))

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def is_private(self) -> bool:
        return self.chat["type"] == "private"

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def visible_messages(self, include_deleted: bool = False) -> list[StoredMessage]:
        return [m for m in self.messages.values() if include_deleted or not m.deleted]


@dataclass
class CallbackQuery:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created: float
    update_id: int | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    answer: dict[str, Any] | None = None

    def result(self) -> dict[str, Any]:
        return {
            "callback_query_id": self.id,
            "update_id": self.update_id,
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answer is not None,
            "answer": self.answer,
        }


@dataclass
class FailureRule:
    """Fail the next ``times`` calls of ``method`` ("*" = any but getUpdates)."""

    method: str
    code: int
    times: int = 1
    retry_after: int | None = None
    description: str | None = None
    chat_id: int | None = None

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if self.times <= 0:
            return False
        if self.method == "*":
            if method.lower() == "getupdates":
                return False
        elif self.method.lower() != method.lower():
            return False
        return self.chat_id is None or _as_int(params.get("chat_id")) == self.chat_id

    def error(self) -> ApiError:
        if self.code == 429:
            retry_after = self.retry_after if self.retry_after is not None else 1
            return ApiError(
                429,
                self.description or f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        defaults = {
            400: "Bad Request: injected failure",
            401: "Unauthorized",
            403: "Forbidden: bot was blocked by the user",
            404: "Not Found",
            409: "Conflict: injected failure",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        return ApiError(self.code, self.description or defaults.get(self.code, "Error"))

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "code": self.code,
            "times": self.times,
            "retry_after": self.retry_after,
            "description": self.description,
            "chat_id": self.chat_id,
        }


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    deliveries: int = 0


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _now() -> int:
    return int(time.time())


def scope_key(scope: dict[str, Any] | None) -> str:
    """A stable key for a BotCommandScope (chat ids normalised to integers)."""
    scope = dict(scope or {"type": "default"})
    for key in ("chat_id", "user_id"):
        if key in scope and _as_int(scope[key]) is not None:
            scope[key] = _as_int(scope[key])
    return json.dumps(scope, sort_keys=True, ensure_ascii=False)


class World:
    """All sandbox state. Mutators fire :attr:`changed` so pollers and waiters wake up."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        staff_chat_id: int = DEFAULT_STAFF_CHAT_ID,
        staff_user_ids: Iterable[int] | None = None,
        group_privacy: bool = True,
        callback_answer_timeout: float = 15.0,
        request_log_size: int = 20000,
        subscribers: Iterable[PresetUser] = PRESET_SUBSCRIBERS,
        staff: Iterable[PresetUser] = PRESET_STAFF,
    ) -> None:
        self.token = token
        bot_id = int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": BOT_FIRST_NAME,
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": not group_privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.group_privacy = group_privacy
        self.callback_answer_timeout = callback_answer_timeout
        self.preset_subscribers = tuple(subscribers)
        self.preset_staff = tuple(staff)
        self.preset_outsider = PRESET_OUTSIDER
        self.initial_staff_chat_id = staff_chat_id
        self.staff_chat_id = staff_chat_id
        self.staff_user_ids: set[int] = (
            set(staff_user_ids)
            if staff_user_ids is not None
            else {p.id for p in self.preset_staff}
        )
        self._request_log_size = request_log_size
        self.changed = Signal()
        self.updates_signal = Signal()
        self.version = 0
        self.last_seen = 0.0  # when the bot last called the Bot API (the page shows it)
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget chats, messages, updates, logs, failures; keep users and configuration."""
        self.users: dict[int, dict[str, Any]] = {}
        for preset in (*self.preset_subscribers, *self.preset_staff, self.preset_outsider):
            self.users[preset.id] = preset.to_user()
        self.chats: dict[int, ChatState] = {}
        self.staff_chat_id = self.initial_staff_chat_id
        self._add_group(self.staff_chat_id, STAFF_CHAT_TITLE)
        self.blocked: set[int] = set()
        self.updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(10001)
        self.allowed_updates: set[str] | None = None
        self.callbacks: dict[str, CallbackQuery] = {}
        self._callback_ids = itertools.count(1)
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.commands_log: list[dict[str, Any]] = []
        self.bot_settings: dict[str, Any] = {}
        self.failures: list[FailureRule] = []
        self.requests: deque[dict[str, Any]] = deque(maxlen=self._request_log_size)
        self._request_ids = itertools.count(1)
        self.webhook: WebhookConfig | None = None
        self._group_ids = itertools.count(1)
        self.touch()

    def touch(self, chat: ChatState | None = None) -> None:
        self.version += 1
        if chat is not None:
            chat.version = self.version
        self.changed.fire()

    # -- users and chats -------------------------------------------------------------------

    def ensure_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        language_code: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        if user_id <= 0:
            raise SandboxError("user_id must be a positive integer")
        if user_id == self.bot_user["id"]:
            raise SandboxError("user_id is the bot's own id")
        user = self.users.get(user_id)
        if user is None:
            user = _user_dict(user_id, first_name or f"User {user_id}", language_code)
            self.users[user_id] = user
        if first_name:
            user["first_name"] = first_name
        if language_code:
            user["language_code"] = language_code
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username.lstrip("@")
        private = self.chats.get(user_id)
        if private is not None:
            private.chat.update(_private_chat(user))
        return user

    def _add_group(self, chat_id: int, title: str) -> ChatState:
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        state = ChatState(chat={"id": chat_id, "type": kind, "title": title})
        self.chats[chat_id] = state
        return state

    def chat_list(self) -> list[dict[str, Any]]:
        out = []
        for state in self.chats.values():
            last = next(reversed(state.visible_messages()), None) if state.messages else None
            out.append(
                {
                    **state.chat,
                    "is_staff": state.id == self.staff_chat_id,
                    "migrated_to": state.migrated_to,
                    "migrated_from": state.migrated_from,
                    "blocked": state.id in self.blocked,
                    "messages": len(state.visible_messages()),
                    "last_date": last.data.get("date") if last else None,
                    "version": state.version,
                }
            )
        return out

    def chat_view(self, chat_id: int) -> dict[str, Any]:
        state = self.chats.get(chat_id)
        if state is None:
            user = self.users.get(chat_id)
            return {
                "chat": _private_chat(user) if user else None,
                "exists": False,
                "messages": [],
                "reply_keyboard": None,
                "keyboard_hidden": False,
                "action": None,
                "version": 0,
                "global_version": self.version,
                "blocked": chat_id in self.blocked,
            }
        action = state.action if state.action_until > time.monotonic() else None
        return {
            "chat": state.chat,
            "exists": True,
            "messages": [m.view() for m in state.visible_messages()],
            "reply_keyboard": state.reply_keyboard,
            "keyboard_hidden": state.keyboard_hidden,
            "action": action,
            "migrated_to": state.migrated_to,
            "migrated_from": state.migrated_from,
            "version": state.version,
            "global_version": self.version,
            "blocked": chat_id in self.blocked,
        }

    # -- updates ---------------------------------------------------------------------------

    def enqueue(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update for the bot; None when allowed_updates filters it out."""
        if not self._allowed(kind):
            return None
        update_id = next(self._update_ids)
        self.updates.append({"update_id": update_id, kind: payload})
        self.updates_signal.fire()
        return update_id

    def _allowed(self, kind: str) -> bool:
        allowed = self.allowed_updates
        if self.webhook is not None and self.webhook.allowed_updates:
            allowed = set(self.webhook.allowed_updates)
        if allowed is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in allowed

    def confirm_updates(self, offset: int) -> None:
        if offset < 0:
            keep = -offset
            while len(self.updates) > keep:
                self.updates.popleft()
            return
        while self.updates and self.updates[0]["update_id"] < offset:
            self.updates.popleft()

    def pending_updates(self, limit: int) -> list[dict[str, Any]]:
        """The oldest unconfirmed updates that pass the filter (filtered ones are dropped)."""
        kept: deque[dict[str, Any]] = deque()
        out: list[dict[str, Any]] = []
        for update in self.updates:
            kind = next(k for k in update if k != "update_id")
            if not self._allowed(kind):
                continue
            kept.append(update)
            if len(out) < limit:
                out.append(update)
        self.updates = kept
        return out

    def drop_pending_updates(self) -> None:
        self.updates.clear()

    # -- messages --------------------------------------------------------------------------

    def store(self, chat: ChatState, message: StoredMessage) -> StoredMessage:
        chat.messages[message.message_id] = message
        self.touch(chat)
        return message

    def message_or_none(self, chat_id: int, message_id: int) -> StoredMessage | None:
        chat = self.chats.get(chat_id)
        if chat is None:
            return None
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            return None
        return message

    @staticmethod
    def reply_copy(message: StoredMessage) -> dict[str, Any]:
        """The original message as embedded in a reply: one level deep, like Telegram."""
        return copy.deepcopy({k: v for k, v in message.data.items() if k != "reply_to_message"})

    def user_post(
        self,
        user_id: int,
        content: dict[str, Any],
        *,
        kind: str,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """A person posts a message (private chat with the bot, or a group the bot is in)."""
        user = self.ensure_user(user_id)
        target_id = user_id if chat_id is None else int(chat_id)
        if target_id > 0 and target_id != user_id:
            raise SandboxError("a user can only write to their own private chat with the bot")
        if target_id < 0:
            chat = self.chats.get(target_id)
            if chat is None or chat.is_private:
                raise SandboxError(f"unknown group chat {target_id}", 404)
            if chat.migrated_to is not None:
                raise SandboxError(
                    f"group {target_id} was upgraded to supergroup {chat.migrated_to}"
                )
        else:
            chat = self.chats.get(user_id)
            if chat is None:
                chat = ChatState(chat=_private_chat(user))
                self.chats[user_id] = chat
            if user_id in self.blocked:  # Telegram's "Restart bot" unblocks first
                self.set_blocked(user_id, False)
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": dict(ANONYMOUS_ADMIN) if anonymous and target_id < 0 else dict(user),
            "chat": dict(chat.chat),
            "date": _now(),
            **content,
        }
        if anonymous and target_id < 0:
            message["sender_chat"] = dict(chat.chat)
            message["author_signature"] = user.get("first_name")
        if reply_to_message_id is not None:
            original = self.message_or_none(chat.id, int(reply_to_message_id))
            if original is None:
                raise SandboxError(f"message {reply_to_message_id} not found in chat {chat.id}")
            message["reply_to_message"] = self.reply_copy(original)
        if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
            chat.keyboard_hidden = True
        delivered, reason = self._delivered_to_bot(chat, message)
        stored = StoredMessage(
            chat.id, message["message_id"], message, False, kind, delivered=delivered
        )
        self.store(chat, stored)
        update_id = self.enqueue("message", message) if delivered else None
        return {
            "message": stored.view(),
            "update_id": update_id,
            "delivered": delivered,
            "reason": reason,
        }

    def _delivered_to_bot(self, chat: ChatState, message: dict[str, Any]) -> tuple[bool, str]:
        if chat.is_private or not self.group_privacy:
            return True, ""
        username = "@" + str(self.bot_user["username"]).lower()
        text = str(message.get("text") or message.get("caption") or "")
        reply = message.get("reply_to_message")
        if reply and (reply.get("from") or {}).get("id") == self.bot_user["id"]:
            return True, ""
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            if "@" not in command or command.lower().endswith(username):
                return True, ""
        if username in text.lower():
            return True, ""
        return False, (
            "privacy mode: in groups the bot only receives commands, replies to its "
            "messages and mentions"
        )

    def set_blocked(self, user_id: int, blocked: bool) -> dict[str, Any]:
        user = self.ensure_user(user_id)
        was = user_id in self.blocked
        if blocked == was:
            return {"user_id": user_id, "blocked": blocked, "update_id": None}
        if blocked:
            self.blocked.add(user_id)
        else:
            self.blocked.discard(user_id)
        update_id = None
        chat = self.chats.get(user_id)
        if chat is not None:
            bot = {
                k: v
                for k, v in self.bot_user.items()
                if k in ("id", "is_bot", "first_name", "username")
            }
            member = {"status": "member", "user": bot}
            kicked = {"status": "kicked", "user": bot, "until_date": 0}
            update_id = self.enqueue(
                "my_chat_member",
                {
                    "chat": dict(chat.chat),
                    "from": dict(user),
                    "date": _now(),
                    "old_chat_member": member if blocked else kicked,
                    "new_chat_member": kicked if blocked else member,
                },
            )
            self.touch(chat)
        else:
            self.touch()
        return {"user_id": user_id, "blocked": blocked, "update_id": update_id}

    # -- callback queries ------------------------------------------------------------------

    def create_callback(
        self,
        user_id: int,
        chat_id: int,
        message_id: int | None,
        *,
        data: str | None = None,
        text: str | None = None,
        anonymous: bool = False,
    ) -> CallbackQuery | dict[str, Any]:
        """Press an inline button; returns the query, or ``{"url": ...}`` for a URL button."""
        user = self.ensure_user(user_id)
        chat = self.chats.get(int(chat_id))
        if chat is None:
            raise SandboxError(f"chat {chat_id} not found", 404)
        if chat.is_private and chat.id != user_id:
            raise SandboxError("a user can only press buttons in their own private chat")
        message = self._find_button_message(chat, message_id, data, text)
        button = _find_button(message.data.get("reply_markup"), data, text)
        if button is None:
            wanted = f"data {data!r}" if data is not None else f"text {text!r}"
            raise SandboxError(
                f"message {message.message_id} in chat {chat.id} has no inline button "
                f"with {wanted}"
            )
        if "callback_data" not in button:
            for key in ("url", "login_url", "web_app", "copy_text"):
                if key in button:
                    return {"button": button, key: button[key]}
            raise SandboxError(f"the button {button.get('text')!r} sends no callback query")
        query = CallbackQuery(
            id=f"{next(self._callback_ids)}{int(time.time() * 1000) % 10**9:09d}",
            user_id=user_id,
            chat_id=chat.id,
            message_id=message.message_id,
            data=button["callback_data"],
            created=time.monotonic(),
        )
        payload = {
            "id": query.id,
            "from": dict(ANONYMOUS_ADMIN) if anonymous else dict(user),
            "message": copy.deepcopy(message.data),  # as it was when pressed
            "chat_instance": str(abs(chat.id) * 7 + 13),
            "data": query.data,
        }
        query.update_id = self.enqueue("callback_query", payload)
        self.callbacks[query.id] = query
        self.touch(chat)
        return query

    def _find_button_message(
        self, chat: ChatState, message_id: int | None, data: str | None, text: str | None
    ) -> StoredMessage:
        if message_id is not None:
            message = self.message_or_none(chat.id, int(message_id))
            if message is None:
                raise SandboxError(f"message {message_id} not found in chat {chat.id}", 404)
            return message
        for message in reversed(chat.visible_messages()):
            if _find_button(message.data.get("reply_markup"), data, text) is not None:
                return message
        wanted = f"data {data!r}" if data is not None else f"text {text!r}"
        raise SandboxError(f"no message in chat {chat.id} has an inline button with {wanted}")

    # -- staff group -----------------------------------------------------------------------

    def migrate_group(self, chat_id: int | None = None) -> int:
        """Upgrade a group to a supergroup: new id, both service messages, old id answers 400."""
        old_id = self.staff_chat_id if chat_id is None else int(chat_id)
        old = self.chats.get(old_id)
        if old is None or old.is_private:
            raise SandboxError(f"unknown group chat {old_id}", 404)
        if old.migrated_to is not None:
            raise SandboxError(f"group {old_id} was already upgraded to {old.migrated_to}")
        new_id = -1002000000000 - next(self._group_ids)
        new = self._add_group(new_id, str(old.chat.get("title", STAFF_CHAT_TITLE)))
        new.chat["type"] = "supergroup"
        new.migrated_from = old_id
        old.migrated_to = new_id
        actor = self.users.get(min(self.staff_user_ids)) if self.staff_user_ids else None
        sender = dict(actor) if actor else dict(ANONYMOUS_ADMIN)
        for chat, extra in (
            (old, {"migrate_to_chat_id": new_id}),
            (new, {"migrate_from_chat_id": old_id}),
        ):
            data = {
                "message_id": chat.take_message_id(),
                "from": sender,
                "chat": dict(chat.chat),
                "date": _now(),
                **extra,
            }
            self.store(chat, StoredMessage(chat.id, data["message_id"], data, False, "service"))
            self.enqueue("message", data)
        if self.staff_chat_id == old_id:
            self.staff_chat_id = new_id
        self.touch()
        return new_id

    def member_status(self, chat: ChatState, user_id: int) -> dict[str, Any]:
        """A ChatMember object for getChatMember."""
        bot_id = self.bot_user["id"]
        if user_id == bot_id:
            bot = {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
            if chat.is_private:
                status = "kicked" if chat.id in self.blocked else "member"
                member: dict[str, Any] = {"status": status, "user": bot}
                if status == "kicked":
                    member["until_date"] = 0
                return member
            return {"status": "administrator", "user": bot, **_ADMIN_RIGHTS}
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(400, "Bad Request: user not found")
        if chat.is_private:
            status = "member" if user_id == chat.id else "left"
        else:
            status = "member" if user_id in self.staff_user_ids else "left"
        return {"status": status, "user": dict(user)}

    # -- commands --------------------------------------------------------------------------

    def commands_for(self, chat_id: int, user_id: int | None = None) -> list[dict[str, Any]]:
        """The command menu a person would see, resolved like Telegram (scope, language)."""
        lang = ""
        if user_id is not None and user_id in self.users:
            lang = str(self.users[user_id].get("language_code") or "")
        elif chat_id in self.users:
            lang = str(self.users[chat_id].get("language_code") or "")
        chat = self.chats.get(chat_id)
        private = chat_id > 0 if chat is None else chat.is_private
        scopes: list[dict[str, Any]] = []
        if private:
            scopes += [{"type": "chat", "chat_id": chat_id}, {"type": "all_private_chats"}]
        else:
            if user_id is not None:
                scopes.append({"type": "chat_member", "chat_id": chat_id, "user_id": user_id})
            scopes += [{"type": "chat", "chat_id": chat_id}, {"type": "all_group_chats"}]
        scopes.append({"type": "default"})
        for scope in scopes:
            key = scope_key(scope)
            for language in (lang, ""):
                found = self.commands.get((key, language))
                if found:
                    return found
        return []

    # -- request log -----------------------------------------------------------------------

    def log_request(self, entry: dict[str, Any]) -> dict[str, Any]:
        entry["id"] = next(self._request_ids)
        self.requests.append(entry)
        return entry


_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_send_welcome_messages": False,
    "can_pin_messages": True,
}


def _private_chat(user: dict[str, Any]) -> dict[str, Any]:
    chat: dict[str, Any] = {"id": user["id"], "type": "private"}
    for key in ("first_name", "last_name", "username"):
        if user.get(key):
            chat[key] = user[key]
    return chat


def _buttons(markup: dict[str, Any] | None) -> Iterable[dict[str, Any]]:
    if not markup:
        return ()
    return (b for row in markup.get("inline_keyboard") or [] for b in row if isinstance(b, dict))


def _find_button(
    markup: dict[str, Any] | None, data: str | None, text: str | None
) -> dict[str, Any] | None:
    for button in _buttons(markup):
        if data is not None and button.get("callback_data") == data:
            return button
        if text is not None and button.get("text") == text:
            return button
    if text is not None:  # tolerate emoji prefixes and case: "Take" finds "✅ Take"
        wanted = text.strip().casefold()
        for button in _buttons(markup):
            if wanted and wanted in str(button.get("text", "")).casefold():
                return button
    return None
