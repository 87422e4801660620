"""Scenario: who may ask. Agents are the allow-list plus the members of the support chat;
everyone else gets the same polite refusal, whatever the argument, and the refusal is logged
without the argument. In the staff group /open answers the staff, the other commands the
agents among them (the rest get the refusal, never silence), and /help lists what the sender
can use there."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from aiogram.types import Chat
from aiogram_dialog.test_tools.memory_storage import JsonMemoryStorage
from sqlalchemy import insert

from bot.app import build_dispatcher
from bot.support import menu, status_texts, texts
from dialogs.wording import esc
from storage.models import ChatMigrationRow
from tests.dialogs.helpers import tr
from tests.support import ChatMessageManager
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

REFUSAL = (
    "Sorry, this command is only for Azersu support agents. To follow your own applications, "
    "open /menu and choose “Check the application's status”."
)


def member_checks(world: World) -> int:
    return len(world.session.of("GetChatMember"))


async def test_a_subscriber_gets_the_same_refusal_whether_or_not_the_application_exists(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    number = await world.submit()
    subscriber = world.person(OUTSIDER_ID, language_code="en")

    with caplog.at_level(logging.DEBUG, logger="bot.support"):
        answers = [
            await subscriber.send(f"/status {number}"),
            await subscriber.send("/status 999"),
            await subscriber.send("/status abc"),
            await subscriber.send(f"/find {FIN}"),
            await subscriber.send("/open"),
            await subscriber.send("/stats"),
        ]

    assert answers == [[REFUSAL]] * len(answers)
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == len(answers)
    assert refusals[0] == f"support: refused /status to user {OUTSIDER_ID} in a private chat"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert FIN not in logged and "999" not in logged and "abc" not in logged


async def test_without_a_support_chat_only_the_allow_list_is_asked(world: World) -> None:
    from bot.support.access import AgentAccess

    access = AgentAccess([AGENT_ID], None, world.clock)

    assert await access.is_agent(world.bot, AGENT_ID)
    assert not await access.is_agent(world.bot, MEMBER_ID)
    assert member_checks(world) == 0


async def test_members_of_the_support_chat_are_agents(world: World) -> None:
    number = await world.submit()
    world.session.members[MEMBER_ID] = "member"
    member = world.person(MEMBER_ID)

    [text] = await member.send(f"/status {number}")

    assert text.startswith(f"<b>Application №\u00a0{number}</b>")
    [check] = world.session.of("GetChatMember")
    assert check.chat_id == SUPPORT_CHAT_ID and check.user_id == MEMBER_ID


@pytest.mark.parametrize(
    ("status", "allowed"),
    [
        ("creator", True),
        ("administrator", True),
        ("member", True),
        (("restricted", True), True),  # limited rights, but in the support chat
        (("restricted", False), False),  # restricted once, and gone since
        ("left", False),
        ("kicked", False),
    ],
    ids=lambda value: "-".join(map(str, value)) if isinstance(value, tuple) else str(value),
)
async def test_the_status_in_the_support_chat_decides(
    world: World, status: str | tuple[str, bool], allowed: bool
) -> None:
    world.session.members[MEMBER_ID] = status

    answer = await world.person(MEMBER_ID).send("/open")

    assert answer == (["There are no open work orders."] if allowed else [REFUSAL])
    [check] = world.session.of("GetChatMember")
    assert check.chat_id == SUPPORT_CHAT_ID and check.user_id == MEMBER_ID


async def test_membership_is_cached_for_at_most_ten_seconds(world: World) -> None:
    world.session.members[MEMBER_ID] = "member"
    member = world.person(MEMBER_ID)

    await member.send("/open")
    await member.send("/stats")
    assert member_checks(world) == 1

    del world.session.members[MEMBER_ID]  # left the support chat
    world.advance(seconds=9)
    assert (await member.send("/open"))[0].startswith("There are no open")
    world.advance(seconds=1.5)  # 10.5 s after the check: asked again, and refused
    assert await member.send("/open") == [REFUSAL]
    assert member_checks(world) == 2


def test_a_longer_membership_cache_is_cut_to_ten_seconds(world: World) -> None:
    from bot.support.access import AgentAccess

    access = AgentAccess([], SUPPORT_CHAT_ID, world.clock, ttl=timedelta(minutes=1))

    assert access.ttl == timedelta(seconds=10)


async def test_allow_listed_agents_are_never_checked_with_telegram(world: World) -> None:
    await world.person(AGENT_ID).send("/open")

    assert member_checks(world) == 0


async def test_commands_work_in_the_support_chat(world: World) -> None:
    number = await world.submit()
    world.session.members[MEMBER_ID] = "member"

    [text] = await world.person(MEMBER_ID).send(f"/status {number}", chat_id=SUPPORT_CHAT_ID)

    assert text.startswith(f"<b>Application №\u00a0{number}</b>")
    [sent] = world.session.of("SendMessage")
    assert sent.chat_id == SUPPORT_CHAT_ID


ANONYMOUS = (
    "Send the command from your own account, not as the anonymous admin: every look-up is "
    "recorded with the agent who made it. Turn off “Remain anonymous” and try again."
)


@pytest.mark.parametrize("command", ["/status {number}", f"/find {FIN}", "/open", "/stats"])
async def test_an_anonymous_admin_is_asked_to_write_as_itself(
    world: World, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    number = await world.submit()
    support_chat = Chat(id=SUPPORT_CHAT_ID, type="supergroup", title="Support")
    anonymous = world.person(1087968824)  # GroupAnonymousBot

    with caplog.at_level(logging.INFO, logger="bot.support"):
        answer = await anonymous.send(
            command.format(number=number), chat_id=SUPPORT_CHAT_ID, sender_chat=support_chat
        )

    assert answer == [ANONYMOUS]
    assert member_checks(world) == 0
    assert await access_rows(world) == []
    assert "refused /" in caplog.text and "the anonymous admin 1087968824" in caplog.text


async def test_the_anonymous_admin_is_refused_in_the_staff_group_too(world: World) -> None:
    await world.submit()
    staff_group = Chat(id=STAFF_CHAT_ID, type="supergroup", title="Staff")

    answer = await world.person(1087968824).send(
        "/open", chat_id=STAFF_CHAT_ID, sender_chat=staff_group
    )

    assert answer == [esc(tr(texts.ANONYMOUS_REFUSAL, "az"))]  # the staff group's language
    assert await access_rows(world) == []


async def test_a_channel_posting_in_the_support_chat_is_refused(world: World) -> None:
    channel = Chat(id=-1003000000003, type="channel", title="Some channel")

    answer = await world.person(136817688).send(
        "/open", chat_id=SUPPORT_CHAT_ID, sender_chat=channel
    )

    assert answer == [REFUSAL]


async def test_open_answers_anyone_in_the_staff_group(world: World) -> None:
    number = await world.submit()
    world.advance(hours=1)
    staff = world.person(7002)

    [text] = await staff.send("/open", chat_id=STAFF_CHAT_ID)

    assert f"№\u00a0{number}" in text
    assert member_checks(world) == 0


async def test_an_agent_among_the_staff_gets_every_command_in_the_staff_group(
    world: World,
) -> None:
    number = await world.submit()
    agent = world.person(AGENT_ID)

    [status] = await agent.send(f"/status {number}", chat_id=STAFF_CHAT_ID)
    [found] = await agent.send(f"/find {FIN}", chat_id=STAFF_CHAT_ID)
    [stats] = await agent.send("/stats", chat_id=STAFF_CHAT_ID)

    # In the staff group's language (STAFF_LOCALE), like every answer there.
    assert status.startswith(tr(status_texts.APPLICATION_TITLE, "az").format(number=number))
    assert str(number) in found
    assert stats.startswith("<b>")
    assert {m.chat_id for m in world.session.of("SendMessage")} == {STAFF_CHAT_ID}


async def test_a_staff_member_who_is_no_agent_is_refused_not_ignored(world: World) -> None:
    """Silence in the group looked like a dead bot: the agents' commands get the refusal."""
    number = await world.submit()
    staff = world.person(7002)

    answers = [
        await staff.send(f"/status {number}", chat_id=STAFF_CHAT_ID),
        await staff.send(f"/find {FIN}", chat_id=STAFF_CHAT_ID),
        await staff.send("/stats", chat_id=STAFF_CHAT_ID),
    ]

    assert answers == [[esc(tr(texts.REFUSAL, "az"))]] * 3


