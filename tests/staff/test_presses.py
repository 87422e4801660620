"""Presses that must change nothing: a second press, a press by someone else, a press on a
closed order, strangers and anonymous administrators; and the result-note prompt, which only
the person who pressed can answer (or cancel)."""

from __future__ import annotations

from pathlib import Path

from aiogram.types import Chat, Message, Sticker
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from tests.outbox.harness import ANONYMOUS, STAFF_A, STAFF_B, STRANGER, Harness, make_harness
from workflows.models import ApplicationStatus, EventKind


async def _status(h: Harness, number: int) -> tuple[ApplicationStatus, list[EventKind]]:
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None
    return app.status, [e.kind for e in app.events]


async def _registered(h: Harness) -> tuple[int, Message]:
    number = await h.register(chat_id=1001)
    await h.deliver()
    return number, await h.card(number)


async def test_second_take_and_take_by_another_change_nothing(h: Harness) -> None:
    number, card = await _registered(h)
    take = f"wo:take:{number}"
    assert (await h.press(card, take, STAFF_A)).text == f"You took work order No. {number}."
    rows_before = len(await h.rows())

    again = await h.press(card, take, STAFF_A)  # the card still shows Take: a double press
    assert again.text == f"You have already taken work order No. {number}."
    assert again.show_alert
    other = await h.press(card, take, STAFF_B)
    assert other.text == f"Work order No. {number} is already taken by Elvin Məmmədov."
    done_by_other = await h.press(card, f"wo:done:{number}", STAFF_B)
    assert "already taken by Elvin Məmmədov" in done_by_other.text

    assert await _status(h, number) == (
        ApplicationStatus.TAKEN,
        [EventKind.REGISTERED, EventKind.TAKEN],
    )
    assert len(await h.rows()) == rows_before  # nothing more owed to anyone


async def test_press_on_a_closed_order_says_so(h: Harness) -> None:
    number, card = await _registered(h)
    await h.press(card, f"wo:reject:{number}", STAFF_A)
    await h.reply(h.last_prompt(), STAFF_A, "Abonent müraciəti geri götürdü.")
    await h.deliver()
    for action in ("take", "done", "reject"):
        answer = await h.press(card, f"wo:{action}:{number}", STAFF_B)
        assert answer.text == f"Work order No. {number} is already rejected."
    status, events = await _status(h, number)
    assert status is ApplicationStatus.REJECTED
    assert events == [EventKind.REGISTERED, EventKind.REJECTED]


async def test_done_needs_take_first(h: Harness) -> None:
    number, card = await _registered(h)
    answer = await h.press(card, f"wo:done:{number}", STAFF_A)
    assert answer.text == f"Work order No. {number} is not taken yet: press Take first."


async def test_stranger_is_refused_and_membership_is_cached(h: Harness) -> None:
    number, card = await _registered(h)
    answer = await h.press(card, f"wo:take:{number}", STRANGER)
    assert answer.text == "Only the staff can handle work orders."
    assert answer.show_alert
    await h.press(card, f"wo:take:{number}", STAFF_A)
    await h.press(card, f"wo:take:{number}", STAFF_A)
    asked = [r.method.user_id for r in h.tg.ok("GetChatMember")]
    assert asked == [STRANGER.id, STAFF_A.id]  # the second press of A used the cache
    assert (await _status(h, number))[0] is ApplicationStatus.TAKEN


