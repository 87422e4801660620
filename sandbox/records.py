"""The records the sandbox's world is made of: people, messages, chats, queries, knobs.

Why apart from :mod:`sandbox.world`: these are plain data (the preset people, a stored
message and its view for the page, a chat's state, a pending callback query, an armed
failure, the webhook's configuration); the world, the humans' actions and the Bot API methods
all build and read them, and none of them holds the others.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.entities import entities_to_html
from sandbox.errors import ApiError

DEFAULT_TOKEN = "123456:SANDBOX"  # noqa: S105 - the embedded fake Bot API's token
BOT_ID = 123456
BOT_USERNAME = "azersu_sandbox_bot"
BOT_FIRST_NAME = "Azersu (sandbox)"
DEFAULT_STAFF_CHAT_ID = -1001000000001
# What a person can send in one message (UTF-16 code units, as Telegram counts): longer
# texts are refused, as the page says, where Telegram's clients would split them.
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
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
    # A support agent: the sandbox hands the bot these ids as SUPPORT_USER_IDS.
    agent: bool = False
    # The FIN the demo registry (storage/seed/demo_subscribers.csv) names as owner of this
    # person's codes, whose phone on record is ``phone_number``: sharing the contact proves it.
    fin: str | None = None

    def to_user(self) -> dict[str, Any]:
        user = user_dict(self.id, self.first_name)
        update_user(
            user,
            last_name=self.last_name,
            username=self.username,
            language_code=self.language_code,
        )
        return user


# Telegram user ids (9 digits, unlike the 6-digit demo subscriber codes, to avoid confusion).
# Own phone numbers come without "+", as Telegram's mobile clients usually send them. Each
# is the phone on record of the demo codes its FIN owns: Aysel 100001, 100003 (debt),
# 100005, 100006, 100008, 100009, 100012 (and 100015, which has no phone on record);
# Dmitri 100002 and 100007 (suspended) and, without an owner FIN, 100004 (metered);
# John 100010 and 100013 (suspended), 100014 and, without an owner FIN, 100011.
PRESET_SUBSCRIBERS: tuple[PresetUser, ...] = (
    PresetUser(610000001, "Aysel", "az", "994501234567", "Məmmədova", "aysel_m", fin="5ABC12D"),
    PresetUser(610000002, "Дмитрий", "ru", "994551112233", "Иванов", "dmitri_i", fin="2RST4UV"),
    PresetUser(610000003, "John", "en", "994701234567", "Smith", "john_s", fin="7KQ2M9X"),
)
# Rauf is staff only; Leyla is staff and a support agent (her agent commands answer in the
# staff group too); Nigar is a support agent outside the staff group.
PRESET_STAFF: tuple[PresetUser, ...] = (
    PresetUser(620000001, "Rauf", "az", "994502000001", "Əliyev", "rauf_staff"),
    PresetUser(620000002, "Leyla", "ru", "994502000002", "Hüseynova", "leyla_staff", agent=True),
)
PRESET_AGENTS: tuple[PresetUser, ...] = (
    PresetUser(640000001, "Nigar", "az", "994504000001", "Quliyeva", "nigar_support", agent=True),
)
# Not a member of the staff group: for testing that the bot refuses strangers.
PRESET_OUTSIDER = PresetUser(630000001, "Kamran", "az", "994503000001", "Nəsirov")


def user_dict(user_id: int, first_name: str, language_code: str | None = None) -> dict[str, Any]:
    """A Telegram User object of a person (not a bot)."""
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    update_user(user, language_code=language_code)
    return user


def update_user(
    user: dict[str, Any],
    *,
    first_name: str | None = None,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
) -> None:
    """Set the given (non-empty) fields of a User object; ``@`` is dropped from a username."""
    fields = {
        "first_name": first_name,
        "last_name": last_name,
        "username": username.lstrip("@") if username else None,
        "language_code": language_code,
    }
    user.update({key: value for key, value in fields.items() if value})


def private_chat(user: dict[str, Any]) -> dict[str, Any]:
    """The Chat object of a person's private chat with the bot."""
    chat: dict[str, Any] = {"id": user["id"], "type": "private"}
    for key in ("first_name", "last_name", "username"):
        if user.get(key):
            chat[key] = user[key]
    return chat


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
        return asdict(self)


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


def now() -> int:
    """Telegram's dates: whole seconds of Unix time."""
    return int(time.time())


def scope_key(scope: dict[str, Any] | None) -> str:
    """A stable key for a BotCommandScope (chat ids normalised to integers)."""
    scope = dict(scope or {"type": "default"})
    for key in ("chat_id", "user_id"):
        if key in scope and _as_int(scope[key]) is not None:
            scope[key] = _as_int(scope[key])
    return json.dumps(scope, sort_keys=True, ensure_ascii=False)
