"""The sandbox's photos for issue 19: a staff member answers a prompt with a photo (the note
as its caption), and the bot sends a photo it has seen again by its file id (``/status``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ForceReply

from sandbox.server import SandboxServer
from sandbox.world import DEFAULT_STAFF_CHAT_ID

RAUF = 620000001  # preset staff member
STAFF = DEFAULT_STAFF_CHAT_ID


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


async def test_a_photo_reply_to_a_prompt_and_sending_it_again(
    bot: Bot, server: SandboxServer
) -> None:
    prompt = await bot.send_message(STAFF, "Reply with the note", reply_markup=ForceReply())
    await server.send_photo(
        RAUF, chat_id=STAFF, caption="Valve sealed", reply_to_message_id=prompt.message_id
    )
    [update] = [u for u in await bot.get_updates() if u.message and u.message.photo]
    message = update.message
    assert message is not None and message.photo and message.caption == "Valve sealed"
    assert message.reply_to_message is not None
    assert message.reply_to_message.message_id == prompt.message_id
    file_id = message.photo[-1].file_id

    await server.send_text(RAUF, "/start")
    sent = await bot.send_photo(RAUF, file_id, caption="<b>No. 7</b>", parse_mode="HTML")
    assert sent.photo and sent.photo[-1].file_id == file_id and sent.caption == "No. 7"
    with pytest.raises(TelegramBadRequest):
        await bot.send_photo(RAUF, "x", caption="y" * 1025)