async def test_allow_list_wins_over_membership(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    h = await make_harness(settings, engine, tmp_path, staff_user_ids=[STAFF_B.id])
    number, card = await _registered(h)
    refused = await h.press(card, f"wo:take:{number}", STAFF_A)  # a member, but not listed
    assert refused.text == "Only the staff can handle work orders."
    assert (await h.press(card, f"wo:take:{number}", STAFF_B)).text.startswith("You took")
    assert h.tg.ok("GetChatMember") == []


async def test_anonymous_admin_is_told_to_press_as_themselves(h: Harness) -> None:
    number, card = await _registered(h)
    answer = await h.press(card, f"wo:take:{number}", ANONYMOUS)
    assert "anonymous" in answer.text and "as yourself" in answer.text
    assert answer.show_alert
    assert (await _status(h, number))[0] is ApplicationStatus.REGISTERED


async def test_press_outside_the_staff_group_is_refused(h: Harness) -> None:
    number, card = await _registered(h)
    elsewhere = Chat(id=-100999, type="supergroup")
    answer = await h.press(card, f"wo:take:{number}", STAFF_A, chat=elsewhere)
    assert answer.text == "These buttons work only in the staff group."
    private = Chat(id=STAFF_A.id, type="private")
    answer = await h.press(card, f"wo:take:{number}", STAFF_A, chat=private)
    assert answer.text == "These buttons work only in the staff group."
    assert (await _status(h, number))[0] is ApplicationStatus.REGISTERED


async def test_only_the_presser_can_answer_the_prompt(h: Harness) -> None:
    number, card = await _registered(h)
    await h.press(card, f"wo:take:{number}", STAFF_A)
    await h.press(card, f"wo:done:{number}", STAFF_A)
    prompt = h.last_prompt()
    assert "Elvin Məmmədov" in prompt.text
    stored = h.tg.chats[h.staff_chat_id].messages[prompt.message_id]
    assert stored["reply_to_message"]["message_id"] == card.message_id  # a reply to the card
    force = h.tg.sent(h.staff_chat_id)[-1].method.reply_markup  # the prompt as sent
    assert force.force_reply and force.selective

    await h.reply(prompt, STAFF_B, "Mən etdim.")
    assert "only they can answer it" in h.tg.sent(h.staff_chat_id)[-1].text
    await h.reply(prompt, ANONYMOUS, "Mən etdim.")
    assert "anonymous" in h.tg.sent(h.staff_chat_id)[-1].text
    assert (await _status(h, number))[0] is ApplicationStatus.TAKEN

    note = await h.reply(prompt, STAFF_A, "Su bağlandı.")
    status, events = await _status(h, number)
    assert status is ApplicationStatus.DONE and events[-1] is EventKind.DONE
    # the prompt keeps its question (its Cancel button goes); the answer is below the note
    answered = h.tg.chats[h.staff_chat_id].messages[prompt.message_id]
    assert answered["text"] == prompt.text
    assert not answered.get("reply_markup")
    answer = h.tg.sent(h.staff_chat_id)[-1]
    assert answer.text == f"✅ Work order No. {number} is done; the result is recorded."
    assert answer.method.reply_parameters.message_id == note.message_id
    # a second reply to the same prompt is not a note any more
    await h.reply(prompt, STAFF_A, "Bir daha.")
    assert (await _status(h, number))[1].count(EventKind.DONE) == 1


async def test_prompt_can_be_cancelled_by_the_presser_only(h: Harness) -> None:
    number, card = await _registered(h)
    await h.press(card, f"wo:reject:{number}", STAFF_A)
    prompt = h.last_prompt()
    assert prompt.reply_markup is not None
    cancel = prompt.reply_markup.inline_keyboard[0][0]
    assert cancel.text == "✖️ Cancel"
    refused = await h.press(prompt, cancel.callback_data, STAFF_B)
    assert refused.text == "Only Elvin Məmmədov can answer or cancel this request."
    answer = await h.press(prompt, cancel.callback_data, STAFF_A)
    assert answer.text == "Cancelled."
    text = h.tg.chats[h.staff_chat_id].messages[prompt.message_id]["text"]
    assert text == f"Cancelled: work order No. {number} was not changed."
    await h.reply(prompt, STAFF_A, "Gec gəldi.")  # the prompt is gone: nothing happens
    assert (await _status(h, number))[0] is ApplicationStatus.REGISTERED
    stale = await h.press(prompt, cancel.callback_data, STAFF_A)
    assert stale.text == "This request is no longer active."


async def test_a_bad_note_is_explained_and_asked_again(h: Harness) -> None:
    number, card = await _registered(h)
    await h.press(card, f"wo:take:{number}", STAFF_A)
    await h.press(card, f"wo:done:{number}", STAFF_A)
    prompt = h.last_prompt()

    await h.reply(prompt, STAFF_A, "x" * 1001)
    again = h.last_prompt()
    assert again.message_id != prompt.message_id
    assert "That is 1001 characters; the limit is 1000." in again.text
    await h.reply(again, STAFF_A, "   ")
    assert "This field is required" in h.last_prompt().text
    sticker = Sticker(
        file_id="s",
        file_unique_id="s",
        type="regular",
        width=1,
        height=1,
        is_animated=False,
        is_video=False,
    )
    await h.reply(h.last_prompt(), STAFF_A, None, sticker=sticker)
    assert "Please answer with text." in h.last_prompt().text
    assert (await _status(h, number))[0] is ApplicationStatus.TAKEN

    await h.reply(h.last_prompt(), STAFF_A, "y" * 1000)  # exactly the limit
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None and app.result_note == "y" * 1000
