"""Issue 16, item 8: an agent's forged page button (``sp:<cmd>:<page>:<arg>``) is answered,
never a traceback: an unknown command, a page that is no number or far past the end, an
argument /status or /find would refuse. The agent's answer is a page or a one-line usage
alert; a subscriber's is the refusal; nothing is logged as an error."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from aiogram.types import CallbackQuery, Message, Update

from tests.support_agents.agents import AGENT_ID, FIN, OUTSIDER_ID, World

FORGED = (
    "sp:s:0:",
    "sp:s:0:abc",
    "sp:s:0:-1",
    "sp:s:0:0",
    f"sp:s:0:{2**63}",
    f"sp:s:0:{10**30}",
    "sp:s:0:\u0663",
    "sp:s:abc:1",
    "sp:s:-5:1",
    f"sp:s:{10**30}:1",
    "sp:f:0:",
    "sp:f:0:<b>x</b>",
    "sp:f:0:" + "Ω" * 28,
    "sp:f:1_0:x",
    "sp:o:999999:",
    "sp:t:-1:",
    "sp:zz:0:",
    "sp:s:0:1:2",
    "sp:",
    "sp",
)


async def press_raw(world: World, user_id: int, message: Message, data: str) -> str:
    assert len(data.encode()) <= 64, data
    person = world.person(user_id)
    callback = CallbackQuery(
        id=f"forged{next(world.update_ids)}",
        from_user=person.user,
        chat_instance="ci",
        message=message,
        data=data,
    )
    await world.dp.feed_update(
        world.bot, Update(update_id=next(world.update_ids), callback_query=callback)
    )
    return callback.id


@pytest.mark.parametrize("user_id", [AGENT_ID, OUTSIDER_ID], ids=["agent", "subscriber"])
async def test_forged_page_buttons_are_answered(
    world: World, caplog: pytest.LogCaptureFixture, user_id: int
) -> None:
    number = await world.submit()
    [_] = await world.person(AGENT_ID).send(f"/status {number}")
    page = world.last_message()
    # the same message, as the presser's own chat shows it
    message = page.model_copy(
        update={"chat": world.person(user_id).chat(), "date": datetime.now(UTC)}
    )
    caplog.set_level(logging.INFO)

    for data in FORGED:
        callback_id = await press_raw(world, user_id, message, data)

        answers = [
            r
            for r in world.session.of("AnswerCallbackQuery")
            if r.callback_query_id == callback_id
        ]
        assert world.mm is not None
        # answered once: by a handler of ours, or by the subscriber dialog it fell to
        assert len(answers) + (callback_id in world.mm.answered_callbacks) == 1, data
    bad = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, bad
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert FIN not in logged
