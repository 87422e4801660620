"""Old buttons and restarts: the bot never goes silent and forgets nothing it registered.

Scenarios: Telegram keeps every inline keyboard clickable, so a press on a button of an old
message (a finished dialog, an earlier window, a message from before a restart) is answered
(no endless spinner) and the user gets a working window again. A restart (a new dispatcher
and a new, empty FSM storage on the same database) keeps the registered applications and the
remembered FIN.
"""

from __future__ import annotations

from tests.dialogs.helpers import (
    FIN,
    MENU_PROMPT,
    REGISTERED,
    STATES,
    World,
    applications,
    current,
    fill_to,
    open_menu,
    press,
    register,
    state_of,
    step_line,
    tr,
    widget_ids,
)


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

    reply = await press(user, "new_app", menu)  # the menu message is still in the chat

    assert world.session.of("AnswerCallbackQuery") or world.mm.answered_callbacks
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

    reply = await press(user, "reason:vacant", reasons)  # a reason of the earlier window

    answered = world.mm.answered_callbacks or world.session.of("AnswerCallbackQuery")
    assert answered
    state, after = await current(user)
    assert state == STATES["email"]
    assert step_line(4) in reply.text
    assert after == before  # the old press changed nothing


async def test_continue_pressed_twice_registers_once(world: World) -> None:
    user = world.subscriber(100001)
    summary = await fill_to(user, "summary")
    done = await press(user, "confirm")
    assert done.text == tr(REGISTERED, number=1)

    again = await press(user, "confirm", summary)  # the summary message is still there

    assert len(await applications(world.engine)) == 1
    assert await state_of(user) == STATES["registered"]
    assert again.text == done.text


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
