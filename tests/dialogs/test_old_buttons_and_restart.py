"""Old buttons and restarts: the bot never goes silent and forgets nothing it registered.

Scenarios: Telegram keeps every inline keyboard clickable, so a press on a button of an old
message (a finished dialog, an earlier window, a message from before a restart) is answered
(no endless spinner) and the user gets a working window again. A restart (a new dispatcher
and a new, empty FSM storage on the same database) keeps the registered applications and the
remembered FIN.
"""

from __future__ import annotations

import asyncio

import pytest
from aiogram.fsm.storage.memory import DisabledEventIsolation
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from tests.dialogs.helpers import (
    FIN,
    MENU_PROMPT,
    REGISTERED,
    STATES,
    World,
    applications,
    current,
    fill_to,
    hint,
    make_world,
    open_menu,
    press,
    press_update,
    register,
    state_of,
    step_line,
    tr,
    widget_ids,
)
from tests.support import seed_subscribers, subscriber_row
from workflows.clock import FixedClock
from workflows.journey import Journey
from workflows.models import Draft


async def test_old_message_button_is_answered_and_the_menu_shown(world: World) -> None:
    user = world.subscriber(100001)
    code_window = await fill_to(user, "code")
    await press(user, "__cancel__")  # that dialog is gone
    before = len(world.session.of("AnswerCallbackQuery"))

    reply = await press(user, "back", code_window)

    assert len(world.session.of("AnswerCallbackQuery")) == before + 1
    assert await state_of(user) == STATES["menu"]
    assert tr(MENU_PROMPT) in reply.text
    assert reply is not code_window


async def test_old_menu_under_the_form_is_answered_and_the_menu_shown(world: World) -> None:
    user = world.subscriber(100001)
    menu = await open_menu(user)
    await press(user, "new_app")
    await user.send("100001")
    before = len(world.session.of("AnswerCallbackQuery"))

    reply = await press(user, "new_app", menu)  # the menu message is still in the chat

    assert len(world.session.of("AnswerCallbackQuery")) == before + 1  # answered once
    assert await state_of(user) == STATES["menu"]
    assert tr(MENU_PROMPT) in reply.text


async def test_earlier_window_of_the_form_is_answered_and_the_step_shown_again(
    world: World,
) -> None:
    user = world.subscriber(100001)
    reasons = await fill_to(user, "reason")
    await press(user, "reason:absence")
    await user.send("050 123 45 67")
    _, before = await current(user)
    api_answers = len(world.session.of("AnswerCallbackQuery"))

    reply = await press(user, "reason:vacant", reasons)  # a reason of the earlier window

    # answered once, by aiogram-dialog (through the message manager), not a second time
    assert len(world.mm.answered_callbacks) == 1
    assert len(world.session.of("AnswerCallbackQuery")) == api_answers
    state, after = await current(user)
    assert state == STATES["email"]
    assert step_line(4) in reply.text
    assert after == before  # the old press changed nothing


def count_submits(monkeypatch: pytest.MonkeyPatch, *, together: int = 1) -> list[int]:
    """Spy on ``Journey.submit``: the returned list grows by one per call; with
    ``together=2`` each call waits until the other one has arrived too."""
    original = Journey.submit
    calls: list[int] = []
    barrier = asyncio.Barrier(together)

    async def submit(journey: Journey, draft: Draft) -> int:
        calls.append(draft.telegram_user_id)
        await barrier.wait()
        return await original(journey, draft)

    monkeypatch.setattr(Journey, "submit", submit)
    return calls


async def test_continue_pressed_again_on_the_old_summary_registers_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = world.subscriber(100001)
    summary = await fill_to(user, "summary")
    submits = count_submits(monkeypatch)
    done = await press(user, "confirm")
    assert done.text == tr(REGISTERED, number=1)

    again = await press(user, "confirm", summary)  # the summary message is still there

    assert len(await applications(world.engine)) == 1
    assert await state_of(user) == STATES["registered"]
    assert again.text == done.text
    assert len(submits) == 1  # the old window's button does not submit again


async def test_continue_pressed_twice_at_once_registers_once(
    settings: Settings, engine: AsyncEngine, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two presses of "Continue" that reach ``submit`` together: two workers sharing the
    dialog state, after the lock that serialises a user's updates across workers ran out
    (RedisEventIsolation's lock has a timeout; aiogram-dialog's own lock is per process).
    The database keeps it to one application; the other press is told its number."""
    await seed_subscribers(engine, [subscriber_row("100001", owner_fin=FIN)])
    shared = JsonMemoryStorage()  # Redis, in production
    workers = [
        make_world(
            settings, engine, clock, storage=shared, events_isolation=DisabledEventIsolation()
        )
        for _ in range(2)
    ]
    user = workers[0].subscriber(100001)
    summary = await fill_to(user, "summary")
    submits = count_submits(monkeypatch, together=2)

    for worker in workers:
        worker.mm.reset_history()
    await asyncio.gather(
        *(
            worker.dp.feed_update(worker.bot, press_update(user, "confirm", summary))
            for worker in workers
        )
    )

    assert submits == [100001, 100001]  # both presses reached submit
    assert [row.number for row in await applications(engine)] == [1]
    shown = [m.text for worker in workers for m in worker.mm.sent_messages]
    assert sum(tr(REGISTERED, number=1) in text for text in shown) == 1
    assert sum(hint("code.open", code="100001", number=1) in text for text in shown) == 1


async def test_old_reply_keyboard_button_after_the_form_is_gone(world: World) -> None:
    user = world.subscriber(100001)
    phone = await fill_to(user, "phone")  # Back and Cancel are reply buttons here
    await press(user, "__cancel__")

    reply = await press(user, "back", phone)  # the reply keyboard may still be on the screen

    assert await state_of(user) == STATES["menu"]
    assert tr(MENU_PROMPT) in reply.text


async def test_restart_keeps_applications_and_the_fin(world: World) -> None:
    user = world.subscriber(100001)
    number = await register(user)
    registered = user.last
    assert registered.text == tr(REGISTERED, number=number)

    after = world.restart()
    again = after.subscriber(100001)
    menu = await again.send("/start")

    assert await state_of(again) == STATES["menu"]  # no FIN question
    assert tr("FIN: <b>{fin}</b>", fin=FIN) in menu.text
    listing = await press(again, "status")
    assert [d for d in widget_ids(listing) if d.startswith("app:")] == [f"app:{number}"]
    # the next application gets the next number, and the open one is still known
    await press(again, "__cancel__")
    await press(again, "new_app")
    refused = await again.send("100001")
    assert await state_of(again) == STATES["code"]
    assert f"{number}" in refused.text


async def test_message_after_a_restart_without_start_gets_the_menu(world: World) -> None:
    await open_menu(world.subscriber(100001))

    again = world.restart().subscriber(100001)
    reply = await again.send("salam")

    assert await state_of(again) == STATES["menu"]
    assert tr(MENU_PROMPT) in reply.text


async def test_button_from_before_a_restart_is_answered(world: World) -> None:
    user = world.subscriber(100001)
    summary = await fill_to(user, "summary")

    after = world.restart()
    again = after.subscriber(100001)
    reply = await press(again, "confirm", summary)

    assert len(after.session.of("AnswerCallbackQuery")) == 1
    assert await state_of(again) == STATES["menu"]
    assert tr(MENU_PROMPT) in reply.text
