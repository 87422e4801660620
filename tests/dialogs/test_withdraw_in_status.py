"""Issue 19, items 5 and 7, in the subscriber's dialogs: "Withdraw" in the status view (with a
confirmation) before and after Take, a second press that does nothing, and the Bot API 10.1
buttons (Davam et primary, copy the number) — every window here passes the sandbox's spec
check (``tests.dialogs.helpers.check_window``)."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from sandbox.spec import ApiError
from storage.models import ApplicationRow
from tests.dialogs.helpers import (
    STATES,
    World,
    check_markup,
    fill_to,
    open_menu,
    press,
    register,
    state_of,
    tr,
    widget_ids,
)
from tests.support import buttons
from workflows.models import ApplicationStatus, EventKind, StaffMember

STAFF = StaffMember(user_id=501, name="Ali")


def copy_texts(message: Message) -> list[str]:
    return [
        b.copy_text.text
        for b in buttons(message)
        if isinstance(b, InlineKeyboardButton) and b.copy_text is not None
    ]


async def status_of(world: World, number: int) -> ApplicationStatus:
    async with world.services.transactions() as uow:
        app = await uow.applications.get(number)
    assert app is not None
    return app.status


async def kinds(world: World, number: int) -> list[EventKind]:
    async with world.services.transactions() as uow:
        app = await uow.applications.get(number)
    assert app is not None
    return [event.kind for event in app.events]


async def open_detail(user: Any, number: int) -> Message:
    await open_menu(user)
    await press(user, "status")
    return await press(user, f"app:{number}")


async def test_withdraw_before_take_is_at_once(world: World) -> None:
    user = world.subscriber(100001)
    number = await register(user)
    detail = await open_detail(user, number)
    assert "to_withdraw" in widget_ids(detail)
    assert copy_texts(detail) == [str(number)]

    confirm = await press(user, "to_withdraw")
    assert await state_of(user) == STATES["withdraw"]
    assert f"{number} nömrəli müraciəti geri götürürsünüz?" in confirm.text
    assert copy_texts(confirm) == [str(number)]
    assert {"withdraw_yes", "withdraw_no"} <= set(widget_ids(confirm))
    done = await press(user, "withdraw_yes")

    assert await state_of(user) == STATES["detail"]
    assert tr("↩️ Your application is withdrawn.") in done.text
    assert tr("Withdrawn") in done.text  # the status line and the timeline
    assert "to_withdraw" not in widget_ids(done)
    assert await status_of(world, number) is ApplicationStatus.WITHDRAWN

    # A second press of the old confirmation changes nothing.
    await press(user, "withdraw_yes", confirm)
    assert await status_of(world, number) is ApplicationStatus.WITHDRAWN
    assert await kinds(world, number) == [EventKind.REGISTERED, EventKind.WITHDRAWN]


async def test_withdraw_after_take_asks_the_staff(world: World) -> None:
    user = world.subscriber(100001)
    number = await register(user)
    await world.services.work_orders.take(number, STAFF)
    await open_detail(user, number)

    confirm = await press(user, "to_withdraw")
    asked = await press(user, "withdraw_yes")
    await press(user, "withdraw_yes", confirm)  # a second press: nothing more

    assert tr("You asked to withdraw it") in asked.text
    assert "to_withdraw" not in widget_ids(asked)
    assert await status_of(world, number) is ApplicationStatus.TAKEN
    assert (await kinds(world, number)).count(EventKind.WITHDRAW_REQUESTED) == 1
    async with world.services.transactions() as uow:
        app = await uow.applications.get(number)
    assert app is not None and app.withdraw_requested_at is not None


async def test_keep_it_changes_nothing(world: World) -> None:
    user = world.subscriber(100001)
    number = await register(user)
    await open_detail(user, number)
    await press(user, "to_withdraw")

    await press(user, "withdraw_no")

    assert await state_of(user) == STATES["detail"]
    assert await status_of(world, number) is ApplicationStatus.REGISTERED


async def test_davam_et_is_primary_and_the_confirmation_copies_the_number(world: World) -> None:
    user = world.subscriber(100001)
    summary = await fill_to(user, "summary")
    (davam,) = [
        b
        for b in buttons(summary)
        if isinstance(b, InlineKeyboardButton) and b.callback_data and "confirm" in b.callback_data
    ]
    assert davam.text == tr("Continue") == "Davam et"
    assert davam.style == "primary"

    confirmation = await press(user, "confirm")

    number = max(row.number for row in await _applications(world))  # the one just registered
    assert copy_texts(confirmation) == [str(number)]


async def _applications(world: World) -> list[ApplicationRow]:
    from tests.dialogs.helpers import applications

    assert world.engine is not None
    return await applications(world.engine)


def test_the_spec_check_refuses_an_unknown_style() -> None:
    """The check the windows pass can fail: a style Telegram does not know."""
    bad = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x", style="loud")]]
    )
    with pytest.raises(AssertionError, match="refuse this keyboard"):
        check_markup(bad)
    with pytest.raises(ApiError):
        from tests.dialogs.helpers import SPEC

        SPEC.check_object("InlineKeyboardMarkup", bad.model_dump(mode="json", exclude_none=True))
