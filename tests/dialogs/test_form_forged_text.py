"""Issue 17: what a subscriber types into the form, and the address the billing API
answers, are stored clean; what the staff answered is shown inert in the subscriber's
status view (tests/inert.py)."""

from __future__ import annotations

from aiogram.types import User
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import SecretUrl, Settings
from bot.staff.access import display_name
from bot.staff.render import render_card
from dialogs.wording import tg_len
from tests.dialogs.helpers import (
    World,
    applications,
    billing_api,
    make_world,
    open_menu,
    press,
    register,
)
from tests.inert import FAKE_LINE, assert_clean, assert_inert_telegram, forged
from tests.local_http import local_server
from workflows.clock import FixedClock
from workflows.models import StaffMember
from workflows.values import clean_text, parse_text

STAFF = User(id=7009, is_bot=False, first_name="Əli\u202e", last_name=forged("Adı"))


async def test_the_form_stores_free_text_clean(world: World) -> None:
    user = world.subscriber(100001)
    description, notes = forged("Təsvir"), forged("Qeyd")

    number = await register(user, description=description, notes=notes)

    [row] = await applications(world.engine)
    assert row.number == number
    assert row.description == clean_text(description, multiline=True)
    assert row.notes == clean_text(notes, multiline=True)
    for value in (row.description, row.notes):
        assert_clean(value)
        assert f"\n{FAKE_LINE}\n" in value and "\n\n\n" not in value  # kept, one line each


async def test_the_status_view_quotes_the_staff_note(world: World) -> None:
    user = world.subscriber(100001)
    number = await register(user, description=forged("Təsvir"))
    staff = StaffMember(user_id=STAFF.id, name=display_name(STAFF))
    await world.services.work_orders.take(number, staff)
    await world.services.work_orders.reject(number, staff, parse_text(forged("Səbəb")) or "")

    await open_menu(user)
    await press(user, "status")
    detail = await press(user, f"app:{number}")

    assert_inert_telegram(detail.text, quoted=("Səbəb",))
    assert "Səbəb enoD :sutatS[31m ok" in detail.text


async def test_a_long_note_is_cut_inside_its_quote(world: World) -> None:
    """1,000 characters that escape to 5,000: the note is cut, still quoted (the window's
    HTML is checked as Telegram parses it)."""
    user = world.subscriber(100001)
    number = await register(user)
    staff = StaffMember(user_id=STAFF.id, name=display_name(STAFF))
    await world.services.work_orders.reject(number, staff, "&" * 1000)

    await open_menu(user)
    await press(user, "status")
    detail = await press(user, f"app:{number}")

    assert tg_len(detail.text) <= 3900
    assert detail.text.endswith("&amp;…</blockquote>")
    assert detail.text.count("&amp;") > 500


async def test_a_forged_billing_address_and_form_text_make_an_inert_card(
    settings: Settings, engine: AsyncEngine, clock: FixedClock
) -> None:
    """From the billing API and the form to the staff card: the address on its line, the
    description and notes quoted, nothing bidi or control left."""
    async with local_server(billing_api(forged("Ünvan"))) as origin:
        world = make_world(
            settings.model_copy(update={"billing_api_url": SecretUrl(origin)}), engine, clock
        )
        try:
            user = world.subscriber()
            number = await register(user, description=forged("Təsvir"), notes=forged("Qeyd"))
            stored = (
                await world.services.journey.application_of(user.user.id, number)
            ).application
        finally:
            await world.services.close()

    card = render_card(stored, "Temporary absence", str)
    assert_inert_telegram(card, quoted=("Təsvir", "Qeyd"))
    assert f"Address: Ünvan enoD :sutatS[31m ok {FAKE_LINE} {FAKE_LINE}" in card
