"""The support agents' use cases on the fakes, and their plain rules: search terms,
masking, actors, percentiles and Baku's "today" (moved here from tests/support_agents)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.workflows.fakes import FakeSupportQueries
from tests.workflows.world import (
    ALI,
    DEADLINE,
    FIN,
    OTHER_FIN,
    World,
    draft,
    reason,
    subscriber,
)
from workflows.errors import ApplicationNotFound
from workflows.models import ApplicationKind, ApplicationStatus
from workflows.support import (
    InvalidSearch,
    SearchTerm,
    Support,
    describe_actor,
    fin_lookup,
    percentile,
    start_of_day,
)
from workflows.values import mask_fin

AGENT = 5001  # a support agent's Telegram id


@pytest.mark.parametrize(
    ("text", "code", "fin"),
    [
        ("100001", "100001", None),
        (" 100 001 ", "100001", None),
        ("1234567", "1234567", "1234567"),
        ("5abc12d", None, "5ABC12D"),
        ("5ABC 12D", None, "5ABC12D"),
    ],
)
def test_search_terms(text: str, code: str | None, fin: str | None) -> None:
    term = SearchTerm.parse(text)

    assert (term.subscriber_code, term.fin) == (code, fin)
    assert SearchTerm.parse(term.key) == term


@pytest.mark.parametrize("text", ["", "abc", "5ABC1OD", "5АВС12D", "1" * 33, "x" * 200])
def test_bad_search_terms(text: str) -> None:
    with pytest.raises(InvalidSearch):
        SearchTerm.parse(text)


def test_a_search_argument_of_up_to_64_characters_is_read() -> None:
    assert SearchTerm.parse("100001" + " " * 58).subscriber_code == "100001"
    with pytest.raises(InvalidSearch):
        SearchTerm.parse("100001" + " " * 59)


def test_a_fin_is_shown_masked() -> None:
    assert mask_fin("7KQ2M9X") == "7KQ•••X"
    assert mask_fin("5ABC12D") == "5AB•••D"
    assert (mask_fin("5ABC"), mask_fin("")) == ("••••", "")
    assert SearchTerm.parse("5ABC12D").shown == "5AB•••D"
    assert SearchTerm.parse("100001").shown == "100001"


def test_the_access_log_keeps_a_fin_masked_with_a_digest_never_whole() -> None:
    logged = SearchTerm.parse("7kq 2m9x").logged

    assert logged == fin_lookup("7KQ2M9X")
    assert logged.startswith("7KQ•••X #") and "7KQ2M9X" not in logged
    assert len(logged) <= 64  # agent_access.query
    assert fin_lookup("7KQ2M9Y") != logged  # one FIN, one digest: an auditor can find it
    # seven digits may be a FIN: kept like one
    assert SearchTerm.parse("1234567").logged == fin_lookup("1234567")
    assert SearchTerm.parse("100001").logged == "100001"


def test_actors() -> None:
    assert describe_actor("staff:7001:Əli: the boss") == ("staff", "Əli: the boss")
    assert describe_actor("staff:7001:") == ("staff", None)
    assert describe_actor("staff:7001") == ("staff", None)
    assert describe_actor("tg:1001") == ("subscriber", None)
    assert describe_actor("system") == ("system", None)


def test_percentiles_interpolate() -> None:
    hours = [timedelta(hours=h) for h in (10, 2, 4, 8)]

    assert percentile([], 0.5) is None
    assert percentile(hours[:1], 0.9) == timedelta(hours=10)
    assert percentile(hours, 0.5) == timedelta(hours=6)
    assert percentile(hours, 0.9) == timedelta(hours=9, minutes=24)


def test_today_begins_at_midnight_in_baku() -> None:
    late_evening_utc = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)  # 01:30 on the 27th in Baku

    assert start_of_day(late_evening_utc) == datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


async def submitted(world: World, *codes: str, fin: str = FIN) -> list[int]:
    world.db.add_subscribers(*(subscriber(code, owner_fin=fin) for code in codes))
    return [await world.journey.submit(draft(code, fin=fin)) for code in codes]


async def test_find_by_fin_or_code_newest_first_and_counted_beyond_the_limit(
    world: World,
) -> None:
    a, b, c = await submitted(world, "100003", "100004", "100005")
    await submitted(world, "100006", fin=OTHER_FIN)
    support = world.support()

    found = await support.find(SearchTerm.parse(FIN), agent=AGENT, limit=2)
    everything = await support.find(SearchTerm.parse(FIN), agent=AGENT, limit=3)
    by_code = await support.find(SearchTerm.parse("100004"), agent=AGENT)

    assert [app.number for app in found.applications] == [c, b]
    assert (found.term, found.total) == (SearchTerm.parse(FIN), 3)
    assert (len(everything.applications), everything.total) == (3, 3)
    assert ([app.number for app in by_code.applications], by_code.total) == ([b], 1)
    assert a not in [app.number for app in found.applications]


async def test_seven_digits_find_by_subscriber_code_and_by_fin_and_count_both(
    world: World,
) -> None:
    # "1234567" is a subscriber code and a FIN at once: both are searched and counted.
    (by_code,) = await submitted(world, "1234567", fin=FIN)
    by_fin = await submitted(world, "100003", "100004", fin="1234567")

    found = await world.support().find(SearchTerm.parse("1234567"), agent=AGENT, limit=2)

    assert [app.number for app in found.applications] == by_fin[::-1]
    assert found.total == 3
    assert by_code not in [app.number for app in found.applications]


async def test_open_orders_oldest_first_with_their_age_and_the_deadline(world: World) -> None:
    first, second = await submitted(world, "100003", "100004")
    world.clock.advance(timedelta(hours=1))
    (third,) = await submitted(world, "100005")
    await world.work_orders.take(second, ALI)
    world.clock.advance(timedelta(hours=47))
    deadline = timedelta(hours=48)

    orders = await world.support(deadline).open_orders(agent=AGENT, limit=2)

    assert [o.application.number for o in orders.orders] == [first, second]
    assert [o.age for o in orders.orders] == [timedelta(hours=48)] * 2
    assert [o.overdue for o in orders.orders] == [False, False]  # overdue once *past* it
    assert (orders.total, orders.deadline) == (3, deadline)
    world.clock.advance(timedelta(seconds=1))
    later = await world.support(deadline).open_orders(agent=AGENT)
    assert [o.overdue for o in later.orders] == [True, True, False]
    assert later.orders[2].application.number == third
    (fresh,) = await submitted(world, "100006")
    just_now = (await world.support(deadline).open_orders(agent=AGENT)).orders[-1]
    assert (just_now.application.number, just_now.age) == (fresh, timedelta(0))


async def test_stats_count_today_in_baku_the_last_7_days_and_completions(world: World) -> None:
    world.clock.at = datetime(2026, 11, 20, 19, 59, tzinfo=UTC)  # 23:59 on the 20th in Baku
    (old,) = await submitted(world, "100001")
    world.clock.at = datetime(2026, 11, 20, 20, 0, tzinfo=UTC)  # midnight of the 21st
    (week,) = await submitted(world, "100002")
    world.clock.at = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # midnight of the 27th
    (today,) = await submitted(world, "100003")
    for number, hours in ((old, 1), (week, 3)):
        await world.work_orders.take(number, ALI)
        world.clock.advance(timedelta(hours=hours))
        await world.work_orders.complete(number, ALI, "Valve closed.")
    await world.work_orders.reject(today, ALI, "Duplicate request.")

    stats = await world.support().stats(agent=AGENT, window=timedelta(hours=2))

    assert stats.by_status == {
        ApplicationStatus.REGISTERED: 0,
        ApplicationStatus.TAKEN: 0,
        ApplicationStatus.DONE: 2,
        ApplicationStatus.REJECTED: 1,
        ApplicationStatus.WITHDRAWN: 0,
    }
    assert (stats.total, stats.open) == (3, 0)
    assert (stats.registered_today, stats.registered_last_7_days) == (1, 2)
    # now is 04:00 on the 27th in Baku; the first was closed 3 hours ago, out of the window
    assert stats.completed_in_window == 1
    assert stats.median_completion == stats.p90_completion == timedelta(days=6, hours=4)
    assert stats.completion_window == timedelta(hours=2)
    # in UTC the day began at 00:00 UTC: the one registered at 20:00 UTC is yesterday's
    in_utc = await Support(
        FakeSupportQueries(world.db), world.clock, DEADLINE, UTC, access_log=world.access_log
    ).stats(agent=AGENT)
    assert in_utc.registered_today == 0


async def test_stats_median_and_90th_percentile_of_the_completion_times(world: World) -> None:
    numbers = await submitted(world, "100001", "100002", "100003", "100004")
    for number in numbers:  # all registered at once, completed an hour apart
        await world.work_orders.take(number, ALI)
        world.clock.advance(timedelta(hours=1))
        await world.work_orders.complete(number, ALI, "Valve closed.")

    stats = await world.support().stats(agent=AGENT)

    assert stats.completed_in_window == 4
    assert stats.median_completion == timedelta(hours=2, minutes=30)
    assert stats.p90_completion == timedelta(hours=3, minutes=42)


async def test_an_application_file_and_the_reason_labels(world: World) -> None:
    world.db.add_reasons([reason("retired", ApplicationKind.SUSPEND)], active=False)
    (number,) = await submitted(world, "100001")
    support = world.support()

    file = await support.application(number, agent=AGENT)

    assert file.application.number == number
    assert [(d.kind, d.status) for d in file.deliveries] == [("staff_card", "pending")]
    assert "retired" in await support.reasons()  # old applications still show their reason
    with pytest.raises(ApplicationNotFound) as refused:
        await support.application(number + 1, agent=AGENT)
    assert refused.value.args == (number + 1,)
