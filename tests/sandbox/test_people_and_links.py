"""Scenario: the sandbox stands in for Telegram for every kind of person, link and limit.

The demo's people include support agents (one of them a staff member) whose private chats and
menus exist like a subscriber's; each person sees the menu Telegram would resolve for them in
their chat (a staff member who is an agent sees the agents' menu in the staff group). A
``t.me/<the bot>?start=PAYLOAD`` link opened by a person is ``/start PAYLOAD`` in their private
chat, other Telegram links lead outside, web links are the browser's; a person cannot send a
text longer than Telegram's 4,096 characters.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import BotCommand, BotCommandScopeChat, BotCommandScopeChatMember

from sandbox.client import SandboxClient
from sandbox.errors import SandboxError
from sandbox.links import resolve
from sandbox.records import BOT_USERNAME, DEFAULT_STAFF_CHAT_ID
from sandbox.server import SandboxServer

JOHN = 610000003  # preset subscriber
RAUF = 620000001  # staff only
LEYLA = 620000002  # staff and support agent
NIGAR = 640000001  # support agent only
STAFF = DEFAULT_STAFF_CHAT_ID
BOT = BOT_USERNAME


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[SandboxServer]:
    srv = SandboxServer(api_port=0, web_port=0, mail_dir=tmp_path / "mail")
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
async def bot(server: SandboxServer) -> AsyncIterator[Bot]:
    tg = Bot(server.token, session=AiohttpSession(api=TelegramAPIServer.from_base(server.api_url)))
    try:
        yield tg
    finally:
        await tg.session.close()


def pending_texts(server: SandboxServer) -> list[tuple[int, str]]:
    return [
        (u["message"]["chat"]["id"], u["message"]["text"])
        for u in server.pending_updates()
        if "message" in u
    ]


# --- the people ------------------------------------------------------------------------------
async def test_the_demo_has_subscribers_staff_and_agents_with_names(server: SandboxServer) -> None:
    config = server.config()

    assert [p["first_name"] for p in config["agents"]] == ["Nigar"]
    assert config["agent_user_ids"] == [LEYLA, NIGAR]  # the bot's SUPPORT_USER_IDS
    assert config["staff_user_ids"] == [RAUF, LEYLA]
    assert NIGAR not in config["staff_user_ids"]
    assert all(p["last_name"] for p in (*config["subscribers"], *config["staff"]))
    assert config["time_zone"] == "Asia/Baku"
    assert config["max_text_length"] == 4096


async def test_an_agent_has_a_private_chat_like_anyone(server: SandboxServer) -> None:
    sent = await server.send_text(NIGAR, "/status 1")

    assert sent["delivered"] is True
    assert pending_texts(server) == [(NIGAR, "/status 1")]


async def test_each_person_sees_the_menu_of_their_scope(bot: Bot, server: SandboxServer) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    agent = [BotCommand(command="status", description="An application")]
    await bot.set_my_commands(agent, scope=BotCommandScopeChat(chat_id=NIGAR))
    await bot.set_my_commands(
        [BotCommand(command="open", description="Open orders")],
        scope=BotCommandScopeChat(chat_id=STAFF),
    )
    await bot.set_my_commands(agent, scope=BotCommandScopeChatMember(chat_id=STAFF, user_id=LEYLA))

    def menu(chat_id: int, user_id: int) -> list[str]:
        return [c["command"] for c in server.chat_state(chat_id, user_id)["commands"]]

    assert menu(NIGAR, NIGAR) == ["status"]  # before she ever wrote to the bot
    assert menu(JOHN, JOHN) == ["start"]
    assert menu(STAFF, RAUF) == ["open"]
    assert menu(STAFF, LEYLA) == ["status"]


# --- links -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "action", "text"),
    [
        (f"https://t.me/{BOT}?start=status_12", "start", "/start status_12"),
        (f"https://t.me/{BOT.upper()}?start=status_12", "start", "/start status_12"),
        (f"http://telegram.me/{BOT}/?start=abc-_1", "start", "/start abc-_1"),
        (f"tg://resolve?domain={BOT}&start=status_3", "start", "/start status_3"),
        (f"https://t.me/{BOT}?start=not%20valid!", "start", "/start"),
        (f"https://t.me/{BOT}?start=" + "x" * 65, "start", "/start"),
        (f"https://t.me/{BOT}", "open_chat", None),
        (f"https://t.me/{BOT}?startgroup=1", "outside", None),
        ("https://t.me/durov", "outside", None),
        ("https://t.me/+AbCdEf", "outside", None),
        ("tg://join?invite=AbC", "outside", None),
        ("https://www.azersu.az/az/odenis?code=100003", "external", None),
        ("javascript:alert(1)", "refused", None),
    ],
)
def test_where_a_link_leads(url: str, action: str, text: str | None) -> None:
    target = resolve(url, BOT)

    assert (target.action, target.text) == (action, text)
    if action == "outside":
        assert target.reason


async def test_a_status_link_is_start_with_its_payload_in_the_openers_chat(
    server: SandboxServer,
) -> None:
    await server.block(JOHN)  # opening the bot's link restarts it, as Telegram's "Restart"

    opened = await server.open_link(JOHN, f"https://t.me/{BOT}?start=status_7")

    assert opened["action"] == "start" and opened["chat_id"] == JOHN
    assert opened["sent"]["delivered"] is True
    assert pending_texts(server)[-1] == (JOHN, "/start status_7")
    assert server.chat_state(JOHN)["blocked"] is False


async def test_a_staff_member_opening_a_link_in_the_group_lands_in_their_own_chat(
    server: SandboxServer,
) -> None:
    opened = await server.open_link(RAUF, f"https://t.me/{BOT}?start=status_7")

    assert opened["chat_id"] == RAUF
    assert pending_texts(server) == [(RAUF, "/start status_7")]
    assert server.messages(STAFF) == []


async def test_other_links_send_nothing(server: SandboxServer) -> None:
    for url in ("https://t.me/durov", "https://example.com/", f"https://t.me/{BOT}"):
        opened = await server.open_link(JOHN, url)
        assert "sent" not in opened, opened

    assert server.pending_updates() == []


async def test_open_link_over_http(server: SandboxServer) -> None:
    async with SandboxClient(server.web_url) as client:
        opened = await client.open_link(JOHN, f"https://t.me/{BOT}?start=status_9")
        outside = await client.open_link(JOHN, "https://t.me/some_channel")

    assert opened["action"] == "start" and opened["sent"]["message"]["text"] == "/start status_9"
    assert outside["action"] == "outside" and "@some_channel" in outside["reason"]


# --- Telegram's limits on what people send ------------------------------------------------
async def test_a_text_longer_than_telegram_allows_is_refused(server: SandboxServer) -> None:
    await server.send_text(JOHN, "x" * 4096)
    with pytest.raises(SandboxError, match=r"at most 4096 characters.*4097"):
        await server.send_text(JOHN, "x" * 4097)
    # Telegram counts UTF-16 code units: an emoji outside the BMP is two.
    with pytest.raises(SandboxError, match="4098"):
        await server.send_text(JOHN, "💧" * 2049)
    with pytest.raises(SandboxError, match="at most 1024 characters"):
        await server.send_photo(JOHN, caption="y" * 1025)

    assert [len(t) for _, t in pending_texts(server)] == [4096]


async def test_the_control_api_refuses_a_long_text_with_a_clear_error(
    server: SandboxServer,
) -> None:
    async with SandboxClient(server.web_url) as client:
        with pytest.raises(SandboxError, match="send it in parts"):
            await client.send_text(JOHN, "x" * 5000)