async def test_help_in_the_staff_group_lists_the_sender_s_commands(world: World) -> None:
    title = f"<b>{esc(tr(menu.HELP_TITLE, 'az'))}</b>"

    [for_staff] = await world.person(7002).send("/help", chat_id=STAFF_CHAT_ID)
    [for_agent] = await world.person(AGENT_ID).send("/help", chat_id=STAFF_CHAT_ID)

    assert for_staff.startswith(title) and for_agent.startswith(title)
    commands = re.compile(r"^(/[a-z]+) — ", re.MULTILINE)
    assert commands.findall(for_staff) == ["/open", "/help"]
    assert commands.findall(for_agent) == ["/status", "/find", "/open", "/stats", "/help"]
    assert esc(tr("Open work orders, oldest first", "az")) in for_staff


async def test_help_is_left_alone_in_other_groups(world: World) -> None:
    assert await world.person(AGENT_ID).send("/help", chat_id=-1009999999999) == []


async def test_open_in_the_staff_group_respects_the_staff_list(world: World) -> None:
    """With STAFF_USER_IDS set, /open in the group is for those staff members only, as the
    cards' buttons are."""
    number = await world.submit()
    listed, other = 7002, 7003
    world.dp = build_dispatcher(
        world.settings.model_copy(update={"staff_user_ids": [listed]}),
        world.services,
        storage=JsonMemoryStorage(),
        message_manager=ChatMessageManager(),
    )

    [for_staff] = await world.person(listed).send("/open", chat_id=STAFF_CHAT_ID)
    [for_other] = await world.person(other).send("/open", chat_id=STAFF_CHAT_ID)

    assert f"№\u00a0{number}" in for_staff
    assert f"№\u00a0{number}" not in for_other
    assert for_other == esc(tr(texts.REFUSAL, "az"))


