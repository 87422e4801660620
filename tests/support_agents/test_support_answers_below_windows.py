"""An agent's answer in a private chat is recorded as the chat's newest bot message, so a
dialog window above it is sent anew instead of edited (``bot.screen``); in a group it is not."""

from __future__ import annotations

from bot.screen import LatestMessages
from tests.support_agents.agents import AGENT_ID, SUPPORT_CHAT_ID, World


async def newest(world: World, chat_id: int) -> int | None:
    return await LatestMessages(world.dp.storage).newest(world.bot.id, chat_id)


async def test_an_answer_in_a_private_chat_is_the_newest_message(world: World) -> None:
    agent = world.person(AGENT_ID)

    [hint] = await agent.send("/status abc")
    assert "/status" in hint
    assert await newest(world, AGENT_ID) == world.last_message().message_id

    await agent.send("/stats")
    assert await newest(world, AGENT_ID) == world.last_message().message_id


async def test_a_refusal_in_a_private_chat_is_the_newest_message(world: World) -> None:
    await world.person(1001).send("/status 1")
    assert await newest(world, 1001) == world.last_message().message_id


async def test_an_answer_in_the_support_chat_is_not_recorded(world: World) -> None:
    await world.person(AGENT_ID).send("/stats", chat_id=SUPPORT_CHAT_ID)
    assert await newest(world, SUPPORT_CHAT_ID) is None
