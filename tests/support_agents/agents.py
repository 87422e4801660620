"""Agents and subscribers chatting with the bot, and helpers that register applications and
move them through the staff's hands (used by the fixtures in ``conftest.py``)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    CallbackQuery,
    Chat,
    Message,
    Update,
    User,
)
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Services
from bot.catalogues import compile_catalogues
from bot.config import Settings
from storage.models import OutboxRow, SubscriberRow
from tests.support import ChatMessageManager, RecordingSession, chat_member
from workflows.clock import FixedClock
from workflows.models import Draft, StaffMember

AGENT_ID = 5001
SUPPORT_CHAT_ID = -1002000000002
MEMBER_ID = 5002  # not on the allow-list, but a member of the support chat
OUTSIDER_ID = 1001  # a subscriber
FIN = "5ABC12D"
STAFF = StaffMember(user_id=7001, name="Əli Məmmədov")
STAFF_CHAT_ID = -1001000000001  # tests/conftest.py


class AgentSession(RecordingSession):
    """RecordingSession that answers getChatMember and can refuse chosen scopes.

    ``members`` maps a user id to the status getChatMember answers ("left" when absent);
    ``restricted`` users also need ``is_member`` there: ``("restricted", True)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.members: dict[int, str | tuple[str, bool]] = {}
        self.unknown_chats: set[int] = set()
        self.results: list[tuple[Any, Any]] = []

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        name = type(method).__name__
        if name == "GetChatMember":
            self.requests.append(method)
            answer = self.members.get(method.user_id, "left")
            status, is_member = answer if isinstance(answer, tuple) else (answer, None)
            return chat_member(method.user_id, status, is_member=is_member)  # type: ignore[no-any-return]
        if name == "SetMyCommands":
            chat_id = getattr(method.scope, "chat_id", None)
            if chat_id in self.unknown_chats:
                self.requests.append(method)
                raise TelegramBadRequest(method, "Bad Request: chat not found")
        result = await super().make_request(bot, method, timeout)
        self.results.append((method, result))
        return result

    def texts(self, since: int = 0) -> list[str]:
        return [
            r.text
            for r in self.requests[since:]
            if type(r).__name__ in {"SendMessage", "EditMessageText"}
        ]


@dataclass
class Person:
    """Someone writing to the bot: in private by default, or in a group chat."""

    world: World
    user: User

    def chat(self, chat_id: int | None = None) -> Chat:
        if chat_id is None or chat_id == self.user.id:
            return Chat(id=self.user.id, type="private")
        return Chat(id=chat_id, type="supergroup", title="Group")

    async def send(
        self, text: str, *, chat_id: int | None = None, sender_chat: Chat | None = None
    ) -> list[str]:
        """Send a message; return the texts the bot sent or edited in answer."""
        session = self.world.session
        start = len(session.requests)
        message = Message(
            message_id=next(self.world.message_ids),
            date=datetime.now(UTC),
            chat=self.chat(chat_id),
            from_user=self.user,
            sender_chat=sender_chat,
            text=text,
        )
        await self.world.dp.feed_update(
            self.world.bot, Update(update_id=next(self.world.update_ids), message=message)
        )
        return session.texts(start)

    async def pages(self, command: str) -> list[str]:
        """Send ``command``, then press Next up to the last page: the text of every page."""
        [page] = await self.send(command)
        pages = [page]
        while "Next" in str(self.world.last_message().reply_markup):
            [page] = await self.press("Next")
            pages.append(page)
        return pages

    async def press(self, button_text: str, message: Message | None = None) -> list[str]:
        """Press an inline button of the bot's last message (or of ``message``)."""
        session = self.world.session
        message = message or self.world.last_message()
        assert message.reply_markup is not None, "the message has no buttons"
        buttons = [b for row in message.reply_markup.inline_keyboard for b in row]
        button = next((b for b in buttons if button_text in b.text), None)
        assert button is not None, f"no {button_text!r} in {[b.text for b in buttons]}"
        start = len(session.requests)
        callback = CallbackQuery(
            id=str(next(self.world.update_ids)),
            from_user=self.user,
            chat_instance="ci",
            message=message,
            data=button.callback_data,
        )
        await self.world.dp.feed_update(
            self.world.bot, Update(update_id=next(self.world.update_ids), callback_query=callback)
        )
        return session.texts(start)


@dataclass
class World:
    dp: Dispatcher
    bot: Bot
    session: AgentSession
    services: Services
    settings: Settings
    clock: FixedClock
    engine: AsyncEngine
    mm: ChatMessageManager | None = None  # the dialogs' message manager (it answers presses)
    update_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    message_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _codes: itertools.count = field(default_factory=lambda: itertools.count(100001))

    def person(self, user_id: int, language_code: str | None = "en") -> Person:
        user = User(
            id=user_id, is_bot=False, first_name=f"P{user_id}", language_code=language_code
        )
        return Person(self, user)

    def last_message(self) -> Message:
        for method, result in reversed(self.session.results):
            if type(method).__name__ in {"SendMessage", "EditMessageText"}:
                return result
        raise AssertionError("the bot sent nothing")

    async def submit(
        self,
        code: str = "100001",
        *,
        fin: str = FIN,
        description: str = "Leaving for six months",
        notes: str | None = "Call before coming",
        locale: str = "az",
    ) -> int:
        reason = "returned" if code == "100002" else "absence"
        # the registry names the applicant as the owner, so typing the FIN is enough
        async with self.services.engine.begin() as conn:
            await conn.execute(
                update(SubscriberRow).where(SubscriberRow.code == code).values(owner_fin=fin)
            )
        return await self.services.journey.submit(
            Draft(
                fin=fin,
                subscriber_code=code,
                reason_code=reason,
                phone="+994501234567",
                email="aysel@example.com",
                description=description,
                notes=notes,
                locale=locale,
                telegram_user_id=OUTSIDER_ID,
                chat_id=OUTSIDER_ID,
            )
        )

    async def take(self, number: int) -> None:
        await self.services.work_orders.take(number, STAFF)

    async def complete(self, number: int, note: str = "Valve closed and sealed") -> None:
        await self.services.work_orders.complete(number, STAFF, note)

    async def reject(self, number: int, reason: str = "Wrong address") -> None:
        await self.services.work_orders.reject(number, STAFF, reason)

    def advance(self, **kwargs: float) -> None:
        self.clock.advance(timedelta(**kwargs))

    async def mark_outbox(self, number: int, kind: str, **values: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(OutboxRow)
                .where(OutboxRow.application_number == number, OutboxRow.kind == kind)
                .values(**values)
            )


def write_catalogues(root: Path, translations: dict[str, dict[str, str]]) -> Path:
    """A locales folder with the given translations (az, ru, en), compiled; other msgids
    fall back to the English source."""
    for locale in ("az", "ru", "en"):
        catalog = Catalog(locale=locale, domain="messages")
        for msgid, msgstr in translations.get(locale, {}).items():
            catalog.add(msgid, msgstr)
        folder = root / locale / "LC_MESSAGES"
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "messages.po").open("wb") as f:
            write_po(f, catalog)
    compile_catalogues(root)
    return root
