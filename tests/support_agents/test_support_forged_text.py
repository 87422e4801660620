"""Issue 17: an agent's /status shows forged free text inert (tests/inert.py): the
description, the notes and the staff's note stand in quoted blocks, a staff name with a
line break and a right-to-left override stays on its line."""

from __future__ import annotations

from aiogram.types import User

from bot.staff.access import display_name
from tests.inert import FAKE_LINE, assert_inert_telegram, forged
from tests.support_agents.agents import AGENT_ID, World
from workflows.models import StaffMember
from workflows.values import parse_text

FORGER = User(id=7009, is_bot=False, first_name="Əli\u202e", last_name=forged("Adı"))


async def test_status_shows_forged_text_inert(world: World) -> None:
    number = await world.submit(
        description=parse_text(forged("Təsvir")) or "",
        notes=parse_text(forged("Qeyd"), required=False),
    )
    staff = StaffMember(user_id=FORGER.id, name=display_name(FORGER))
    await world.services.work_orders.take(number, staff)
    await world.services.work_orders.complete(number, staff, parse_text(forged("Nəticə")) or "")

    [text] = await world.person(AGENT_ID).send(f"/status {number}")

    assert_inert_telegram(text, quoted=("Təsvir", "Qeyd", "Nəticə"))
    assert f"Taken by <b>Əli Adı enoD :sutatS[31m ok {FAKE_LINE} {FAKE_LINE}" in text


async def test_long_forged_text_is_quoted_on_every_page(world: World) -> None:
    """A description of fake lines that escaping makes four times longer, and long notes:
    the answer comes in pages, and on each page their parts are still inside a quote."""
    description = parse_text(
        "\n".join(f"{FAKE_LINE} {i:02d} " + "<&>" * 10 for i in range(21)), max_length=1000
    )
    notes = parse_text("\n".join([FAKE_LINE] * 75), max_length=1000)
    number = await world.submit(description=description or "", notes=notes)

    pages = await world.person(AGENT_ID).pages(f"/status {number}")

    assert len(pages) > 1
    for page in pages:
        assert_inert_telegram(page)
    shown = "".join(pages)
    assert f"{FAKE_LINE} 20 " in shown and shown.count(FAKE_LINE) >= 21 + 75 - 2
