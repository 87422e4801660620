"""The sandbox's in-memory Telegram: users, chats, messages, pending updates, knobs.

Why a separate model: the Bot API side (:mod:`sandbox.botapi`, what the bot calls) and the
control side (:mod:`sandbox.humans`, :mod:`sandbox.control` and the Python API of
``SandboxServer``, what the page and the tests call to play the humans) must see one consistent
world. Everything here is plain synchronous Python on the event loop's thread, so no locking is
needed; waiting is done with :class:`~sandbox.records.Signal`. The records it holds are in
:mod:`sandbox.records`; what people do to it (write, block the bot, press a button, upgrade the
group) is in :mod:`sandbox.humans`.

Telegram behaviours modelled here, because a bot that ignores them breaks in production:

* message ids are counted per chat, shared by the user's and the bot's messages;
* a reply carries ``reply_to_message`` with the full original message (one level deep);
* updates are kept until confirmed by ``getUpdates(offset)``; ``allowed_updates`` (or the
  webhook's) filters them, and by default a few kinds are left out, as Telegram does;
* ``getChatMember`` answers for the bot (administrator in groups, kicked when blocked) and for
  people (member of their own private chat and, for the staff, of the staff group);
* the command menu a person sees is resolved by scope and language like Telegram does.
"""

from __future__ import annotations

import copy
import itertools
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from sandbox.errors import ApiError, SandboxError
from sandbox.records import (
    BOT_FIRST_NAME,
    BOT_USERNAME,
    DEFAULT_EXCLUDED_UPDATES,
    DEFAULT_STAFF_CHAT_ID,
    DEFAULT_TOKEN,
    PRESET_AGENTS,
    PRESET_OUTSIDER,
    PRESET_STAFF,
    PRESET_SUBSCRIBERS,
    STAFF_CHAT_TITLE,
    CallbackQuery,
    ChatState,
    FailureRule,
    PresetUser,
    Signal,
    StoredMessage,
    WebhookConfig,
    private_chat,
    scope_key,
    update_user,
    user_dict,
)


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
        agents: Iterable[PresetUser] = PRESET_AGENTS,
        time_zone: str = "Asia/Baku",
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
        self.preset_agents = tuple(agents)
        self.preset_outsider = PRESET_OUTSIDER
        self.time_zone = time_zone
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

    def presets(self) -> tuple[PresetUser, ...]:
        """Every preset person: the subscribers, the staff, the agents and the outsider."""
        return (
            *self.preset_subscribers,
            *self.preset_staff,
            *self.preset_agents,
            self.preset_outsider,
        )

    @property
    def agent_user_ids(self) -> list[int]:
        """The preset support agents (staff members among them): the bot's SUPPORT_USER_IDS."""
        return sorted({p.id for p in self.presets() if p.agent})

    # -- lifecycle -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget chats, messages, updates, logs, failures; keep users and configuration."""
        self.users: dict[int, dict[str, Any]] = {}
        for preset in self.presets():
            self.users[preset.id] = preset.to_user()
        self.chats: dict[int, ChatState] = {}
        self.staff_chat_id = self.initial_staff_chat_id
        self.add_group(self.staff_chat_id, STAFF_CHAT_TITLE)
        self.blocked: set[int] = set()
        self.updates: deque[dict[str, Any]] = deque()
        self._update_ids = itertools.count(10001)
        self.allowed_updates: set[str] | None = None
        self.callbacks: dict[str, CallbackQuery] = {}
        self.callback_ids = itertools.count(1)
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.commands_log: list[dict[str, Any]] = []
        self.bot_settings: dict[str, Any] = {}
        self.failures: list[FailureRule] = []
        self.requests: deque[dict[str, Any]] = deque(maxlen=self._request_log_size)
        self._request_ids = itertools.count(1)
        self.webhook: WebhookConfig | None = None
        self.group_ids = itertools.count(1)
        self.touch()

    def touch(self, chat: ChatState | None = None) -> None:
        self.version += 1
        if chat is not None:
            chat.version = self.version
        self.changed.fire()

    # -- users and chats -------------------------------------------------------------------

    def ensure_user(self, user_id: int, **names: str | None) -> dict[str, Any]:
        """The person ``user_id``, created on first sight; ``names`` are the User fields
        :func:`~sandbox.records.update_user` takes (the given, non-empty ones are set)."""
        if user_id <= 0:
            raise SandboxError("user_id must be a positive integer")
        if user_id == self.bot_user["id"]:
            raise SandboxError("user_id is the bot's own id")
        user = self.users.get(user_id)
        if user is None:
            first_name = names.get("first_name") or f"User {user_id}"
            user = user_dict(user_id, first_name, names.get("language_code"))
            self.users[user_id] = user
        update_user(user, **names)
        private = self.chats.get(user_id)
        if private is not None:
            private.chat.update(private_chat(user))
        return user

    def add_group(self, chat_id: int, title: str) -> ChatState:
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
                "chat": private_chat(user) if user else None,
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

    def bot_from(self) -> dict[str, Any]:
        """The bot as the ``from`` of its messages (a User object without the bot's flags)."""
        return {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}

    @staticmethod
    def reply_copy(message: StoredMessage) -> dict[str, Any]:
        """The original message as embedded in a reply: one level deep, like Telegram."""
        return copy.deepcopy({k: v for k, v in message.data.items() if k != "reply_to_message"})

    def member_status(self, chat: ChatState, user_id: int) -> dict[str, Any]:
        """A ChatMember object for getChatMember."""
        if user_id == self.bot_user["id"]:
            bot = self.bot_from()
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
