"""The manual's "Müraciətin statusunu yoxla": the applicant's applications and their history.

Scenarios: the list of the applications of the FIN the user entered, newest first; one
application by its number, with its timeline; another FIN's number is "not found", exactly
like a number that does not exist; the deep link ``/start status_<n>`` opens the application
for its owner only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram.types import Message

from dialogs.wording import fmt_dt
from tests.dialogs.helpers import (
    FIN,
    FIN_PROMPT,
    OTHER_FIN,
    STATES,
    World,
    current,
    hint,
    open_menu,
    press,
    register,
    state_of,
    tr,
    widget_ids,
)

NOT_FOUND = "Application No. {number} was not found."
CARD_TITLE = "<b>Application No. {number}</b>"


def listed(message: Message) -> list[int]:
    return [int(d.split(":", 1)[1]) for d in widget_ids(message) if d.startswith("app:")]


async def test_status_list_newest_first(world: World) -> None:
    user = world.subscriber(100001)
    first = await register(user, code="100001")
    world.services.clock.advance(timedelta(hours=1))
    second = await register(user, code="100002")
    await register(world.subscriber(100002), code="100005", fin=OTHER_FIN)  # not theirs

    await open_menu(user)
    listing = await press(user, "status")

    assert await state_of(user) == STATES["listing"]
    assert tr("<b>Your applications</b>, newest first:") in listing.text
    assert listed(listing) == [second, first]
    labels = [b.text for row in listing.reply_markup.inline_keyboard for b in row]
    assert any(f"№\u00a0{second}" in label and tr("Restoration") in label for label in labels)
    assert any(
        f"№\u00a0{first}" in label and tr("Temporary suspension") in label for label in labels
    )

    detail = await press(user, f"app:{first}")

    assert await state_of(user) == STATES["detail"]
    assert tr(CARD_TITLE, number=first) in detail.text
    assert tr("Subscriber code: {code}", code="100001") in detail.text
    assert tr("Status: {status}", status=f"🆕 {tr('Registered')}") in detail.text
    assert tr("<b>History</b>") in detail.text
    registered_at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 13:00 in Baku
    assert f"• {fmt_dt(registered_at, tr)} — {tr('Registered')}" in detail.text
    back = await press(user, "detail_back")
    assert await state_of(user) == STATES["listing"]
    assert listed(back) == [second, first]


async def test_no_applications_yet(world: World) -> None:
    user = world.subscriber(100001)
    await open_menu(user)

    listing = await press(user, "status")

    assert tr("You have no applications yet.") in listing.text
    assert listed(listing) == []
    assert {"to_lookup", "__cancel__"} <= set(widget_ids(listing))


async def test_status_lookup_by_number(world: World) -> None:
    user = world.subscriber(100001)
    number = await register(user)
    await open_menu(user)
    await press(user, "status")
    asked = await press(user, "to_lookup")
    assert tr("Type the application number:") in asked.text

    refused = await user.send("one")
    assert await state_of(user) == STATES["lookup"]
    assert hint("number.invalid") in refused.text
    missing = await user.send("999")
    assert await state_of(user) == STATES["lookup"]
    assert hint("number.not_found", number=999) in missing.text

    detail = await user.send(f"№ {number}")

    assert await state_of(user) == STATES["detail"]
    assert tr(CARD_TITLE, number=number) in detail.text


async def test_another_fins_number_not_found(world: World) -> None:
    number = await register(world.subscriber(100001))
    other = world.subscriber(100002)
    await open_menu(other, fin=OTHER_FIN)

    listing = await press(other, "status")
    assert listed(listing) == []
    await press(other, "to_lookup")
    reply = await other.send(str(number))

    assert await state_of(other) == STATES["lookup"]
    # the same answer as for a number that was never issued
    assert hint("number.not_found", number=number) in reply.text
    assert tr(CARD_TITLE, number=number) not in reply.text


async def test_same_user_after_change_fin_still_sees_its_own_filings(world: World) -> None:
    """An application belongs to the account that filed it, whatever FIN it types later."""
    user = world.subscriber(100001)
    number = await register(user)
    await open_menu(user)
    await press(user, "change_fin")
    await user.send(OTHER_FIN)

    listing = await press(user, "status")

    assert listed(listing) == [number]
    await press(user, "to_lookup")
    reply = await user.send(str(number))
    assert tr(CARD_TITLE, number=number) in reply.text


async def test_deep_link_opens_the_application_for_its_owner(world: World) -> None:
    user = world.subscriber(100001)
    number = await register(user)

    detail = await user.send(f"/start status_{number}")

    state, data = await current(user)
    assert state == STATES["detail"]
    assert data["number"] == number
    assert tr(CARD_TITLE, number=number) in detail.text
    # its Back leads to the list, the main menu is one more step
    await press(user, "detail_back")
    assert await state_of(user) == STATES["listing"]
    await press(user, "__cancel__")
    assert await state_of(user) == STATES["menu"]


@pytest.mark.parametrize("link", ["status_{number}", "status_999"])
async def test_deep_link_not_found_for_another_fin(world: World, link: str) -> None:
    number = await register(world.subscriber(100001))
    other = world.subscriber(100002)
    await open_menu(other, fin=OTHER_FIN)

    reply = await other.send("/start " + link.format(number=number))

    shown = int(link.format(number=number).removeprefix("status_"))
    assert await state_of(other) == STATES["detail"]
    assert tr(NOT_FOUND, number=shown) in reply.text
    assert tr(CARD_TITLE, number=shown) not in reply.text


async def test_deep_link_with_a_bad_payload_opens_the_menu(world: World) -> None:
    user = world.subscriber(100001)
    await open_menu(user)

    reply = await user.send("/start status_abc")

    assert await state_of(user) == STATES["menu"]
    assert tr("Choose what you want to do:") in reply.text


# The typed FIN is no key: another account gets "not found" even with the applicant's FIN.
@pytest.mark.parametrize(("fin", "found"), [(FIN, False), (OTHER_FIN, False)])
async def test_deep_link_before_the_fin_opens_after_it(
    world: World, fin: str, found: bool
) -> None:
    number = await register(world.subscriber(100001))
    newcomer = world.subscriber(100002)

    asked = await newcomer.send(f"/start status_{number}")
    assert await state_of(newcomer) == STATES["fin"]
    assert tr(FIN_PROMPT) in asked.text
    reply = await newcomer.send(fin)

    assert await state_of(newcomer) == STATES["detail"]
    assert (tr(CARD_TITLE, number=number) in reply.text) is found
    assert (tr(NOT_FOUND, number=number) in reply.text) is not found
    # once only: a later change of FIN leads to the menu
    await press(newcomer, "__cancel__")
    await press(newcomer, "change_fin")
    await newcomer.send(fin)
    assert await state_of(newcomer) == STATES["menu"]
