"""Only the citizen sees the citizen's data (issue 16): the typed FIN is no key.

A second Telegram account that types somebody's FIN sees none of that person's applications,
by the status section or by deep link, and learns from the code step only what the manual
needs; after proving the FIN with its own Telegram-verified phone (equal to the registry's phone
of one of the FIN's codes) it sees them; after changing the FIN it no longer does.
"""

from __future__ import annotations

import pytest
from aiogram.types import Message
from sqlalchemy import select

from storage.models import AuditRow, VerificationRow
from tests.dialogs.helpers import (
    FIN,
    OTHER_FIN,
    OWNER_PHONE,
    STATES,
    World,
    fill_to,
    hint,
    open_menu,
    press,
    prove_fin,
    register,
    state_of,
    tr,
    widget_ids,
)
from tests.support import seed_subscribers, subscriber_row

CARD_TITLE = "<b>Application No. {number}</b>"
NOT_FOUND = "Application No. {number} was not found."
STREET = "Azadlıq pr. 12"
AREA = "Bakı ş., Nəsimi r."


def listed(message: Message) -> list[int]:
    return [int(d.split(":", 1)[1]) for d in widget_ids(message) if d.startswith("app:")]


async def verifications(world: World) -> list[tuple[int, str, str]]:
    async with world.engine.connect() as conn:
        rows = await conn.execute(select(VerificationRow))
        return [(r.telegram_user_id, r.fin, r.method) for r in rows]


async def test_two_accounts_one_fin_the_second_sees_nothing_until_it_proves_the_fin(
    world: World,
) -> None:
    owner = world.subscriber(100001)
    number = await register(owner)
    stranger = world.subscriber(200001)
    await open_menu(stranger, FIN)

    listing = await press(stranger, "status")
    assert listed(listing) == []
    assert "to_prove" in widget_ids(listing)
    await press(stranger, "to_lookup")
    typed = await stranger.send(str(number))
    assert hint("number.not_found", number=number) in typed.text
    linked = await stranger.send(f"/start status_{number}")
    assert tr(NOT_FOUND, number=number) in linked.text
    assert tr(CARD_TITLE, number=number) not in linked.text

    # a contact of somebody else proves nothing
    await press(stranger, "__cancel__")
    await press(stranger, "status")
    await press(stranger, "to_prove")
    foreign = await stranger.send_contact(OWNER_PHONE, own=False)
    assert hint("phone.not_own") in foreign.text
    # its own phone, but not the registry's: nothing either
    wrong = await stranger.send_contact("+994557654321")
    assert hint("fin.not_proved") in wrong.text
    assert await verifications(world) == []

    proved = await stranger.send_contact(OWNER_PHONE)

    assert await state_of(stranger) == STATES["listing"]
    assert listed(proved) == [number]
    assert await verifications(world) == [(200001, FIN, "phone")]
    detail = await stranger.send(f"/start status_{number}")
    assert tr(CARD_TITLE, number=number) in detail.text
    assert STREET in detail.text  # the whole address to the proven owner
    async with world.engine.connect() as conn:
        audit = (await conn.execute(select(AuditRow))).all()
    assert [(a.action, a.subject, a.detail) for a in audit] == [("verified", "tg:200001", "phone")]
    assert all(FIN not in str(tuple(a)) for a in audit)

    # another FIN typed: the proofs of the account go
    await press(stranger, "__cancel__")
    await press(stranger, "change_fin")
    await stranger.send(OTHER_FIN)
    assert await verifications(world) == []
    again = await stranger.send(f"/start status_{number}")
    assert tr(NOT_FOUND, number=number) in again.text


async def test_the_filer_sees_its_own_application_but_not_the_street_before_the_proof(
    world: World,
) -> None:
    owner = world.subscriber(100001)
    number = await register(owner)

    detail = await owner.send(f"/start status_{number}")

    assert tr(CARD_TITLE, number=number) in detail.text
    assert AREA in detail.text
    assert STREET not in detail.text


@pytest.fixture
async def probed(world: World) -> World:
    """Another account's open application on 100001; 100008 is somebody else's."""
    await seed_subscribers(world.engine, [subscriber_row("100008", owner_fin=OTHER_FIN)])
    await register(world.subscriber(100001))
    return world


# (code, what the unverified account may be told, what only the proven owner is told)
PROBES = [
    ("999999", "code.not_found", None),
    ("100004", "code.metered", None),
    ("100008", "code.owner", None),
    ("100007", "code.owner_unknown", None),
    ("100001", "code.open_hidden", "code.open"),
    ("100003", "code.debt", "12,50"),
]


@pytest.mark.parametrize(("code", "told", "owner_only"), PROBES)
async def test_registry_probing_tells_an_unverified_account_no_number_amount_or_street(
    probed: World, code: str, told: str, owner_only: str | None
) -> None:
    stranger = probed.subscriber(200001)
    await fill_to(stranger, "code")

    answer = await stranger.send(code)

    text = answer.text or ""
    assert hint(told, code=code).split("{")[0][:40] in text
    assert "№" not in text and "No. 1" not in text and "1 nömrəli" not in text
    assert "12,50" not in text and "12.50" not in text
    assert STREET not in text


@pytest.mark.parametrize(("code", "told", "owner_only"), [p for p in PROBES if p[2]])
async def test_the_proven_owner_is_told_the_number_and_the_amount(
    probed: World, code: str, told: str, owner_only: str
) -> None:
    owner = probed.subscriber(200002)
    await open_menu(owner, FIN)
    await prove_fin(owner)
    await press(owner, "__cancel__")
    await press(owner, "new_app")

    answer = await owner.send(code)

    if owner_only == "code.open":
        assert hint("code.open", code=code, number=1) in answer.text
    else:
        assert owner_only in answer.text


async def test_a_code_without_an_owner_fin_needs_the_phone_on_record(world: World) -> None:
    user = world.subscriber(200003)
    await fill_to(user, "code")

    refused = await user.send("100007")
    assert await state_of(user) == STATES["code_prove"]
    assert hint("code.owner_unknown", code="100007") in refused.text

    wrong = await user.send_contact("+994557654321")
    assert await state_of(user) == STATES["code_prove"]
    assert hint("phone.no_match") in wrong.text

    accepted = await user.send_contact(OWNER_PHONE)
    assert await state_of(user) == STATES["reason"], accepted.text


async def test_require_verified_identity_refuses_every_unproved_filing(world: World) -> None:
    world.services.journey.require_verified = True
    user = world.subscriber(200004)
    await fill_to(user, "code")

    refused = await user.send("100001")

    assert await state_of(user) == STATES["code_prove"]
    assert hint("identity.required", code="100001") in refused.text
    accepted = await user.send_contact(OWNER_PHONE)
    assert await state_of(user) == STATES["reason"], accepted.text
    assert await verifications(world) == [(200004, FIN, "phone")]


async def test_after_logout_the_second_account_sees_the_fins_applications_no_more(
    world: World,
) -> None:
    number = await register(world.subscriber(100001))
    second = world.subscriber(200005)
    await open_menu(second, FIN)
    proved = await prove_fin(second)
    assert listed(proved) == [number]

    await second.send("/logout")

    assert await verifications(world) == []
    linked = await second.send(f"/start status_{number}")
    assert tr(NOT_FOUND, number=number) in linked.text
    await press(second, "__cancel__")
    assert listed(await press(second, "status")) == []
