"""Scenario: agents leave a trace (issue 16, item 7). Every answered command and page press
writes one ``agent_access`` row (agent id, command, what was looked up, when) before the
answer is sent; a FIN typed whole is found, shown masked and logged without the FIN itself;
refusals and bad arguments look nothing up and log nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram.types import Chat
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from storage.models import AgentAccessRow
from storage.support import SqlAccessLog
from tests.support_agents.access_log import access_rows
from tests.support_agents.agents import (
    AGENT_ID,
    FIN,
    MEMBER_ID,
    OUTSIDER_ID,
    STAFF_CHAT_ID,
    SUPPORT_CHAT_ID,
    World,
)
from workflows.ports import AgentLookup
from workflows.support import fin_lookup


async def test_each_command_writes_one_row_with_agent_command_query_and_time(
    world: World,
) -> None:
    number = await world.submit("100001")
    agent = world.person(AGENT_ID)
    start = world.clock.now()

    await agent.send(f"/status {number}")
    world.advance(minutes=1)
    await agent.send("/find 100001")
    world.advance(minutes=1)
    [found] = await agent.send("/find 5abc 12d")  # the whole FIN, typed by the agent
    world.advance(minutes=1)
    await agent.send("/open")
    await agent.send("/stats")

    assert f"№\u00a0{number}" in found and "5AB•••D" in found and FIN not in found
    minute = timedelta(minutes=1)
    assert await access_rows(world) == [
        (AGENT_ID, "status", str(number), start),
        (AGENT_ID, "find", "100001", start + minute),
        (AGENT_ID, "find", fin_lookup(FIN), start + 2 * minute),
        (AGENT_ID, "open", "", start + 3 * minute),
        (AGENT_ID, "stats", "", start + 3 * minute),
    ]


async def test_the_fin_is_nowhere_in_the_access_log(world: World) -> None:
    await world.submit("100001")

    await world.person(AGENT_ID).send(f"/find {FIN}")

    table = AgentAccessRow.__table__
    async with world.engine.connect() as conn:
        values = [str(v) for row in await conn.execute(select(table)) for v in row]
    assert not [v for v in values if FIN in v]
    assert fin_lookup(FIN) in values


async def test_the_row_is_written_before_the_answer_is_sent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await world.submit("100001")
    sent_when_logged: list[int] = []
    record = SqlAccessLog.record

    async def spy(self: SqlAccessLog, lookup: AgentLookup) -> None:
        sent_when_logged.append(len(world.session.of("SendMessage")))
        await record(self, lookup)

    monkeypatch.setattr(SqlAccessLog, "record", spy)

    [text] = await world.person(AGENT_ID).send(f"/status {number}")

    assert text.startswith(f"<b>Application №\u00a0{number}</b>")
    assert sent_when_logged == [0]


async def test_without_a_trace_there_is_no_answer(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await world.submit("100001")

    async def broken(self: SqlAccessLog, lookup: AgentLookup) -> None:
        raise OperationalError("INSERT INTO agent_access", {}, Exception("disk I/O error"))

    monkeypatch.setattr(SqlAccessLog, "record", broken)

    answers = await world.person(AGENT_ID).send(f"/status {number}")

    assert not [a for a in answers if "Application No." in a or "+994" in a]
    assert await access_rows(world) == []


async def test_each_page_press_is_a_look_up(world: World) -> None:
    for i in range(25):
        await world.reject(await world.submit(str(100003 + i)))
    agent = world.person(AGENT_ID)

    await agent.send(f"/find {FIN}")
    world.advance(seconds=5)
    await agent.press("Next")

    start = world.clock.now()
    rows = await access_rows(world)
    assert [(r[0], r[1], r[2]) for r in rows] == [(AGENT_ID, "find", fin_lookup(FIN))] * 2
    assert rows[1][3] == start


@pytest.mark.parametrize("command", ["/status", "/status abc", "/find", "/find x!"])
async def test_a_bad_argument_looks_nothing_up_and_logs_nothing(
    world: World, command: str
) -> None:
    [text] = await world.person(AGENT_ID).send(command)

    assert text.startswith("Usage:")
    assert await access_rows(world) == []


async def test_a_refusal_logs_nothing(world: World) -> None:
    number = await world.submit("100001")

    await world.person(OUTSIDER_ID).send(f"/status {number}")
    await world.person(MEMBER_ID).send(f"/find {FIN}")  # not in the support chat
    channel = Chat(id=-1003000000003, type="channel", title="Some channel")
    await world.person(136817688).send("/open", chat_id=SUPPORT_CHAT_ID, sender_chat=channel)

    assert await access_rows(world) == []


async def test_open_in_the_staff_group_is_logged_as_the_staff_members(world: World) -> None:
    await world.submit("100001")

    await world.person(7002).send("/open", chat_id=STAFF_CHAT_ID)

    assert await access_rows(world) == [(7002, "open", "", world.clock.now())]


async def test_an_agent_in_the_support_chat_is_logged_by_its_own_id(world: World) -> None:
    number = await world.submit("100001")
    world.session.members[MEMBER_ID] = "member"

    await world.person(MEMBER_ID).send(f"/status {number}", chat_id=SUPPORT_CHAT_ID)

    assert await access_rows(world) == [(MEMBER_ID, "status", str(number), world.clock.now())]
