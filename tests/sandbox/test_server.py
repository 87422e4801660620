"""The sandbox behaves like Telegram for an unmodified aiogram Bot, and its control API works.

Each test starts a SandboxServer on free ports in-process and talks to it with a real
``aiogram.Bot`` over HTTP (``TelegramAPIServer.from_base(server.api_url)``), so the request
encoding (multipart with JSON-encoded fields) and aiogram's error mapping
(TelegramBadRequest, TelegramRetryAfter, TelegramMigrateToChat …) are exercised for real.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from aiohttp import web

from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from sandbox.world import DEFAULT_STAFF_CHAT_ID, DEFAULT_TOKEN, SandboxError
from tests.support import GENEROUS_S

AYSEL = 610000001  # preset subscriber, az
JOHN = 610000003  # preset subscriber, en
RAUF = 620000001  # preset staff member
OUTSIDER = 630000001  # not in the staff group
STAFF = DEFAULT_STAFF_CHAT_ID
REPO_ROOT = Path(__file__).resolve().parents[2]


def kb(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in buttons]]
    )


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
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.api_url))
    tg = Bot(server.token, session=session)
    try:
        yield tg
    finally:
        await tg.session.close()


async def started(server: SandboxServer, user_id: int = AYSEL) -> None:
    """The user wrote to the bot once, so the private chat exists."""
    await server.send_text(user_id, "/start")


async def test_get_me(bot: Bot, server: SandboxServer) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.id == server.bot_id == int(DEFAULT_TOKEN.split(":")[0])
    assert me.username == server.bot_user["username"]
    assert me.can_read_all_group_messages is False  # privacy mode, like a fresh bot


async def test_wrong_token_unknown_and_unsupported_methods(server: SandboxServer) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.api_url}/bot1:WRONG/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.get(f"{server.api_url}/bot{server.token}/noSuchMethod") as resp:
            assert resp.status == 404
            assert (await resp.json())["description"] == "Not Found"
        url = f"{server.api_url}/bot{server.token}/sendDice"
        async with http.post(url, json={"chat_id": AYSEL}) as resp:
            body = await resp.json()
            assert resp.status == 400
            assert body["description"] == "Bad Request: method is not supported by the sandbox"
        # method names are case-insensitive; GET with a query string works
        async with http.get(f"{server.api_url}/bot{server.token}/GETME") as resp:
            assert (await resp.json())["result"]["id"] == server.bot_id
        url = f"{server.api_url}/bot{server.token}/sendMessage"
        async with http.post(url, data={"text": "hi"}) as resp:
            assert resp.status == 400
            assert (await resp.json())["description"] == "Bad Request: chat_id is empty"


async def test_send_message_shows_in_state(bot: Bot, server: SandboxServer) -> None:
    await started(server)
    sent = await bot.send_message(
        AYSEL,
        "<b>Salam</b>, <i>dünya</i> &amp; co",
        parse_mode="HTML",
        reply_markup=kb(("Go", "go")),
    )
    assert sent.text == "Salam, dünya & co"
    assert sent.from_user is not None and sent.from_user.id == server.bot_id
    assert sent.message_id == 2  # per-chat counter, shared with the user's /start
    assert [e.type for e in sent.entities or []] == ["bold", "italic"]
    url = f"{server.web_url}/sandbox/state"
    async with aiohttp.ClientSession() as http, http.get(url, params={"chat_id": AYSEL}) as r:
        state = await r.json()
    last = state["messages"][-1]
    assert last["from_bot"] and last["text"] == "Salam, dünya & co"
    assert last["html"] == "<b>Salam</b>, <i>dünya</i> &amp; co"
    assert last["raw_html"] == "<b>Salam</b>, <i>dünya</i> &amp; co"
    assert last["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go"
    # A user id that never wrote to the bot: Telegram refuses to start the conversation.
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(JOHN, "hello")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(987654321, "hello")


async def test_user_text_arrives_in_get_updates(bot: Bot, server: SandboxServer) -> None:
    await server.send_text(JOHN, "Salam bot", first_name="Johnny", language_code="en")
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "Salam bot"
    assert message.from_user is not None and message.from_user.first_name == "Johnny"
    assert message.from_user.language_code == "en"
    assert message.chat.type == "private" and message.chat.id == JOHN
    # Not confirmed yet: the same update again; confirmed by offset: gone.
    assert [u.update_id for u in await bot.get_updates()] == [updates[0].update_id]
    assert await bot.get_updates(offset=updates[0].update_id + 1) == []
    # A long poll wakes up as soon as a message arrives (not when its 50 s are over).
    signal = server.world.updates_signal
    waiting = asyncio.Event()
    wait = signal.wait

    async def noted_wait(timeout: float) -> bool:
        waiting.set()
        return await wait(timeout)

    signal.wait = noted_wait  # type: ignore[method-assign]
    poll = asyncio.create_task(bot.get_updates(offset=updates[0].update_id + 1, timeout=50))
    async with asyncio.timeout(GENEROUS_S):
        await waiting.wait()  # the poll is parked in the server
    await server.send_text(JOHN, "second")
    async with asyncio.timeout(GENEROUS_S):  # well before the poll's own 50 s
        woke = await poll
    assert [u.message.text for u in woke if u.message] == ["second"]


async def test_answer_callback_query_only_once(bot: Bot, server: SandboxServer) -> None:
    await started(server)
    sent = await bot.send_message(AYSEL, "Choose", reply_markup=kb(("Yes", "yes"), ("No", "no")))
    last_id = (await bot.get_updates())[-1].update_id

    async def bot_side() -> None:
        updates = await bot.get_updates(offset=last_id + 1, timeout=50)
        query = updates[0].callback_query
        assert query is not None and query.data == "no"
        assert query.message is not None and query.message.message_id == sent.message_id
        assert await bot.answer_callback_query(query.id, text="Noted", show_alert=True)
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query.id)

    task = asyncio.create_task(bot_side())
    result = await server.press(AYSEL, AYSEL, sent.message_id, "no", wait=GENEROUS_S)
    await task
    assert result["answered"] is True
    assert result["answer"]["text"] == "Noted" and result["answer"]["show_alert"] is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("no-such-query")
    # A press on a button that is not there is refused by the control API.
    async with aiohttp.ClientSession() as http:
        body = {"user_id": AYSEL, "chat_id": AYSEL, "message_id": sent.message_id, "data": "x"}
        async with http.post(f"{server.web_url}/sandbox/press", json=body) as resp:
            assert resp.status == 400
            assert "no inline button" in (await resp.json())["error"]


async def test_edits_and_message_not_modified(bot: Bot, server: SandboxServer) -> None:
    await started(server)
    sent = await bot.send_message(AYSEL, "Card", reply_markup=kb(("Take", "take")))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="Card",
            chat_id=AYSEL,
            message_id=sent.message_id,
            reply_markup=kb(("Take", "take")),
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=AYSEL, message_id=sent.message_id, reply_markup=kb(("Take", "take"))
        )
    edited = await bot.edit_message_text(
        text="Card — <b>taken</b>", chat_id=AYSEL, message_id=sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, Message) and edited.edit_date is not None
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    view = server.messages(AYSEL)[-1]
    assert view["edited"] and view["text"] == "Card — taken" and len(view["history"]) == 1
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=AYSEL, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text(text="x", chat_id=AYSEL, message_id=1)  # the user's /start
    assert await bot.delete_message(AYSEL, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(AYSEL, sent.message_id)


async def test_text_limits(bot: Bot, server: SandboxServer) -> None:
    await started(server)
    await bot.send_message(AYSEL, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(AYSEL, "x" * 4097)
    # the limit counts the text after entity parsing
    await bot.send_message(AYSEL, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(AYSEL, "   ")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(AYSEL, "<b> </b>", parse_mode="HTML")


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, server: SandboxServer) -> None:
    await started(server)
    await bot.send_message(AYSEL, "ok", reply_markup=kb(("A", "ə" * 32)))  # 64 bytes
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(AYSEL, "too long", reply_markup=kb(("A", "ə" * 33)))  # 66 bytes
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(
            AYSEL,
            "no action",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="A")]]),
        )
    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query("1", text="x" * 201)


async def test_html_is_validated_like_telegram(bot: Bot, server: SandboxServer) -> None:
    await started(server)
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Can't find end tag"):
        await bot.send_message(AYSEL, "<b>x", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "div"'):
        await bot.send_message(AYSEL, "<div>x</div>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(AYSEL, "1 < 2", parse_mode="HTML")
    ok = await bot.send_message(AYSEL, "I &lt;3 water", parse_mode="HTML")
    assert ok.text == "I <3 water"
    link = await bot.send_message(
        AYSEL, '<a href="https://azersu.az/?a=1&amp;b=2">site</a>', parse_mode="HTML"
    )
    assert link.entities is not None and link.entities[0].url == "https://azersu.az/?a=1&b=2"


async def test_keyboards_and_contacts(bot: Bot, server: SandboxServer) -> None:
    await started(server)
    share = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Share my number", request_contact=True)]],
        resize_keyboard=True,
    )
    await bot.send_message(AYSEL, "Your phone?", reply_markup=share)
    keyboard = server.reply_keyboard(AYSEL)
    assert keyboard is not None and keyboard["keyboard"][0][0]["request_contact"] is True
    offset = (await bot.get_updates())[-1].update_id + 1
    await server.send_contact(AYSEL)  # the preset's own number
    await server.send_contact(AYSEL, "+994 70 111 22 33", own=False)
    contacts = [u.message.contact for u in await bot.get_updates(offset=offset) if u.message]
    assert contacts[0] is not None and contacts[0].user_id == AYSEL
    assert contacts[0].phone_number == "994501234567"
    assert contacts[1] is not None and contacts[1].user_id is None
    await bot.send_message(AYSEL, "Thanks", reply_markup=ReplyKeyboardRemove())
    assert server.reply_keyboard(AYSEL) is None
    # Deleting the message that brought a keyboard removes it (aiogram-dialog relies on it).
    again = await bot.send_message(AYSEL, "Phone again?", reply_markup=share)
    assert server.reply_keyboard(AYSEL) is not None
    await bot.delete_message(AYSEL, again.message_id)
    assert server.reply_keyboard(AYSEL) is None
    await server.send_sticker(AYSEL)
    await server.send_photo(AYSEL, caption="meter")
    await server.send_voice(AYSEL)
    kinds = [u.message for u in await bot.get_updates(offset=offset + 2) if u.message]
    assert [bool(m.sticker) for m in kinds] == [True, False, False]
    assert kinds[1].photo and kinds[1].caption == "meter" and kinds[2].voice


async def test_injected_429_and_blocked_user(bot: Bot, server: SandboxServer) -> None:
    await started(server)
    server.fail("sendMessage", 429, retry_after=7, times=1)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(AYSEL, "flood")
    assert caught.value.retry_after == 7
    await bot.send_message(AYSEL, "after the flood")  # only the next call failed
    await server.block(AYSEL)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(AYSEL, "are you there?")
    member = await bot.get_chat_member(AYSEL, server.bot_id)
    assert member.status == "kicked"
    await server.send_text(AYSEL, "/start")  # writing again unblocks, like "Restart bot"
    await bot.send_message(AYSEL, "welcome back")
    kinds = [
        u.my_chat_member.new_chat_member.status
        for u in await bot.get_updates()
        if u.my_chat_member
    ]
    assert kinds == ["kicked", "member"]
    server.fail("sendMessage", 500)
    with pytest.raises(Exception, match="Internal Server Error"):
        await bot.send_message(AYSEL, "x")
    server.fail("getMe", "drop")
    with pytest.raises(TelegramNetworkError):
        await bot.get_me()


async def test_staff_group_membership_replies_and_migration(
    bot: Bot, server: SandboxServer
) -> None:
    assert (await bot.get_chat(STAFF)).type == "supergroup"
    assert (await bot.get_chat_member(STAFF, RAUF)).status == "member"
    assert (await bot.get_chat_member(STAFF, OUTSIDER)).status == "left"
    card = await bot.send_message(STAFF, "Order 1", reply_markup=kb(("Take", "take:1")))
    prompt = await bot.send_message(
        STAFF,
        "Result note?",
        reply_markup=ForceReply(force_reply=True),
        reply_parameters=ReplyParameters(message_id=card.message_id),
    )
    assert prompt.reply_to_message is not None
    assert prompt.reply_to_message.message_id == card.message_id
    plain = await server.send_text(RAUF, "hello all", chat_id=STAFF)
    assert plain["delivered"] is False  # privacy mode: not a command, not a reply to the bot
    reply = await server.send_text(
        RAUF, "Valve closed", chat_id=STAFF, reply_to_message_id=prompt.message_id
    )
    assert reply["delivered"] is True
    updates = await bot.get_updates()
    message = updates[-1].message
    assert message is not None and message.reply_to_message is not None
    assert message.reply_to_message.text == "Result note?"
    assert message.reply_to_message.from_user is not None
    assert message.reply_to_message.from_user.id == server.bot_id

    new_id = server.migrate_staff_group()
    assert server.staff_chat_id == new_id
    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(STAFF, "Order 2")
    assert caught.value.migrate_to_chat_id == new_id
    again = await bot.send_message(new_id, "Order 2")
    assert again.chat.id == new_id and again.chat.type == "supergroup"
    service = [u.message for u in await bot.get_updates(offset=updates[-1].update_id + 1)]
    assert service[0] is not None and service[0].migrate_to_chat_id == new_id
    assert service[1] is not None and service[1].migrate_from_chat_id == STAFF


async def test_commands_are_stored_per_scope_and_logged(bot: Bot, server: SandboxServer) -> None:
    await started(server)
    ru = [BotCommand(command="start", description="Начать")]
    az = [
        BotCommand(command="start", description="Başla"),
        BotCommand(command="status", description="Status"),
    ]
    await bot.set_my_commands(ru, scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    await bot.set_my_commands(az, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(
        [BotCommand(command="open", description="Open orders")],
        scope=BotCommandScopeChat(chat_id=STAFF),
    )
    got = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    assert [c.description for c in got] == ["Начать"]
    assert await bot.get_my_commands() == []
    log = server.commands_log()
    assert [(e["scope"]["type"], e["language_code"]) for e in log] == [
        ("all_private_chats", "ru"),
        ("all_private_chats", ""),
        ("chat", ""),
    ]
    assert [c["command"] for c in server.commands_for(AYSEL)] == ["start", "status"]
    assert [c["command"] for c in server.commands_for(STAFF, RAUF)] == ["open"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Command", description="x")])
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    assert server.my_commands({"type": "all_private_chats"}, "ru") == []


async def test_webhook_delivery_with_secret_and_retries(bot: Bot, server: SandboxServer) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    calls = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return web.Response(status=500)  # the first attempt fails: Telegram retries
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        # a webhook reply: the method call in the response body
        return web.json_response({"method": "sendMessage", "chat_id": AYSEL, "text": "pong"})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t")
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        await server.send_text(AYSEL, "ping")
        await server.wait_for(AYSEL, "pong", timeout=GENEROUS_S)
        assert received[0][0] == "s3cr3t"
        assert received[0][1]["message"]["text"] == "ping"
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        assert info.last_error_message is not None and "500" in info.last_error_message
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates() == []
    finally:
        await runner.cleanup()


async def test_dispatcher_polling_end_to_end(bot: Bot, server: SandboxServer) -> None:
    """An aiogram Dispatcher polls the sandbox and answers messages and button presses."""
    dp = Dispatcher()

    @dp.message(F.text == "/start")
    async def start(message: Message) -> None:
        await message.answer(
            "Hello! <b>Pick</b>", parse_mode="HTML", reply_markup=kb(("Ok", "ok"))
        )

    @dp.callback_query(F.data == "ok")
    async def pressed(query: CallbackQuery) -> None:
        await query.answer("Done")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Picked")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        await server.send_text(JOHN, "/start")
        hello = await server.wait_for(JOHN, "Pick", timeout=GENEROUS_S)
        answer = await server.click(JOHN, JOHN, "Ok", wait=GENEROUS_S)
        assert answer["answered"] and answer["answer"]["text"] == "Done"
        picked = await server.wait_for(
            JOHN, lambda m: m["text"] == "Picked" and m["edited"], timeout=GENEROUS_S
        )
        assert picked["message_id"] == hello["message_id"]
    finally:
        await dp.stop_polling()
        await polling


async def test_control_api_over_http_and_mail(server: SandboxServer, tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    mail = EmailMessage()
    mail["To"] = "aysel@example.com"
    mail["From"] = "noreply@azersu.az"
    mail["Subject"] = "Müraciət №42 icra olundu"
    mail["Date"] = "Fri, 27 Nov 2026 10:00:00 +0400"
    mail.set_content("Hörmətli abunəçi, müraciətiniz icra olundu.")
    mail.add_alternative("<p>Hörmətli <b>abunəçi</b></p>", subtype="html")
    (mail_dir / "42.eml").write_bytes(mail.as_bytes())

    async with SandboxClient(server.web_url) as client:
        config = await client.config()
        assert config["staff_chat_id"] == STAFF
        assert [u["language_code"] for u in config["subscribers"]] == ["az", "ru", "en"]
        sent = await client.send_text(AYSEL, "salam")
        assert sent["delivered"] and sent["message"]["text"] == "salam"
        assert (await client.messages(AYSEL))[-1]["text"] == "salam"
        assert (await client.chats())[0]["id"] == STAFF
        with pytest.raises(SandboxError, match="no inline button"):
            await client.press(AYSEL, AYSEL, 1, "nothing")
        await client.fail("sendMessage", 429, retry_after=3)
        assert server.failures()[0]["retry_after"] == 3
        mails = await client.mails()
        assert mails[0]["subject"] == "Müraciət №42 icra olundu"
        assert mails[0]["to"] == "aysel@example.com"
        assert "icra olundu" in mails[0]["text"] and "<b>abunəçi</b>" in mails[0]["html"]
        assert (await client.wait_for_mail("№42"))["file"] == "42.eml"
        async with aiohttp.ClientSession() as http, http.get(server.web_url + "/") as resp:
            page = await resp.text()
        assert resp.status == 200 and resp.content_type == "text/html"
        for testid in (
            "pane-user",
            "pane-staff",
            "pane-mail",
            "user-input",
            "user-send",
            "staff-messages",
            "mail-list",
        ):
            assert f'data-testid="{testid}"' in page


async def test_request_log_records_every_call(bot: Bot, server: SandboxServer) -> None:
    await started(server)
    await bot.send_message(AYSEL, "one")
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(AYSEL, "<b>", parse_mode="HTML")
    entries = server.requests("sendMessage")
    assert [e["ok"] for e in entries] == [True, False]
    assert entries[0]["params"]["chat_id"] == AYSEL and entries[0]["params"]["text"] == "one"
    assert entries[1]["status"] == 400
    found = await server.wait_for_request("sendMessage", lambda e: e["params"]["text"] == "one")
    assert found["response"]["result"]["text"] == "one"


async def test_standalone_process_prints_ready_line(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--api-port",
        "0",
        "--web-port",
        "0",
        "--mail-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=REPO_ROOT,
    )
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), GENEROUS_S)
        ready = json.loads(line)
        assert ready["event"] == "ready" and ready["token"] == DEFAULT_TOKEN
        url = f"{ready['api_url']}/bot{ready['token']}/getMe"
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert (await resp.json())["result"]["is_bot"] is True
    finally:
        proc.terminate()
        assert await asyncio.wait_for(proc.wait(), GENEROUS_S) == 0


async def test_optional_rate_limits_answer_429_like_telegram() -> None:
    async with SandboxServer(api_port=0, web_port=0, rate_limits=True) as srv:
        session = AiohttpSession(api=TelegramAPIServer.from_base(srv.api_url))
        tg = Bot(srv.token, session=session)
        try:
            for n in range(20):  # about 20 messages per minute in a group
                await tg.send_message(STAFF, f"card {n}")
            with pytest.raises(TelegramRetryAfter) as caught:
                await tg.send_message(STAFF, "one too many")
            assert 1 <= caught.value.retry_after <= 60
        finally:
            await tg.session.close()
