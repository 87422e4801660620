"""What the simulated people do to the world: write to the bot, block it, press its buttons.

Why apart from :class:`~sandbox.world.World`: the world is the state the Bot API and the page
read; these are the humans' side of Telegram, each a function of the world that changes it the
way Telegram would and queues the updates the bot then receives. ``SandboxServer``'s Python API
(:mod:`sandbox.playing`) and so the page and the tests reach them.

Telegram behaviours modelled here, because a bot that ignores them breaks in production:

* a private chat exists for the bot only after the user wrote to it (before that a send fails
  with 403, see :mod:`sandbox.botapi`); a blocked user gives 403 "bot was blocked by the user",
  and writing again unblocks (Telegram's "Restart bot"), each with a ``my_chat_member`` update;
* in groups the bot has privacy mode on by default (``getMe.can_read_all_group_messages`` is
  false): it only receives commands, replies to its own messages, mentions and service
  messages; other group messages are stored (and shown on the page) but not delivered;
* a button press carries the message as it was when pressed; a URL button opens no query;
* a staff group can be upgraded to a supergroup: both service messages are emitted and the
  old id answers 400 with ``migrate_to_chat_id`` from then on.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from typing import Any

from sandbox.errors import SandboxError
from sandbox.records import (
    ANONYMOUS_ADMIN,
    STAFF_CHAT_TITLE,
    CallbackQuery,
    ChatState,
    StoredMessage,
    now,
    private_chat,
)
from sandbox.world import World

# -- writing to the bot, blocking it --------------------------------------------------------


def post(
    world: World,
    user_id: int,
    content: dict[str, Any],
    *,
    kind: str,
    chat_id: int | None = None,
    reply_to_message_id: int | None = None,
    anonymous: bool = False,
) -> dict[str, Any]:
    """A person posts a message (private chat with the bot, or a group the bot is in)."""
    user = world.ensure_user(user_id)
    target_id = user_id if chat_id is None else int(chat_id)
    if target_id > 0 and target_id != user_id:
        raise SandboxError("a user can only write to their own private chat with the bot")
    if target_id < 0:
        chat = world.chats.get(target_id)
        if chat is None or chat.is_private:
            raise SandboxError(f"unknown group chat {target_id}", 404)
        if chat.migrated_to is not None:
            raise SandboxError(f"group {target_id} was upgraded to supergroup {chat.migrated_to}")
    else:
        chat = world.chats.get(user_id)
        if chat is None:
            chat = ChatState(chat=private_chat(user))
            world.chats[user_id] = chat
        if user_id in world.blocked:  # Telegram's "Restart bot" unblocks first
            set_blocked(world, user_id, False)
    message: dict[str, Any] = {
        "message_id": chat.take_message_id(),
        "from": dict(ANONYMOUS_ADMIN) if anonymous and target_id < 0 else dict(user),
        "chat": dict(chat.chat),
        "date": now(),
        **content,
    }
    if anonymous and target_id < 0:
        message["sender_chat"] = dict(chat.chat)
        message["author_signature"] = user.get("first_name")
    if reply_to_message_id is not None:
        original = world.message_or_none(chat.id, int(reply_to_message_id))
        if original is None:
            raise SandboxError(f"message {reply_to_message_id} not found in chat {chat.id}")
        message["reply_to_message"] = world.reply_copy(original)
    if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
        chat.keyboard_hidden = True
    delivered, reason = _delivered_to_bot(world, chat, message)
    stored = StoredMessage(
        chat.id, message["message_id"], message, False, kind, delivered=delivered
    )
    world.store(chat, stored)
    update_id = world.enqueue("message", message) if delivered else None
    return {
        "message": stored.view(),
        "update_id": update_id,
        "delivered": delivered,
        "reason": reason,
    }


def _delivered_to_bot(world: World, chat: ChatState, message: dict[str, Any]) -> tuple[bool, str]:
    if chat.is_private or not world.group_privacy:
        return True, ""
    username = "@" + str(world.bot_user["username"]).lower()
    text = str(message.get("text") or message.get("caption") or "")
    reply = message.get("reply_to_message")
    if reply and (reply.get("from") or {}).get("id") == world.bot_user["id"]:
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


def set_blocked(world: World, user_id: int, blocked: bool) -> dict[str, Any]:
    user = world.ensure_user(user_id)
    was = user_id in world.blocked
    if blocked == was:
        return {"user_id": user_id, "blocked": blocked, "update_id": None}
    if blocked:
        world.blocked.add(user_id)
    else:
        world.blocked.discard(user_id)
    update_id = None
    chat = world.chats.get(user_id)
    if chat is not None:
        bot = world.bot_from()
        member = {"status": "member", "user": bot}
        kicked = {"status": "kicked", "user": bot, "until_date": 0}
        update_id = world.enqueue(
            "my_chat_member",
            {
                "chat": dict(chat.chat),
                "from": dict(user),
                "date": now(),
                "old_chat_member": member if blocked else kicked,
                "new_chat_member": kicked if blocked else member,
            },
        )
        world.touch(chat)
    else:
        world.touch()
    return {"user_id": user_id, "blocked": blocked, "update_id": update_id}


# -- callback queries ----------------------------------------------------------------------


def press_button(
    world: World,
    user_id: int,
    chat_id: int,
    message_id: int | None,
    *,
    data: str | None = None,
    text: str | None = None,
    anonymous: bool = False,
) -> CallbackQuery | dict[str, Any]:
    """Press an inline button; returns the query, or ``{"url": ...}`` for a URL button."""
    user = world.ensure_user(user_id)
    chat = world.chats.get(int(chat_id))
    if chat is None:
        raise SandboxError(f"chat {chat_id} not found", 404)
    if chat.is_private and chat.id != user_id:
        raise SandboxError("a user can only press buttons in their own private chat")
    message = _find_button_message(world, chat, message_id, data, text)
    button = _find_button(message.data.get("reply_markup"), data, text)
    if button is None:
        wanted = f"data {data!r}" if data is not None else f"text {text!r}"
        raise SandboxError(
            f"message {message.message_id} in chat {chat.id} has no inline button with {wanted}"
        )
    if "callback_data" not in button:
        for key in ("url", "login_url", "web_app", "copy_text"):
            if key in button:
                return {"button": button, key: button[key]}
        raise SandboxError(f"the button {button.get('text')!r} sends no callback query")
    query = CallbackQuery(
        id=f"{next(world.callback_ids)}{int(time.time() * 1000) % 10**9:09d}",
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
    query.update_id = world.enqueue("callback_query", payload)
    world.callbacks[query.id] = query
    world.touch(chat)
    return query


def _find_button_message(
    world: World, chat: ChatState, message_id: int | None, data: str | None, text: str | None
) -> StoredMessage:
    if message_id is not None:
        message = world.message_or_none(chat.id, int(message_id))
        if message is None:
            raise SandboxError(f"message {message_id} not found in chat {chat.id}", 404)
        return message
    for message in reversed(chat.visible_messages()):
        if _find_button(message.data.get("reply_markup"), data, text) is not None:
            return message
    wanted = f"data {data!r}" if data is not None else f"text {text!r}"
    raise SandboxError(f"no message in chat {chat.id} has an inline button with {wanted}")


# -- staff group ---------------------------------------------------------------------------


def migrate_group(world: World, chat_id: int | None = None) -> int:
    """Upgrade a group to a supergroup: new id, both service messages, old id answers 400."""
    old_id = world.staff_chat_id if chat_id is None else int(chat_id)
    old = world.chats.get(old_id)
    if old is None or old.is_private:
        raise SandboxError(f"unknown group chat {old_id}", 404)
    if old.migrated_to is not None:
        raise SandboxError(f"group {old_id} was already upgraded to {old.migrated_to}")
    new_id = -1002000000000 - next(world.group_ids)
    new = world.add_group(new_id, str(old.chat.get("title", STAFF_CHAT_TITLE)))
    new.chat["type"] = "supergroup"
    new.migrated_from = old_id
    old.migrated_to = new_id
    actor = world.users.get(min(world.staff_user_ids)) if world.staff_user_ids else None
    sender = dict(actor) if actor else dict(ANONYMOUS_ADMIN)
    for chat, extra in (
        (old, {"migrate_to_chat_id": new_id}),
        (new, {"migrate_from_chat_id": old_id}),
    ):
        data = {
            "message_id": chat.take_message_id(),
            "from": sender,
            "chat": dict(chat.chat),
            "date": now(),
            **extra,
        }
        world.store(chat, StoredMessage(chat.id, data["message_id"], data, False, "service"))
        world.enqueue("message", data)
    if world.staff_chat_id == old_id:
        world.staff_chat_id = new_id
    world.touch()
    return new_id


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
