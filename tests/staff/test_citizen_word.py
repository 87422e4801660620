"""The citizen's word after Done and the photo with Done's note (issue 19, items 3 and 4),
through the real dispatcher and outbox: Done with a photo -> the subscriber is asked -> No
with a comment -> the order is reopened -> Done again -> Yes -> a rating of 4."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import Chat, Message, PhotoSize, User
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_i18n
from bot.citizen.handlers import takes_comment
from bot.config import Settings
from dialogs.states import ApplicationSG, MainSG, StatusSG
from tests.outbox.harness import STAFF_A, Harness, make_harness
from workflows.models import ApplicationStatus, EventKind, ServiceState

SUBSCRIBER = User(id=1001, is_bot=False, first_name="Leyla")
AGENT = User(id=9001, is_bot=False, first_name="Agent", language_code="en")
PRIVATE = Chat(id=1001, type="private")


def photo(file_id: str) -> list[PhotoSize]:
    return [
        PhotoSize(file_id=f"{file_id}-small", file_unique_id="s", width=90, height=90),
        PhotoSize(file_id=file_id, file_unique_id="b", width=1280, height=960),
    ]


def question(h: Harness) -> Message:
    """The subscriber's newest message from the bot that has buttons of the question."""
    for data in reversed(h.tg.messages(PRIVATE.id)):
        markup = data.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or []
        if any(b.get("callback_data", "").startswith("cz:") for row in rows for b in row):
            return h.tg.message(PRIVATE.id, data["message_id"], h.bot)
    raise AssertionError("no question in the subscriber's chat")


async def press(h: Harness, message: Message, label: str) -> Any:
    assert message.reply_markup is not None
    for row in message.reply_markup.inline_keyboard:
        for button in row:
            if label in button.text:
                assert button.callback_data is not None
                return await h.press(message, button.callback_data, SUBSCRIBER)
    raise AssertionError(f"no button {label!r}")


async def say(h: Harness, text: str) -> None:
    await h.feed(
        message=Message(
            message_id=50_000 + len(h.tg.log),
            date=datetime.now(UTC),
            chat=PRIVATE,
            from_user=SUBSCRIBER,
            text=text,
        )
    )


async def done(h: Harness, number: int, note: str, file_id: str | None = None) -> None:
    await h.press_button(number, "Done", STAFF_A)
    prompt = h.last_prompt()
    if file_id is None:
        await h.reply(prompt, STAFF_A, note)
    else:
        await h.reply(prompt, STAFF_A, None, photo=photo(file_id), caption=note)
    await h.deliver()


