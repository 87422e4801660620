"""Issue 16, item 4, in the dialogs: the fourth distinct FIN of a day and the eleventh
distinct subscriber code are refused in the window that asked for them, with the way out
(tomorrow, or the call centre), and nothing of them is stored; a FIN given before today, or
the current one, is always accepted again; a code typed by a fourth account owes the
support chat one warning."""

from __future__ import annotations

from datetime import timedelta

from aiogram.types import Message
from sqlalchemy import select

from storage.models import OutboxRow
from storage.probes import SqlProbeCounters
from tests.dialogs.conftest import World
from tests.dialogs.helpers import (
    FIN,
    STATES,
    hint,
    make_world,
    open_menu,
    press,
    state_of,
    stored_profile,
)
from tests.support import Subscriber
from workflows.outbox.records import OutboxKind
from workflows.probing import ProbeKind, baku_day, value_hash

SUPPORT_CHAT = -1003000000003
FINS = (FIN, "7XYZ89K", "2DEF34G", "3GHJ45K")


async def change_fin(user: Subscriber, fin: str) -> Message:
    await press(user, "change_fin")
    return await user.send(fin)


async def test_the_fourth_fin_of_a_day_is_refused_an_earlier_one_is_accepted(
    world: World,
) -> None:
    user = world.subscriber(100001, language_code="ru")
    await open_menu(user, FINS[0])
    for fin in FINS[1:3]:
        await change_fin(user, fin)
        assert await state_of(user) == STATES["menu"]

    refused = await change_fin(user, FINS[3])

    assert await state_of(user) == STATES["fin"]
    assert hint("probe.fins", "ru") in refused.text
    assert await stored_profile(world.engine, 100001) == (None, FINS[2])
    again = await user.send(FINS[0])  # tried today already: not probing
    assert await state_of(user) == STATES["menu"]
    assert hint("probe.fins", "ru") not in again.text
    assert (await stored_profile(world.engine, 100001))[1] == FINS[0]


async def test_typing_the_current_fin_again_counts_for_nothing(world: World) -> None:
    user = world.subscriber(100001)
    await open_menu(user, FINS[0])
    world.services.clock.advance(timedelta(days=1))  # the FIN is from yesterday
    await change_fin(user, FINS[0])
    for fin in FINS[1:]:  # three new FINs today: the limit, not past it
        await change_fin(user, fin)
        assert await state_of(user) == STATES["menu"]
    assert (await stored_profile(world.engine, 100001))[1] == FINS[3]


async def test_the_eleventh_code_of_a_day_is_refused_before_the_registry_is_asked(
    world: World,
) -> None:
    assert world.engine is not None
    user = world.subscriber(100001, language_code="en")
    await open_menu(user)
    counters = SqlProbeCounters(world.engine)
    day = baku_day(world.services.clock.now())
    for n in range(10):  # ten codes checked earlier today
        await counters.add(day, 100001, ProbeKind.CODE, value_hash(f"20000{n}"))
    await press(user, "new_app")

    refused = await user.send("100001")

    assert await state_of(user) == STATES["code"]
    assert hint("probe.codes", "en") in refused.text
    assert value_hash("100001") not in await counters.tried(day, 100001, ProbeKind.CODE)


async def test_a_code_typed_by_a_fourth_account_owes_support_one_warning(
    world: World,
) -> None:
    assert world.settings is not None and world.engine is not None
    settings = world.settings.model_copy(update={"support_chat_id": SUPPORT_CHAT})
    world = make_world(settings, world.engine, world.services.clock)
    for account in range(300001, 300006):
        user = world.subscriber(account)
        await open_menu(user)
        await press(user, "new_app")
        await user.send("100006")

    query = select(OutboxRow.recipient, OutboxRow.payload).where(
        OutboxRow.kind == OutboxKind.PROBE_WARNING
    )
    async with world.engine.connect() as conn:
        warnings = (await conn.execute(query)).all()
    assert [tuple(w) for w in warnings] == [
        (str(SUPPORT_CHAT), {"code": "100006", "accounts": 4, "account": 300004})
    ]
