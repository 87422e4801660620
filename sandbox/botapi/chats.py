"""Bot API methods about chats and the bot's profile: chat info, members, actions, commands.

Why together: none of them writes a message; they read the world's chats and members
(``getChat``, ``getChatMember`` and friends, answered like Telegram for the bot, private chats
and the staff group), show a chat action for five seconds, and keep the bot's settings the
person's client shows: the command menu per scope and language (validated like Telegram:
``BOT_COMMAND_INVALID``, ``LANG_CODE_INVALID``), name, descriptions and the menu button.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sandbox.botapi.common import Area, Handler, bot_method
from sandbox.errors import bad_request
from sandbox.records import scope_key

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


class ChatMethods(Area):
    """getChat*, sendChatAction, set/get/deleteMyCommands, the bot's texts and menu button."""

    def handlers(self) -> dict[str, Handler]:
        return super().handlers() | {
            "setMyDescription": self._bot_text_setter("description"),
            "getMyDescription": self._bot_text_getter("description"),
            "setMyShortDescription": self._bot_text_setter("short_description"),
            "getMyShortDescription": self._bot_text_getter("short_description"),
            "setMyName": self._bot_text_setter("name"),
            "getMyName": self._bot_text_getter("name"),
        }

    @bot_method("getChat")
    async def get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat(params["chat_id"], sending=False)
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

    @bot_method("getChatMember")
    async def get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat(params["chat_id"], sending=False)
        return self.world.member_status(chat, int(params["user_id"]))

    @bot_method("getChatAdministrators")
    async def get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self.chat(params["chat_id"], sending=False)
        if chat.is_private:
            raise bad_request("there are no administrators in the private chat")
        return [self.world.member_status(chat, self.world.bot_user["id"])]

    @bot_method("getChatMemberCount")
    async def get_chat_member_count(self, params: dict[str, Any]) -> int:
        chat = self.chat(params["chat_id"], sending=False)
        return 2 if chat.is_private else len(self.world.staff_user_ids) + 1

    @bot_method("sendChatAction")
    async def send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self.chat(params["chat_id"], sending=True)
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

    @bot_method("setChatMenuButton")
    async def set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        key = ("menu_button", str(params.get("chat_id") or ""))
        self.world.bot_settings[key] = params.get("menu_button") or {"type": "default"}
        return True

    @bot_method("getChatMenuButton")
    async def get_chat_menu_button(self, params: dict[str, Any]) -> dict[str, Any]:
        settings = self.world.bot_settings
        key = ("menu_button", str(params.get("chat_id") or ""))
        return dict(settings.get(key) or settings.get(("menu_button", "")) or {"type": "commands"})

    # -- commands --------------------------------------------------------------------------

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

    @bot_method("setMyCommands")
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

    @bot_method("getMyCommands")
    async def get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.world.commands.get(self._commands_key(params), []))

    @bot_method("deleteMyCommands")
    async def delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.world.commands.pop(self._commands_key(params), None)
        self._log_commands("deleteMyCommands", params, [])
        return True
