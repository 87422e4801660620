"""Scenario: agents leave a trace (issue 16, item 7). Every look-up writes one access-log row
(agent, command, what was looked up, when) before anything is read; a FIN is kept masked
with a digest, never whole; the application file names the accounts verified for its FIN."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.workflows.fakes import FakeSupportQueries
from tests.workflows.world import FIN, START, World, draft, subscriber
from workflows.errors import ApplicationNotFound
from workflows.identity import IdentityMethod, Verification
from workflows.ports import AgentLookup
from workflows.support import SearchTerm, fin_lookup

AGENT, OTHER_AGENT = 5001, 5002


class CountingQueries(FakeSupportQueries):
    """Counts the reads, to show that none happens before the look-up is logged."""

    reads = 0

    async def get_application_file(self, number: int):  # type: ignore[no-untyped-def]
        self.reads += 1
        return await super().get_application_file(number)

    async def find_applications(self, **kwargs):  # type: ignore[no-untyped-def]
        self.reads += 1
        return await super().find_applications(**kwargs)


async def filed(world: World, code: str = "100001") -> int:
    world.db.add_subscribers(subscriber(code, owner_fin=FIN))
    return await world.journey.submit(draft(code))


async def test_every_look_up_is_one_row_with_agent_command_query_and_time(world: World) -> None:
    number = await filed(world)
    support = world.support()

    await support.application(number, agent=AGENT)
    world.clock.advance(timedelta(minutes=1))
    await support.find(SearchTerm.parse("100001"), agent=AGENT)
    world.clock.advance(timedelta(minutes=1))
    await support.find(SearchTerm.parse(FIN.lower()), agent=OTHER_AGENT)
    world.clock.advance(timedelta(minutes=1))
    await support.open_orders(agent=AGENT)
    await support.stats(agent=OTHER_AGENT)

    minute = timedelta(minutes=1)
    assert world.access_log.lookups == [
        AgentLookup(START, AGENT, "status", str(number)),
        AgentLookup(START + minute, AGENT, "find", "100001"),
        AgentLookup(START + 2 * minute, OTHER_AGENT, "find", fin_lookup(FIN)),
        AgentLookup(START + 3 * minute, AGENT, "open", ""),
        AgentLookup(START + 3 * minute, OTHER_AGENT, "stats", ""),
    ]
    assert all(FIN not in lookup.query for lookup in world.access_log.lookups)


async def test_a_number_that_does_not_exist_is_a_look_up_too(world: World) -> None:
    with pytest.raises(ApplicationNotFound):
        await world.support().application(999, agent=AGENT)

    assert world.access_log.lookups == [AgentLookup(START, AGENT, "status", "999")]


async def test_nothing_is_read_when_the_look_up_cannot_be_logged(world: World) -> None:
    number = await filed(world)
    queries = CountingQueries(world.db)
    world.queries = queries
    world.access_log.failure = ConnectionError("the database is down")
    support = world.support()

    with pytest.raises(ConnectionError):
        await support.application(number, agent=AGENT)
    with pytest.raises(ConnectionError):
        await support.find(SearchTerm.parse(FIN), agent=AGENT)

    assert queries.reads == 0
    assert world.access_log.lookups == []


async def test_the_application_file_names_the_accounts_verified_for_its_fin(
    world: World,
) -> None:
    number = await filed(world)
    support = world.support()
    before = (await support.application(number, agent=AGENT)).verifications  # the filer's?
    family = Verification(2002, FIN, IdentityMethod.PHONE, START - timedelta(days=1))
    owner = Verification(2001, FIN, IdentityMethod.EGOV, START - timedelta(days=2))
    stranger = Verification(2003, "7KQ2M9X", IdentityMethod.EGOV, START)
    for verification in (family, owner, stranger):
        world.db.verifications[(verification.telegram_user_id, verification.fin)] = verification
    world.db.verifications[(2004, FIN)] = None  # logged out

    file = await support.application(number, agent=AGENT)

    assert file.verifications == tuple(sorted((*before, owner, family), key=lambda v: v.at))
    assert {v.telegram_user_id for v in file.verifications} & {2003, 2004} == set()
