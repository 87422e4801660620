"""Issue 16, item 8: typed text posing as a button in a private chat.

A reply-keyboard button's text carries its callback data in invisible characters after the
label, and aiogram-dialog reads them off any message: so a typed (pasted, forged) message
can carry any callback data, or bytes that are no text at all. It gets the menu, never a
traceback; a FIN with such a tail is the FIN.
"""

from __future__ import annotations

import logging

import pytest
from aiogram_dialog.utils import REPLY_CALLBACK_SYMBOLS, encode_reply_callback

from tests.dialogs.helpers import FIN, MENU_PROMPT, STATES, World, open_menu, state_of, tr


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


TYPED_DATA = ("zz:1", "wo:take:1", f"wo:done:{2**63}", "wop:cancel:1", "sp:s:0:1", "app:abc")
NO_TEXT = REPLY_CALLBACK_SYMBOLS[-1] * 2  # decodes to the byte 0xff: no UTF-8


@pytest.mark.parametrize("dialog_open", [True, False], ids=["menu", "no dialog"])
async def test_a_typed_message_posing_as_a_button_gets_the_menu(
    world: World, caplog: pytest.LogCaptureFixture, dialog_open: bool
) -> None:
    user = world.subscriber(100001)
    await open_menu(user)
    if not dialog_open:
        user = world.restart().subscriber(100001)
    caplog.set_level(logging.INFO)

    for data in TYPED_DATA:
        reply = await user.send("salam" + encode_reply_callback(data))

        assert tr(MENU_PROMPT) in reply.text, data
        assert await state_of(user) == STATES["menu"], data
    assert await user.send("salam" + NO_TEXT)
    assert await state_of(user) == STATES["menu"]
    assert not errors_logged(caplog)


async def test_a_fin_with_an_unreadable_invisible_tail_is_the_fin(world: World) -> None:
    user = world.subscriber(100001)
    await user.send("/start")

    menu = await user.send(FIN + NO_TEXT)

    assert await state_of(user) == STATES["menu"]
    assert tr("FIN: <b>{fin}</b>", fin=FIN) in menu.text
