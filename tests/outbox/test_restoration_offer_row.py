"""The restoration offer's outbox row (issue 19, item 6), against the fake Bot API: the job
queues it three days before the suspension's date, the sender writes it to the chat that
filed the suspension in its language, with one button (held to the Bot API spec), and the
press opens the filled-in form in that chat. An offer that is over by the time it is sent
(the code active again, an application open on it) sends nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import InlineKeyboardMarkup, Message, User
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_i18n
from bot.config import Settings
from storage.models import SubscriberRow
from tests.dialogs.helpers import check_markup
from tests.outbox.harness import FIN, Harness, make_harness
from tests.support import draft, seed_subscribers, subscriber_row
from workflows.models import StaffMember
from workflows.outbox.records import OutboxKind, OutboxStatus
from workflows.ports import UserProfile

CHAT = 1001
SUBSCRIBER = User(id=CHAT, is_bot=False, first_name="Leyla", language_code="ru")
ALI = StaffMember(user_id=501, name="Ali")
THREE_DAYS_BEFORE = datetime(2026, 12, 17, 6, 0, tzinfo=UTC)  # 10:00 in Baku
CODE = "100001"


@pytest.fixture
async def h(settings: Settings, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Harness]:
    # the real catalogues: the offer as a Russian subscriber reads it
    yield await make_harness(settings, engine, tmp_path, i18n=build_i18n(settings))


async def done_suspension(h: Harness, locale: str = "ru") -> int:
    await seed_subscribers(
        h.services.engine,
        [subscriber_row(CODE, owner_fin=FIN, address="Bakı ş., Nəsimi r., Azadlıq pr. 12")],
    )
    # the account that filed it, with its FIN and language, as the form leaves it
    await h.services.journey.save_profile(UserProfile(CHAT, locale=locale, fin=FIN))
    filed = replace(draft(CODE, CHAT, locale=locale), suspend_until="2026-12-20")
    number = await h.services.journey.submit(filed)
    await h.services.work_orders.take(number, ALI)
    await h.services.work_orders.complete(number, ALI, "Sealed.")
    await h.deliver()
    return number


def offers(h: Harness) -> list[dict[str, Any]]:
    found = []
    for data in h.tg.messages(CHAT):
        rows = (data.get("reply_markup") or {}).get("inline_keyboard") or []
        if any(b.get("callback_data", "").startswith("ro:") for row in rows for b in row):
            found.append(data)
    return found


async def offer_rows(h: Harness) -> list[tuple[str, str]]:
    return [
        (row.status, row.recipient)
        for row in await h.rows()
        if row.kind == OutboxKind.RESTORE_OFFER
    ]


async def test_the_offer_message_its_button_and_the_press(h: Harness) -> None:
    number = await done_suspension(h)
    h.clock.at = THREE_DAYS_BEFORE

    assert await h.runner.offer_restorations() == [number]
    await h.deliver()

    [offer] = offers(h)
    assert offer["html"] == (
        "<b>📅 Ваше водоснабжение приостановлено до 20 декабря 2026.</b>\n"
        f"Абонентский код <code>{CODE}</code>, Bakı ş., Nəsimi r. (заявление №\u00a0{number}).\n"
        "\n"
        "Хотите подать заявление на восстановление сейчас? Кнопка покажет уже заполненное "
        "заявление; ничего не будет отправлено, пока Вы не нажмёте «Продолжить»."
    )
    markup = InlineKeyboardMarkup.model_validate(offer["reply_markup"])
    check_markup(markup)
    [[button]] = markup.inline_keyboard
    assert button.text == "🔄 Подать заявление на восстановление"
    assert button.callback_data == f"ro:{number}"
    assert await offer_rows(h) == [(OutboxStatus.SENT, str(CHAT))]
    assert await h.runner.offer_restorations() == []  # once

    message = h.tg.message(CHAT, offer["message_id"], h.bot)
    answer = await h.press(message, f"ro:{number}", SUBSCRIBER)

    assert answer.text is None  # no alert: the form opens
    summary = h.tg.messages(CHAT)[-1]
    assert "Проверьте заявление" in summary["text"]
    assert "Вид заявления: Восстановление" in summary["text"]
    assert "Причина: Я вернулся(-ась)" in summary["text"]
    assert "Продолжить" in str(summary["reply_markup"])


async def test_nothing_is_sent_when_the_code_is_active_again(h: Harness) -> None:
    number = await done_suspension(h)
    h.clock.at = THREE_DAYS_BEFORE
    assert await h.runner.offer_restorations() == [number]
    async with h.services.engine.begin() as conn:  # restored another way meanwhile
        await conn.execute(
            update(SubscriberRow).where(SubscriberRow.code == CODE).values(service_state="active")
        )

    await h.deliver()

    assert offers(h) == []
    assert await offer_rows(h) == [(OutboxStatus.SENT, str(CHAT))]  # done, without a message


async def test_nothing_is_sent_while_an_application_is_open_on_the_code(h: Harness) -> None:
    number = await done_suspension(h)
    h.clock.at = THREE_DAYS_BEFORE
    assert await h.runner.offer_restorations() == [number]
    await h.services.journey.submit(draft(CODE, CHAT, reason_code="returned"))

    await h.deliver()

    assert offers(h) == []


async def test_a_press_from_another_account_opens_nothing(h: Harness) -> None:
    number = await done_suspension(h)
    h.clock.at = THREE_DAYS_BEFORE
    await h.runner.offer_restorations()
    await h.deliver()
    [offer] = offers(h)
    message: Message = h.tg.message(CHAT, offer["message_id"], h.bot)
    stranger = User(id=2002, is_bot=False, first_name="Other", language_code="ru")
    before = len(h.tg.messages(CHAT))

    answer = await h.press(message, f"ro:{number}", stranger)

    assert answer.show_alert and answer.text == f"Заявление №\u00a0{number} не найдено."
    assert len(h.tg.messages(CHAT)) == before