@pytest.fixture
async def h(settings: Settings, engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[Harness]:
    yield await make_harness(settings, engine, tmp_path, support_user_ids=[AGENT.id])


async def test_done_with_photo_no_reopens_then_yes_and_a_rating(h: Harness) -> None:
    number = await h.register(locale="en", chat_id=PRIVATE.id)
    await h.deliver()
    await h.press_button(number, "Take", STAFF_A)
    await h.deliver()

    await done(h, number, "Valve closed, sealed.", file_id="AgACphoto1")
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None and app.status is ApplicationStatus.DONE
    assert app.events[-1].kind is EventKind.DONE
    assert app.events[-1].photo_file_id == "AgACphoto1"
    assert app.events[-1].note == "Valve closed, sealed."

    chat_id, card_id = await h.card_ref(number)
    assert "📷 A photo is attached to the result." in h.card_text(chat_id, card_id)
    ask = question(h)
    assert "Was your water supply actually suspended?" in (ask.text or "")
    await press(h, ask, "No")
    await say(h, "Water <still> runs & nobody came")
    await h.deliver()

    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None
    assert app.status is ApplicationStatus.TAKEN and app.taken_by_id == STAFF_A.id
    assert app.reopened_count == 1 and app.citizen_answer == "no"
    assert app.events[-1].kind is EventKind.REOPENED
    subscriber = await h.services.registry.lookup(app.subscriber_code)
    assert subscriber is not None and subscriber.state is ServiceState.ACTIVE  # not suspended
    reopened_at = app.events[-1].at
    assert app.due_at == reopened_at + timedelta(hours=h.settings.work_order_deadline_hours)
    assert app.events[-1].note == "Water <still> runs & nobody came"
    chat_id, card_id = await h.card_ref(number)
    card = h.card_text(chat_id, card_id)
    assert "Reopened by the subscriber (1×)" in card
    assert "Water &lt;still&gt; runs &amp; nobody came" in card
    assert [b.text for b in (await h.card(number)).reply_markup.inline_keyboard[0]] == [
        "✅ Done",
        "❌ Reject",
    ]
    told = [m for m in h.tg.messages(chat_id) if "is reopened" in m["text"]]
    assert len(told) == 1 and told[0]["reply_to_message"]["message_id"] == card_id
    assert any("has been reopened" in m["text"] for m in h.tg.messages(PRIVATE.id))

    # The first question's buttons change nothing now.
    answer = await h.press(ask, f"cz:y:{number}:0:0", SUBSCRIBER)
    assert "already recorded" in answer.text

    await done(h, number, "Done properly this time.")
    ask = question(h)
    await press(h, ask, "Yes")
    await h.deliver()
    rating = question(h)  # the same message, now with the stars
    await press(h, rating, "4")
    await say(h, "Quick, thanks")
    await h.deliver()

    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None and app.status is ApplicationStatus.DONE
    assert (app.citizen_answer, app.rating, app.rating_comment) == ("yes", 4, "Quick, thanks")
    kinds = [e.kind for e in app.events]
    assert kinds[-2:] == [EventKind.CONFIRMED, EventKind.RATED]
    card = h.card_text(chat_id, card_id)
    assert "Rating: ★★★★☆ (4/5)" in card and "Quick, thanks" in card
    # A second press on the stars changes nothing.
    answer = await h.press(rating, f"cz:r:{number}:1:2", SUBSCRIBER)
    assert "already recorded" in answer.text
    async with h.services.transactions() as tx:
        assert (await tx.applications.get(number)).rating == 4  # type: ignore[union-attr]

    # An agent's /stats shows it, and /status the photo of the first Done.
    for command in ("/stats", f"/status {number}"):
        await h.feed(
            message=Message(
                message_id=60_000 + len(h.tg.log),
                date=datetime.now(UTC),
                chat=Chat(id=AGENT.id, type="private"),
                from_user=AGENT,
                text=command,
            )
        )
    stats, status = [m["text"] for m in h.tg.messages(AGENT.id)][-2:]
    assert "⭐ Temporary absence (travel, posting): 4.0 of 5 (1 rated)" in stats
    assert "⭐ Elvin Məmmədov: 4.0 of 5 (1 rated)" in stats
    assert "with a photo" in status and "Reopened" in status
    photos = [r.method.photo for r in h.tg.ok("SendPhoto", AGENT.id)]
    assert photos == ["AgACphoto1"]


async def test_no_answer_within_three_days_expires(h: Harness) -> None:
    number = await h.register(locale="en", chat_id=PRIVATE.id)
    await h.deliver()
    await h.press_button(number, "Take", STAFF_A)
    await h.deliver()
    await done(h, number, "Sealed.")
    ask = question(h)
    h.clock.advance(timedelta(days=3, minutes=1))
    answer = await press(h, ask, "No")
    assert "expired" in answer.text
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None and app.status is ApplicationStatus.DONE
    assert app.citizen_answer is None and app.reopened_count == 0


async def test_skip_reopens_without_a_comment(h: Harness) -> None:
    number = await h.register(locale="en", chat_id=PRIVATE.id)
    await h.deliver()
    await h.press_button(number, "Take", STAFF_A)
    await h.deliver()
    await done(h, number, "Sealed.")
    await press(h, question(h), "No")
    await press(h, question(h), "Skip")
    await h.deliver()
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None and app.status is ApplicationStatus.TAKEN
    assert app.events[-1].kind is EventKind.REOPENED and app.events[-1].note is None


@pytest.fixture
async def h_required(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[Harness]:
    yield await make_harness(settings, engine, tmp_path, done_photo="required")


async def test_done_photo_required_refuses_a_text_only_note(h_required: Harness) -> None:
    h = h_required
    number = await h.register(locale="en", chat_id=PRIVATE.id)
    await h.deliver()
    await h.press_button(number, "Take", STAFF_A)
    await h.deliver()
    await h.press_button(number, "Done", STAFF_A)
    prompt = h.last_prompt()
    assert "Send it as a photo" in (prompt.text or "")
    await h.reply(prompt, STAFF_A, "Sealed, trust me.")
    asked_again = h.tg.messages(h.staff_chat_id)[-1]["text"]
    assert asked_again.startswith("⚠️ Please send a photo with the result note as its caption.")
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None and app.status is ApplicationStatus.TAKEN
    await h.reply(h.last_prompt(), STAFF_A, None, photo=photo("AgACseal"), caption="Sealed.")
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None and app.status is ApplicationStatus.DONE
    assert app.events[-1].photo_file_id == "AgACseal"


def test_a_form_field_keeps_its_text_a_reply_to_the_question_is_the_comment() -> None:
    assert takes_comment(None, replies_to_question=False)  # no dialog open
    assert takes_comment(MainSG.menu.state, replies_to_question=False)
    assert not takes_comment(ApplicationSG.subscriber_code.state, replies_to_question=False)
    assert not takes_comment(StatusSG.lookup.state, replies_to_question=False)
    assert takes_comment(ApplicationSG.description.state, replies_to_question=True)


async def test_a_press_in_another_chat_finds_nothing(h: Harness) -> None:
    number = await h.register(locale="en", chat_id=PRIVATE.id)
    await h.deliver()
    await h.press_button(number, "Take", STAFF_A)
    await h.deliver()
    await done(h, number, "Sealed.")
    ask = question(h)
    other = User(id=1002, is_bot=False, first_name="Mallory")
    forged = ask.model_copy(update={"chat": Chat(id=other.id, type="private")})
    answer = await h.press(forged, f"cz:n:{number}:0:0", other)
    assert "not found" in answer.text
    answer = await h.press(forged, f"cz:s:{number}:0:0", other)
    assert "not found" in answer.text
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None and app.status is ApplicationStatus.DONE


@pytest.fixture
async def h_real(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[Harness]:
    yield await make_harness(settings, engine, tmp_path, i18n=build_i18n(settings))


async def test_the_question_in_russian_with_the_real_catalogue(h_real: Harness) -> None:
    h = h_real
    number = await h.register(locale="ru", chat_id=PRIVATE.id)
    await h.deliver()
    await h.press_button(number, "Take", STAFF_A)  # STAFF_LOCALE=en
    await h.deliver()
    await done(h, number, "Sealed.")
    ask = question(h)
    assert "Водоснабжение у Вас действительно приостановлено?" in (ask.text or "")
    assert ask.reply_markup is not None
    assert [b.text for b in ask.reply_markup.inline_keyboard[0]] == ["✅ Да", "❌ Нет"]
    await press(h, ask, "Нет")
    await press(h, question(h), "Пропустить")
    await h.deliver()
    said = [m["text"] for m in h.tg.messages(PRIVATE.id)]
    assert any(f"Ваше заявление №\u00a0{number} возобновлено" in t for t in said)
    chat_id, _card = await h.card_ref(number)
    staff = [m["text"] for m in h.tg.messages(chat_id)]
    assert any("The subscriber left no comment." in t for t in staff)
