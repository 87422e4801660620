"""Scenario: a suspension says until when (issue 19, item 6): an optional Baku day, typed
leniently or picked, from tomorrow to SUSPEND_UNTIL_MAX_DAYS ahead, checked again when the
application is registered; a restoration keeps none."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.workflows.world import START, World, draft, subscriber
from workflows.models import ServiceState
from workflows.until import (
    InvalidDate,
    UntilNotAllowed,
    add_months,
    check_until,
    parse_date,
    quick_choices,
    quick_date,
    until_range,
)

TODAY = date(2026, 11, 27)  # START is 13:00 in Baku


@pytest.mark.parametrize(
    "typed",
    [
        "12.03.2027",
        "12/03/2027",
        "12-03-2027",
        "12 03 2027",
        " 12.3.27 ",
        "12.03.2027.",
        "2027-03-12",
        "１２.０３.２０２７",  # full-width digits, as some keyboards send them
        "12 — 03 — 2027",
    ],
)
def test_a_date_is_read_however_it_is_typed(typed: str) -> None:
    assert parse_date(typed) == date(2027, 3, 12)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("tomorrow", "format"),
        ("12.03", "format"),
        ("31.02.2027", "format"),
        ("12.13.2027", "format"),
        ("1.2.3.4", "format"),
        ("123.03.2027", "format"),
        ("12.03.20271", "format"),
        ("1" * 100, "format"),
    ],
)
def test_what_is_no_date_is_refused_with_a_reason(typed: str, code: str) -> None:
    with pytest.raises(InvalidDate) as refused:
        parse_date(typed)
    assert refused.value.code == code


def test_the_range_is_tomorrow_to_the_limit_in_baku_days() -> None:
    # 21:30 UTC is already the next day in Baku (UTC+4)
    late = datetime(2026, 11, 27, 21, 30, tzinfo=UTC)
    assert until_range(START, 365) == (TODAY + timedelta(days=1), TODAY + timedelta(days=365))
    assert until_range(late, 30) == (date(2026, 11, 29), date(2026, 12, 28))
    assert check_until(TODAY + timedelta(days=365), START, 365) == date(2027, 11, 27)
    for refused in (TODAY, TODAY - timedelta(days=1), TODAY + timedelta(days=366)):
        with pytest.raises(UntilNotAllowed) as error:
            check_until(refused, START, 365)
        assert (error.value.first, error.value.last) == (date(2026, 11, 28), date(2027, 11, 27))


def test_the_quick_choices_count_from_today_and_stay_within_the_limit() -> None:
    assert quick_date("1w", START) == date(2026, 12, 4)
    assert quick_date("1m", START) == date(2026, 12, 27)
    assert quick_date("3m", START) == date(2027, 2, 27)
    assert quick_date("6m", START) == date(2027, 5, 27)
    assert quick_date("2y", START) is None
    assert [choice for choice, _ in quick_choices(START, 365)] == ["1w", "1m", "3m", "6m"]
    assert [choice for choice, _ in quick_choices(START, 31)] == ["1w", "1m"]
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


async def test_the_date_is_stored_on_the_suspension(world: World) -> None:
    world.db.add_subscribers(subscriber("100001"))

    number = await world.journey.submit(replace(draft("100001"), suspend_until="2027-03-12"))

    assert world.db.application(number).suspend_until == "2027-03-12"


async def test_a_suspension_without_a_date_has_none(world: World) -> None:
    world.db.add_subscribers(subscriber("100001"))

    number = await world.journey.submit(draft("100001"))

    assert world.db.application(number).suspend_until is None


async def test_a_restoration_keeps_no_date(world: World) -> None:
    world.db.add_subscribers(subscriber("100002", state=ServiceState.SUSPENDED))
    restoration = replace(draft("100002", "returned"), suspend_until="2027-03-12")

    number = await world.journey.submit(restoration)

    assert world.db.application(number).suspend_until is None


@pytest.mark.parametrize("until", ["2026-11-27", "2026-11-01", "2027-11-28", "someday"])
async def test_a_date_out_of_range_at_registration_is_refused(world: World, until: str) -> None:
    world.db.add_subscribers(subscriber("100001"))

    with pytest.raises(UntilNotAllowed):
        await world.journey.submit(replace(draft("100001"), suspend_until=until))

    assert world.db.applications == {}


async def test_the_limit_is_the_setting(world: World) -> None:
    world.db.add_subscribers(subscriber("100001"), subscriber("100003"))
    world.journey.suspend_until_max_days = 30
    with pytest.raises(UntilNotAllowed):
        await world.journey.submit(replace(draft("100001"), suspend_until="2026-12-28"))

    number = await world.journey.submit(replace(draft("100003"), suspend_until="2026-12-27"))

    assert world.db.application(number).suspend_until == "2026-12-27"
