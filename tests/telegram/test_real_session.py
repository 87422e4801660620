"""The middleware tells a lost answer from a lost connection as aiogram's real session
reports them: aiohttp against a local socket server that resets or never answers."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import pytest
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramNetworkError

from bot.telegram_retries import TelegramRetries
from tests.telegram.faults import bot_on

_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)


class Server:
    """Answers each request per ``plan``: ``reset`` (abort the connection), ``hang`` (never
    answer) or, past the plan, Telegram's answer to a sendMessage."""

    def __init__(self) -> None:
        self.plan: list[str] = []
        self.requests = 0
        self.url = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = _LENGTH.search(head)
        await reader.readexactly(int(length.group(1)) if length else 0)
        self.requests += 1
        mode = self.plan.pop(0) if self.plan else "ok"
        if mode == "reset":
            writer.transport.abort()
            return
        if mode == "hang":
            await asyncio.Event().wait()
        result = {"message_id": 1, "date": 0, "chat": {"id": 1001, "type": "private"}, "text": "x"}
        body = json.dumps({"ok": True, "result": result}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    fake = Server()
    listening = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    listening.close()


async def send(server: Server) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.url), timeout=0.3)
    session.middleware(TelegramRetries(sleep=lambda _s: asyncio.sleep(0)))
    try:
        await bot_on(session).send_message(1001, "x")
    finally:
        await session.close()


async def test_a_reset_connection_is_retried_like_a_5xx(server: Server) -> None:
    server.plan = ["reset", "reset"]

    await send(server)  # a lost answer would have had only one more try

    assert server.requests == 3


async def test_a_read_timeout_is_a_lost_answer_sent_only_once_more(server: Server) -> None:
    server.plan = ["hang", "hang"]

    with pytest.raises(TelegramNetworkError):
        await send(server)

    assert server.requests == 2
