"""Who may press the card's buttons, by what Telegram's getChatMember says about the presser
in the staff group, and for how long that answer is trusted.

Telegram's statuses: ``creator``, ``administrator`` and ``member`` are in the group;
``restricted`` is a user with limited rights, who may still be in the group
(``is_member: true``, a member like any other) or not any more (``is_member: false``);
``left`` and ``kicked`` are out.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram import Dispatcher
from aiogram.types import User

from bot.staff.access import StaffAccess
from tests.outbox.harness import STAFF_A, Harness
from workflows.models import ApplicationStatus

REFUSED = "Only the staff can handle work orders."


def _attributes(owner: object) -> list[object]:
    """The attribute values of a handler's object (a plain class or a slots dataclass)."""
    if owner is None:
        return []
    names = getattr(owner, "__slots__", None) or vars(owner)
    return [getattr(owner, name, None) for name in names]


def staff_access(dp: Dispatcher) -> StaffAccess:
    """The StaffAccess the dispatcher's staff handlers ask (to give it the test's clock)."""
    found = {
        id(value): value
        for router in dp.chain_tail
        for observer in router.observers.values()
        for handler in observer.handlers
        for value in _attributes(getattr(handler.callback, "__self__", None))
        if isinstance(value, StaffAccess)
    }
    assert len(found) == 1, f"expected one StaffAccess in the dispatcher, found {len(found)}"
    return next(iter(found.values()))


async def _registered(h: Harness, count: int) -> list[int]:
    """``count`` applications with their cards posted (delivering moves the virtual clock:
    done before the presses, so the clock moves only where a test moves it)."""
    numbers = [await h.register(chat_id=1001 + i) for i in range(count)]
    await h.deliver()
    return numbers


async def _take(h: Harness, user: User, number: int) -> str:
    card = await h.card(number)
    return str((await h.press(card, f"wo:take:{number}", user)).text)


async def _status(h: Harness, number: int) -> ApplicationStatus:
    async with h.services.transactions() as tx:
        app = await tx.applications.get(number)
    assert app is not None
    return app.status


@pytest.mark.parametrize(
    ("status", "is_member", "allowed"),
    [
        ("creator", None, True),
        ("administrator", None, True),
        ("member", None, True),
        ("restricted", True, True),  # limited rights, but in the group
        ("restricted", False, False),  # restricted once, and gone since
        ("left", None, False),
        ("kicked", None, False),
    ],
)
async def test_the_status_in_the_staff_group_decides(
    h: Harness, status: str, is_member: bool | None, allowed: bool
) -> None:
    user = User(id=600, is_bot=False, first_name="Rauf")
    h.tg.set_status(user.id, status, is_member=is_member)

    [number] = await _registered(h, 1)
    answer = await _take(h, user, number)

    [asked] = h.tg.ok("GetChatMember")
    assert (asked.method.chat_id, asked.method.user_id) == (h.staff_chat_id, user.id)
    if allowed:
        assert answer == f"You took work order No. {number}."
        assert await _status(h, number) is ApplicationStatus.TAKEN
    else:
        assert answer == REFUSED
        assert await _status(h, number) is ApplicationStatus.REGISTERED


async def test_a_removed_member_loses_access_when_the_cache_expires(h: Harness) -> None:
    access = staff_access(h.dp)
    access.now = h.clock.monotonic  # the harness's virtual time
    ttl = timedelta(seconds=access.ttl_s)

    first, second, third = await _registered(h, 3)

    assert await _take(h, STAFF_A, first) == f"You took work order No. {first}."
    h.tg.set_status(STAFF_A.id, "kicked")  # removed from the group

    h.clock.advance(ttl - timedelta(seconds=1))
    answer = await _take(h, STAFF_A, second)
    assert answer == f"You took work order No. {second}."  # still the cached answer
    assert len(h.tg.ok("GetChatMember")) == 1

    h.clock.advance(timedelta(seconds=1))
    assert await _take(h, STAFF_A, third) == REFUSED
    assert len(h.tg.ok("GetChatMember")) == 2
    assert await _status(h, third) is ApplicationStatus.REGISTERED


async def test_a_new_member_is_let_in_when_the_cache_expires(h: Harness) -> None:
    access = staff_access(h.dp)
    access.now = h.clock.monotonic
    newcomer = User(id=601, is_bot=False, first_name="Nigar")

    first, second = await _registered(h, 2)

    assert await _take(h, newcomer, first) == REFUSED
    h.tg.set_status(newcomer.id, "restricted", is_member=True)  # added, with limited rights

    h.clock.advance(timedelta(seconds=access.ttl_s) - timedelta(seconds=1))
    assert await _take(h, newcomer, second) == REFUSED  # the cached answer
    h.clock.advance(timedelta(seconds=1))
    assert await _take(h, newcomer, second) == f"You took work order No. {second}."
    assert len(h.tg.ok("GetChatMember")) == 2
