"""The Python API's playing side: the people around the bot, and a Telegram that misbehaves.

Why apart from :mod:`sandbox.server`: these are the moves a test or the page makes (a person
writes, shares a contact, sends a sticker, presses a button, blocks the bot; Telegram fails the
next call or upgrades the staff group); :class:`~sandbox.server.SandboxServer` inherits them,
and :mod:`sandbox.control` serves each over HTTP. What a move does to the world is in
:mod:`sandbox.humans`; here the arguments become Telegram objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from sandbox import humans
from sandbox.botapi import BotApi
from sandbox.entities import utf16_len
from sandbox.errors import SandboxError
from sandbox.links import resolve
from sandbox.records import MAX_CAPTION_LENGTH, MAX_TEXT_LENGTH, CallbackQuery, FailureRule
from sandbox.spec import BotApiSpec
from sandbox.world import World


class Playing:
    """Playing the humans and making Telegram misbehave (see :mod:`sandbox.server`)."""

    world: World
    spec: BotApiSpec
    api: BotApi

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
        _check_length("a message", text, MAX_TEXT_LENGTH)
        self.world.ensure_user(int(user_id), first_name=first_name, language_code=language_code)
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return humans.post(
            self.world,
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
        preset = next((p for p in world.presets() if p.id == int(user_id)), None)
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
        return humans.post(
            world, int(user_id), {"contact": contact}, kind="contact", chat_id=chat_id
        )

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
        return humans.post(
            self.world, int(user_id), {"sticker": sticker}, kind="sticker", chat_id=chat_id
        )

    async def send_photo(
        self,
        user_id: int,
        *,
        chat_id: int | None = None,
        caption: str | None = None,
        reply_to_message_id: int | None = None,
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
            _check_length("a caption", caption, MAX_CAPTION_LENGTH)
            content["caption"] = caption
        return humans.post(
            self.world,
            int(user_id),
            content,
            kind="photo",
            chat_id=chat_id,
            reply_to_message_id=reply_to_message_id,
        )

    async def send_voice(self, user_id: int, *, chat_id: int | None = None) -> dict[str, Any]:
        voice = {
            "file_id": f"AwACAgIAAxkBAAI{int(time.time() * 1000) % 10**8:08d}SANDBOXVOICE",
            "file_unique_id": "AgADsandboxvoc",
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": 9000,
        }
        return humans.post(
            self.world, int(user_id), {"voice": voice}, kind="voice", chat_id=chat_id
        )

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
        query = humans.press_button(
            self.world, int(user_id), int(chat_id), message_id, data=data, anonymous=anonymous
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
        query = humans.press_button(
            self.world, int(user_id), int(chat_id), message_id, text=text, anonymous=anonymous
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

    async def open_link(self, user_id: int, url: str) -> dict[str, Any]:
        """A person opens ``url`` (a URL button or a link in a message), as Telegram would.

        A ``t.me/<the bot>?start=PAYLOAD`` link sends ``/start PAYLOAD`` to the person's
        private chat with the bot (the result of :meth:`send_text` under ``sent``); a link to
        the bot without ``start`` only opens that chat; other Telegram links lead outside the
        sandbox; web links are the browser's (``external``). See :mod:`sandbox.links`.
        """
        self.world.ensure_user(int(user_id))
        target = resolve(str(url), str(self.world.bot_user["username"]))
        result: dict[str, Any] = {
            "action": target.action,
            "url": target.url,
            "reason": target.reason,
            "chat_id": int(user_id) if target.action in ("start", "open_chat") else None,
        }
        if target.action == "start" and target.text is not None:
            result["sent"] = await self.send_text(int(user_id), target.text)
        return result

    async def block(self, user_id: int, blocked: bool = True) -> dict[str, Any]:
        """The user blocks (or unblocks) the bot; sends to them answer 403 meanwhile."""
        return humans.set_blocked(self.world, int(user_id), blocked)

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
        return humans.migrate_group(self.world, chat_id)

    def failures(self) -> list[dict[str, Any]]:
        return [rule.to_json() for rule in self.world.failures]


def _check_length(what: str, text: str, limit: int) -> None:
    """Refuse what Telegram's clients would not send as one message (UTF-16 code units)."""
    length = utf16_len(text)
    if length > limit:
        raise SandboxError(
            f"{what} is at most {limit} characters in Telegram; this one has {length} "
            "(Telegram's clients split a longer text into several messages: send it in parts)"
        )
