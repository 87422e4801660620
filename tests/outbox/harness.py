"""The bot, its outbox runner and a fake Telegram on one virtual timeline, for the tests.

``Harness.deliver()`` plays the dispatcher loop in virtual time: it delivers what is due,
then jumps the clock to the next moment something becomes due (a retry, a lease that runs
out, a rate limit that frees up), so minutes of backoff take milliseconds.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Chat, Message, Update, User
from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Services, build_dispatcher, build_outbox_runner, build_services
from bot.config import Settings
from bot.outbox.runner import OutboxRunner, Timing
from storage.models import OutboxRow
from tests.outbox.fake_telegram import FakeTelegram, VirtualClock, fake_bot, make_i18n
from tests.support import seed_subscribers, subscriber_row
from workflows.models import Draft
from workflows.outbox.dispatcher import OutboxDispatcher
from workflows.outbox.records import Channel, OutboxStatus
from workflows.ports import Mailer

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
FIN = "5ABC12D"
STAFF_A = User(id=501, is_bot=False, first_name="Elvin", last_name="Məmmədov")
STAFF_B = User(id=502, is_bot=False, first_name="Aysel", last_name="Quliyeva")
STRANGER = User(id=777, is_bot=False, first_name="Mallory")
ANONYMOUS = User(id=1087968824, is_bot=True, first_name="Group", username="GroupAnonymousBot")


class RecordingMailer:
    """A Mailer that keeps what it is given (and can fail on purpose)."""

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.failures: list[Exception] = []

    async def send(self, message: Any) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


@dataclass
class Harness:
    settings: Settings
    services: Services
    clock: VirtualClock
    bot: Bot
    tg: FakeTelegram
    i18n: I18n
    staff_chat_id: int
    # The dispatcher's FSM storage, shared with every runner (as Redis is between workers).
    storage: BaseStorage = field(default_factory=MemoryStorage)
    runner: OutboxRunner = field(init=False)
    dp: Dispatcher = field(init=False)

    _updates = itertools.count(1)
    _subscribers = itertools.count(200001)

    # --- subscribers ---------------------------------------------------------------------
    async def register(
        self,
        *,
        locale: str = "ru",
        chat_id: int = 1001,
        description: str = "Mənzildə heç kim yaşamayacaq.",
        notes: str | None = "Zəng edin: <b>axşam</b> & sonra",
        email: str = "abonent@example.com",
    ) -> int:
        code = str(next(self._subscribers))
        # the owner FIN on record is the applicant's: typing it is enough to apply
        await seed_subscribers(self.services.engine, [subscriber_row(code, owner_fin=FIN)])
        draft = Draft(
            fin=FIN,
            subscriber_code=code,
            reason_code="absence",
            phone="+994501234567",
            email=email,
            description=description,
            notes=notes,
            locale=locale,
            telegram_user_id=chat_id,
            chat_id=chat_id,
        )
        return await self.services.journey.submit(draft)

    # --- the outbox ------------------------------------------------------------------------
    async def rows(self) -> list[OutboxRow]:
        async with self.services.transactions.session_factory() as session:
            return list(await session.scalars(select(OutboxRow).order_by(OutboxRow.id)))

    async def next_due(self, *runners: OutboxRunner) -> datetime | None:
        """When the outbox can next send something: the earliest due head of a queue.

        ``runners`` (default: this one) are the workers sending; a Telegram row waits for
        the chat's limits in the limiter of the one leading the lane, or, while none leads,
        for the moment one asks for the lead again. With several workers each one's next
        look at the lead is a moment too: the leader renews the lead on time, as its
        process does every few seconds, instead of losing it to another over a long jump.
        """
        heads: dict[tuple[str, str], OutboxRow] = {}
        for row in await self.rows():
            if row.status == OutboxStatus.PENDING:
                heads.setdefault((row.channel, row.recipient), row)
        if not heads:
            return None
        now = self.clock.now()
        lanes = [runner.lane(Channel.TELEGRAM) for runner in runners or (self.runner,)]
        telegram = next((lane for lane in lanes if _leads(lane, now)), None)
        asks = [lane.leadership.next_ask or now for lane in lanes if lane.leadership]
        moments = []
        for (channel, recipient), row in heads.items():
            moment = max(row.next_attempt_at, row.lease_until or row.next_attempt_at)
            if channel != Channel.TELEGRAM:
                pass
            elif telegram is None:  # nobody leads the lane yet
                moment = max(moment, min(asks, default=now))
            elif telegram.limiter is not None:  # a chat at its rate limit is not even claimed
                wait = telegram.limiter.chat_delay(telegram.chats.current(recipient))
                moment = max(moment, now + timedelta(seconds=wait))
            moments.append(moment)
        if len(runners) > 1:
            moments.extend(ask for ask in asks if ask > now)
        return max(min(moments), now)

    async def deliver(self, *, limit_s: float = 7200.0) -> None:
        """Run the outbox until nothing is pending (in virtual time)."""
        end = self.clock.now() + timedelta(seconds=limit_s)
        while self.clock.now() < end:
            await self.runner.flush()
            due = await self.next_due()
            if due is None:
                return
            step = max(due - self.clock.now(), timedelta(milliseconds=10))
            self.clock.advance(step)
        raise AssertionError("the outbox did not drain")

    def new_runner(
        self,
        owner: str,
        *,
        services: Services | None = None,
        seed: int = 7,
        bot: Bot | None = None,
    ) -> OutboxRunner:
        """Another outbox runner on the virtual timeline: a restarted process (the same
        ``owner``), or another worker (with its own ``services``); ``bot`` (default: this
        one's) is the Bot API it sends to."""
        return virtual_runner(
            bot or self.bot,
            services or self.services,
            self.settings,
            self.i18n,
            self.clock,
            seed=seed,
            owner=owner,
            storage=self.storage,
        )

    # --- the staff group -------------------------------------------------------------------
    async def card_ref(self, number: int) -> tuple[int, int]:
        card = await self.runner.store.card_of(number)
        assert card is not None, f"no card for {number}"
        return card.chat_id, card.message_id

    async def card(self, number: int) -> Message:
        chat_id, message_id = await self.card_ref(number)
        return self.tg.message(chat_id, message_id, self.bot)

    def card_text(self, chat_id: int, message_id: int) -> str:
        return self.tg.chats[chat_id].messages[message_id]["html"]

    async def feed(self, **update: Any) -> Any:
        return await self.dp.feed_update(self.bot, Update(update_id=next(self._updates), **update))

    async def press(
        self, message: Message, data: str, user: User, *, chat: Chat | None = None
    ) -> Any:
        """Press the button with callback ``data`` on ``message``; returns the answer."""
        if chat is not None:
            message = message.model_copy(update={"chat": chat})
        before = len(self.tg.answers())
        await self.feed(
            callback_query=CallbackQuery(
                id=str(next(self._updates)),
                from_user=user,
                chat_instance="staff",
                message=message,
                data=data,
            )
        )
        answers = self.tg.answers()
        assert len(answers) == before + 1, "the press was not answered"
        return answers[-1]

    async def press_button(self, number: int, label: str, user: User) -> Any:
        card = await self.card(number)
        assert card.reply_markup is not None, "the card has no buttons"
        for row in card.reply_markup.inline_keyboard:
            for button in row:
                if label in button.text:
                    assert button.callback_data is not None
                    return await self.press(card, button.callback_data, user)
        raise AssertionError(f"no button {label!r} on the card of {number}")

    def last_prompt(self) -> Message:
        chat = self.tg.chats[self.staff_chat_id]
        for data in reversed(list(chat.messages.values())):
            if "reply to this message" in data["text"]:
                return self.tg.message(self.staff_chat_id, data["message_id"], self.bot)
        raise AssertionError("no prompt in the staff group")

    async def reply(
        self, to: Message, user: User, text: str | None = None, **extra: Any
    ) -> Message:
        """``user`` replies to ``to`` in its chat; returns the reply as the bot got it."""
        chat = to.chat
        message = Message(
            message_id=10_000 + next(self._updates),
            date=datetime.now(UTC),
            chat=chat,
            from_user=user,
            text=text,
            reply_to_message=to,
            **extra,
        )
        await self.feed(message=message)
        return message

    def replies_to(self, user_message_id: int) -> list[str]:
        chat = self.tg.chats[self.staff_chat_id]
        return [
            m["text"]
            for m in chat.messages.values()
            if m.get("reply_to_message", {}).get("message_id") == user_message_id
        ]


def virtual_runner(
    bot: Bot,
    services: Services,
    settings: Settings,
    i18n: I18n,
    clock: VirtualClock,
    *,
    seed: int = 7,
    owner: str = "test",
    storage: BaseStorage | None = None,
) -> OutboxRunner:
    """An outbox runner wired as the product wires it, on ``clock``'s timeline (its waits
    advance the clock); ``storage``: the dispatcher's FSM storage."""
    return build_outbox_runner(
        settings,
        services,
        bot,
        i18n,
        clock=clock,
        owner=owner,
        timing=Timing(sleep=clock.sleep, monotonic=clock.monotonic, rng=random.Random(seed)),
        storage=storage,
    )


def _leads(lane: OutboxDispatcher, now: datetime) -> bool:
    return lane.leadership is None or lane.leadership.leads(now)


async def make_harness(
    settings: Settings,
    engine: AsyncEngine,
    tmp_path: Path,
    *,
    mailer: Mailer | None = None,
    i18n: I18n | None = None,
    storage: BaseStorage | None = None,
    **overrides: Any,
) -> Harness:
    """``i18n``: by default small catalogues of its own (``make_i18n``); ``storage``: the
    FSM storage of the dispatcher and the runners (default: a MemoryStorage)."""
    settings = settings.model_copy(update={"staff_locale": "en", **overrides})
    clock = VirtualClock(START)
    bot, tg = fake_bot(clock.monotonic)
    staff_chat_id = settings.staff_chat_id or 0
    tg.group(staff_chat_id)
    tg.members.update({STAFF_A.id, STAFF_B.id})
    services = build_services(settings, engine=engine, clock=clock, mailer=mailer)
    i18n = i18n or make_i18n(tmp_path / "locales")
    h = Harness(
        settings=settings,
        services=services,
        clock=clock,
        bot=bot,
        tg=tg,
        i18n=i18n,
        staff_chat_id=staff_chat_id,
        storage=storage or MemoryStorage(),
    )
    h.runner = h.new_runner("test")
    h.dp = build_dispatcher(settings, services, storage=h.storage, i18n=i18n, outbox=h.runner)
    return h
