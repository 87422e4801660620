"""One contract, two implementations: the SQL role ports and the in-memory fakes.

The fast suite (``tests/workflows``) checks the manual's rules on the fakes; it is only as
good as the fakes behave like the database. Each test here runs on both: a fake that drifts
from SQL (an open application that does not block a second one, a dedupe key that does not
dedupe, changes that survive a missing commit) fails here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_session_factory
from storage.registry import SqlSubscriberRegistry
from storage.repositories import SqlTransactionFactory
from storage.support import SqlSupportQueries
from tests.support import seed_subscribers, subscriber_row
from tests.workflows.fakes import FakeSubscriberRegistry
from tests.workflows.world import (
    FIN,
    OTHER_FIN,
    RESTORE_REASONS,
    START,
    SUSPEND_REASONS,
    World,
    subscriber,
)
from tests.workflows.world import application as registered
from workflows.errors import OpenApplicationExists
from workflows.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Event,
    EventKind,
    ServiceState,
)
from workflows.ports import (
    OutboxItem,
    SubscriberRegistry,
    SupportQueries,
    TransactionFactory,
    UserProfile,
)

NOW = START


@dataclass
class Ports:
    transactions: TransactionFactory
    registry: SubscriberRegistry
    queries: SupportQueries
    engine: AsyncEngine | None = None

    async def seed(self, code: str, state: ServiceState = ServiceState.ACTIVE) -> None:
        if self.engine is not None:
            await seed_subscribers(self.engine, [subscriber_row(code, state=state.value)])
        else:
            assert isinstance(self.registry, FakeSubscriberRegistry)
            self.registry.db.add_subscribers(subscriber(code, state=state))


@pytest.fixture(params=["fake", "sql"])
async def ports(request: pytest.FixtureRequest, engine: AsyncEngine) -> AsyncIterator[Ports]:
    if request.param == "fake":
        world = World()
        yield Ports(world.transactions, world.registry, world.queries)
        return
    sessions = create_session_factory(engine)
    yield Ports(
        SqlTransactionFactory(sessions),
        SqlSubscriberRegistry(sessions),
        SqlSupportQueries(sessions),
        engine,
    )


def application(code: str = "100001", *, fin: str = FIN, minutes: int = 0) -> Application:
    """A registered application to insert (its number is the port's to assign)."""
    return registered(0, code, fin=fin, at=NOW + timedelta(minutes=minutes))


async def add(ports: Ports, app: Application) -> int:
    async with ports.transactions() as uow:
        number = await uow.applications.add(app)
        await uow.commit()
    return number


async def test_profiles_are_saved_updated_and_read(ports: Ports) -> None:
    async with ports.transactions.read() as uow:
        assert await uow.profiles.get(7) is None
    async with ports.transactions() as uow:
        await uow.profiles.save(UserProfile(7, locale="ru"), NOW)
        await uow.commit()
    async with ports.transactions() as uow:
        await uow.profiles.save(UserProfile(7, locale="en", fin=FIN), NOW)
        await uow.commit()

    async with ports.transactions.read() as uow:
        assert await uow.profiles.get(7) == UserProfile(7, locale="en", fin=FIN)


async def test_leaving_without_commit_keeps_nothing(ports: Ports) -> None:
    await ports.seed("100001")
    async with ports.transactions() as uow:
        await uow.profiles.save(UserProfile(8, locale="az"), NOW)
        number = await uow.applications.add(application())
        await uow.outbox.enqueue(OutboxItem("staff_card", "telegram", "-1", "card:x", number), NOW)
        await uow.registry.set_service_state("100001", ServiceState.SUSPENDED)
        assert await uow.profiles.get(8) == UserProfile(8, locale="az")  # it sees its own

    async with ports.transactions.read() as uow:
        assert await uow.profiles.get(8) is None
        assert await uow.applications.get(number) is None
        assert await uow.applications.open_number("100001") is None
    assert await ports.queries.get_application_file(number) is None
    found = await ports.registry.lookup("100001")
    assert found is not None and found.state is ServiceState.ACTIVE


async def test_the_active_reasons_in_catalogue_order(ports: Ports) -> None:
    async with ports.transactions.read() as uow:
        reasons = await uow.reasons.active()

    assert [r.code for r in reasons] == [*SUSPEND_REASONS, *RESTORE_REASONS]
    assert {r.kind for r in reasons[: len(SUSPEND_REASONS)]} == {ApplicationKind.SUSPEND}
    assert [r.code for r in await ports.queries.reasons()] == [r.code for r in reasons]


async def test_an_application_gets_a_new_number_and_keeps_its_history(ports: Ports) -> None:
    first = await add(ports, application("100001"))
    second = await add(ports, application("100002"))
    async with ports.transactions() as uow:
        await uow.applications.add_event(first, Event(NOW, EventKind.REGISTERED, "tg:1001"))
        await uow.applications.add_event(
            first, Event(NOW + timedelta(minutes=1), EventKind.TAKEN, "staff:5:Ali")
        )
        await uow.commit()

    assert 0 < first < second
    async with ports.transactions.read() as uow:
        stored = await uow.applications.get(first)
        assert await uow.applications.get(second + 100) is None
    assert stored == registered(
        first,
        "100001",
        events=(
            Event(NOW, EventKind.REGISTERED, "tg:1001"),
            Event(NOW + timedelta(minutes=1), EventKind.TAKEN, "staff:5:Ali"),
        ),
    )


async def test_one_open_application_per_subscriber_is_a_constraint(ports: Ports) -> None:
    first = await add(ports, application("100001"))

    with pytest.raises(OpenApplicationExists):
        await add(ports, application("100001"))
    async with ports.transactions.read() as uow:
        assert await uow.applications.open_number("100001") == first
        stored = await uow.applications.get(first)
    assert stored is not None

    async with ports.transactions() as uow:
        await uow.applications.update(replace(stored, status=ApplicationStatus.DONE))
        await uow.commit()
    async with ports.transactions.read() as uow:
        assert await uow.applications.open_number("100001") is None
    assert await add(ports, application("100001")) > first


async def test_applications_of_a_fin_newest_first(ports: Ports) -> None:
    a = await add(ports, application("100001"))
    b = await add(ports, application("100002"))
    await add(ports, application("100003", fin=OTHER_FIN))

    async with ports.transactions.read() as uow:
        assert [x.number for x in await uow.applications.of_fin(FIN, limit=10)] == [b, a]
        assert [x.number for x in await uow.applications.of_fin(FIN, limit=1)] == [b]


async def test_open_applications_created_before_oldest_first(ports: Ports) -> None:
    old = await add(ports, application("100001"))
    closed = await add(ports, application("100002"))
    older_than_old = await add(ports, application("100003", minutes=-30))
    await add(ports, application("100004", minutes=60))
    async with ports.transactions() as uow:
        app = await uow.applications.get(closed, lock=True)
        assert app is not None
        await uow.applications.update(replace(app, status=ApplicationStatus.REJECTED))
        await uow.commit()

    async with ports.transactions.read() as uow:
        found = await uow.applications.open_created_before(NOW + timedelta(minutes=1), limit=9)
        limited = await uow.applications.open_created_before(NOW + timedelta(minutes=1), limit=1)

    assert [x.number for x in found] == [old, older_than_old]  # by number, as registered
    assert [x.number for x in limited] == [old]
    assert all(x.events == () for x in found)

    async with ports.transactions() as uow:  # ``old`` reminded a minute ago
        app = await uow.applications.get(old, lock=True)
        assert app is not None
        await uow.applications.update(replace(app, last_reminder_at=NOW - timedelta(minutes=1)))
        await uow.commit()
    async with ports.transactions.read() as uow:
        since = NOW + timedelta(minutes=1)
        due = await uow.applications.open_created_before(since, limit=9, reminded_before=NOW)
        at_it = await uow.applications.open_created_before(
            since, limit=9, reminded_before=NOW - timedelta(minutes=1)
        )

    assert [x.number for x in due] == [old, older_than_old]
    assert [x.number for x in at_it] == [old, older_than_old]
    async with ports.transactions.read() as uow:
        early = await uow.applications.open_created_before(
            since, limit=9, reminded_before=NOW - timedelta(minutes=2)
        )
    assert [x.number for x in early] == [older_than_old]


async def test_open_applications_past_their_due_time(ports: Ports) -> None:
    """With ``due_before``: an order's own due time decides; without one, its registration
    before ``moment`` (the global deadline) does."""
    day = timedelta(hours=24)
    soon = await add(ports, replace(application("100001"), due_at=NOW + day))
    late = await add(ports, replace(application("100002"), due_at=NOW + 3 * day))
    undated = await add(ports, replace(application("100003"), due_at=None))

    async def past(at: timedelta, moment: timedelta) -> list[int]:
        async with ports.transactions.read() as uow:
            found = await uow.applications.open_created_before(
                NOW + moment, limit=9, due_before=NOW + at
            )
        return [x.number for x in found]

    assert await past(day, -day) == []  # due exactly now is not past it
    assert await past(day + timedelta(minutes=1), -day) == [soon]
    assert await past(day, timedelta(minutes=1)) == [undated]  # the global deadline passed
    assert await past(3 * day + timedelta(minutes=1), day) == [soon, late, undated]


async def test_the_service_state_is_written_back_to_the_registry(ports: Ports) -> None:
    await ports.seed("100001", ServiceState.ACTIVE)
    async with ports.transactions() as uow:
        await uow.registry.set_service_state("100001", ServiceState.SUSPENDED)
        await uow.registry.set_service_state("999999", ServiceState.SUSPENDED)  # no row
        await uow.commit()

    found = await ports.registry.lookup("100001")
    assert found is not None
    assert (found.state, found.debt, found.meterless) == (ServiceState.SUSPENDED, Decimal(0), True)
    assert await ports.registry.lookup("999999") is None


async def test_the_outbox_ignores_a_second_message_with_the_same_key(ports: Ports) -> None:
    number = await add(ports, application())
    item = OutboxItem("notice", "telegram", "1001", f"notice:{number}:taken", number, {"a": 1})
    async with ports.transactions() as uow:
        await uow.outbox.enqueue(item, NOW)
        await uow.outbox.enqueue(replace(item, payload={"event": "taken"}), NOW)
        await uow.commit()
    async with ports.transactions() as uow:
        await uow.outbox.enqueue(item, NOW + timedelta(minutes=1))
        await uow.commit()

    file = await ports.queries.get_application_file(number)
    assert file is not None and file.application.number == number
    assert [(d.kind, d.channel, d.status, d.created_at) for d in file.deliveries] == [
        ("notice", "telegram", "pending", NOW)
    ]


# --- the restoration offer (issue 19, item 6) ----------------------------------------------
async def suspension(
    ports: Ports,
    code: str,
    *,
    until: str | None = "2026-12-20",
    status: ApplicationStatus = ApplicationStatus.DONE,
    minutes: int = 0,
) -> int:
    """A suspension with an "until" date, closed with ``status``."""
    number = await add(ports, replace(application(code, minutes=minutes), suspend_until=until))
    async with ports.transactions() as uow:
        app = await uow.applications.get(number, lock=True)
        assert app is not None
        await uow.applications.update(replace(app, status=status, closed_at=NOW))
        await uow.commit()
    return number


async def due(ports: Ports, last_day: str = "2026-12-20", limit: int = 9) -> list[int]:
    async with ports.transactions.read() as uow:
        found = await uow.applications.restoration_due(last_day, limit=limit)
    assert all(app.events == () for app in found)
    return [app.number for app in found]


async def test_the_suspensions_due_a_restoration_offer(ports: Ports) -> None:
    later = await suspension(ports, "100001", until="2026-12-20")
    sooner = await suspension(ports, "100002", until="2026-12-18")
    await suspension(ports, "100003", until="2026-12-21")  # not yet
    await suspension(ports, "100004", until=None)  # no date
    await suspension(ports, "100005", status=ApplicationStatus.REJECTED)
    await suspension(ports, "100006", status=ApplicationStatus.WITHDRAWN)
    anonymised = await suspension(ports, "100007")
    async with ports.transactions() as uow:
        app = await uow.applications.get(anonymised, lock=True)
        assert app is not None
        await uow.personal.anonymise([replace(app, anonymised_at=NOW)], NOW)
        await uow.commit()
    # an application open on the code, and one done on it after the suspension
    await suspension(ports, "100008")
    await add(ports, application("100008", minutes=1))
    await suspension(ports, "100009")
    await suspension(ports, "100009", until=None, minutes=1)

    assert await due(ports) == [sooner, later]  # by date, then number
    assert await due(ports, limit=1) == [sooner]
    assert await due(ports, last_day="2026-12-19") == [sooner]


async def test_a_restoration_offer_is_claimed_once(ports: Ports) -> None:
    number = await suspension(ports, "100001")

    async with ports.transactions() as uow:
        assert await uow.applications.claim_restoration_offer(number, NOW)
        await uow.commit()
    async with ports.transactions() as uow:
        assert not await uow.applications.claim_restoration_offer(number, NOW)
        assert not await uow.applications.claim_restoration_offer(number + 100, NOW)
        await uow.commit()

    async with ports.transactions.read() as uow:
        stored = await uow.applications.get(number)
    assert stored is not None and stored.restoration_offered_at == NOW
    assert await due(ports) == []


async def test_a_claim_without_a_commit_keeps_nothing(ports: Ports) -> None:
    number = await suspension(ports, "100001")
    async with ports.transactions() as uow:
        assert await uow.applications.claim_restoration_offer(number, NOW)

    assert await due(ports) == [number]
