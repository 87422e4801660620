"""The confirmation with the application number is never edited into another window: what
follows it is sent as a new message (``ShowMode.SEND``), so its text and number stay.

The message manager of these tests gives every window a new id, so they look at the show mode
aiogram-dialog asks for; tests/e2e/test_e2e_screen.py reads the same in the chat's history.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram_dialog import ShowMode

from tests.dialogs.helpers import (
    STATES,
    CheckingMessageManager,
    World,
    make_world,
    press,
    register,
    state_of,
)


class ShowRecorder(CheckingMessageManager):
    """Keeps (show mode, id of the message it replaces) of every window shown."""

    def __init__(self) -> None:
        super().__init__()
        self.shows: list[tuple[ShowMode, int | None]] = []

    async def show_message(self, bot: Bot, new_message: Any, old_message: Any) -> Any:
        old_id = old_message.message_id if old_message is not None else None
        self.shows.append((new_message.show_mode, old_id))
        return await super().show_message(bot, new_message, old_message)


def recording(world: World) -> tuple[World, ShowRecorder]:
    """Another worker on the same database whose message manager records the shows."""
    assert world.settings is not None and world.engine is not None
    recorder = ShowRecorder()
    return make_world(world.settings, world.engine, world.services.clock, mm=recorder), recorder


async def test_main_menu_under_the_confirmation_is_a_new_message(world: World) -> None:
    world, recorder = recording(world)
    user = world.subscriber()
    await register(user)
    confirmation = user.last

    recorder.shows.clear()
    await press(user, "__cancel__", confirmation)

    assert await state_of(user) == STATES["menu"]
    assert recorder.shows == [(ShowMode.SEND, confirmation.message_id)]


async def test_status_from_the_confirmation_is_a_new_message(world: World) -> None:
    world, recorder = recording(world)
    user = world.subscriber()
    number = await register(user)
    confirmation = user.last

    recorder.shows.clear()
    detail = await press(user, "to_status", confirmation)

    assert await state_of(user) == STATES["detail"]
    assert str(number) in (detail.text or "")
    # one window: the menu under the closed form is not edited in on the way
    assert recorder.shows == [(ShowMode.SEND, confirmation.message_id)]