async def test_commands_in_other_groups_are_ignored(world: World) -> None:
    assert await world.person(AGENT_ID).send("/open", chat_id=-1009999999999) == []


async def test_a_network_failure_refuses_without_remembering(world: World) -> None:
    from aiogram.exceptions import TelegramNetworkError

    from bot.support.access import AgentAccess

    class FlakyBot:
        calls = 0

        async def get_chat_member(self, chat_id: int, user_id: int) -> object:
            self.calls += 1
            raise TelegramNetworkError(method=None, message="timeout")  # type: ignore[arg-type]

    access = AgentAccess([], SUPPORT_CHAT_ID, world.clock, ttl=timedelta(minutes=1))
    flaky = FlakyBot()

    assert not await access.is_agent(flaky, MEMBER_ID)  # type: ignore[arg-type]
    assert not await access.is_agent(flaky, MEMBER_ID)  # type: ignore[arg-type]
    assert flaky.calls == 2


async def test_open_follows_the_staff_group_to_its_supergroup(world: World) -> None:
    await world.submit()
    new_id = -1009000000009
    async with world.engine.begin() as conn:
        await conn.execute(
            insert(ChatMigrationRow).values(
                old_chat_id=STAFF_CHAT_ID, new_chat_id=new_id, at=world.clock.now()
            )
        )

    [text] = await world.person(7002).send("/open", chat_id=new_id)
    [in_old_group] = await world.person(7002).send("/open", chat_id=STAFF_CHAT_ID)

    # The same answer, in the staff group's language (STAFF_LOCALE), under either id.
    assert text == in_old_group
    assert text.startswith("<b>Açıq iş əmrləri: 1</b>")
