"""Webhook mode: the secret token is checked, bad bodies are refused, the server keeps going."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import pytest
from aiogram import Dispatcher, Router
from aiogram.types import Message

from bot.metrics import UpdateMetricsMiddleware
from bot.webhook import WEBHOOK_PATH, WebhookServer
from tests.support import GENEROUS_S, make_bot

SECRET = "s3cret-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def handled(srv: WebhookServer) -> None:
    """Wait until the updates the server took are handled (each is a task of its own)."""
    async with asyncio.timeout(GENEROUS_S):
        while srv.tasks:
            await asyncio.wait(set(srv.tasks))


def update(update_id: int, text: str = "hello") -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_800_000_000,
            "chat": {"id": 7, "type": "private"},
            "from": {"id": 7, "is_bot": False, "first_name": "A"},
            "text": text,
        },
    }


@pytest.fixture
async def server():
    seen: list[str] = []
    router = Router()

    @router.message()
    async def on_message(message: Message) -> None:
        seen.append(message.text or "")

    dp = Dispatcher()
    dp.include_router(router)
    dp.update.outer_middleware(UpdateMetricsMiddleware())
    bot, _ = make_bot()
    health = {"database": True}

    async def check() -> dict[str, bool]:
        return dict(health)

    port = free_port()
    srv = WebhookServer(dp, bot, SECRET, health=check)
    await srv.start("127.0.0.1", port)
    yield f"http://127.0.0.1:{port}", seen, health, srv
    await srv.stop()


async def test_webhook_refuses_a_wrong_or_missing_secret(server) -> None:
    base, seen, _, _ = server
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "nope"}):
            async with http.post(base + WEBHOOK_PATH, json=update(1), headers=headers) as r:
                assert r.status == 401
    assert seen == []


async def test_webhook_refuses_malformed_bodies_and_keeps_serving(server) -> None:
    base, seen, _, srv = server
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        for body in (b"not json", b"[1, 2]", b'{"update_id": "x"}', '{"ü'.encode()):
            async with http.post(base + WEBHOOK_PATH, data=body, headers=headers) as r:
                assert r.status == 400
        async with http.post(
            base + WEBHOOK_PATH, json=update(2, "still here"), headers=headers
        ) as r:
            assert r.status == 200
    await handled(srv)
    assert seen == ["still here"]


async def test_healthz_reports_each_dependency(server) -> None:
    base, _, health, _ = server
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/healthz") as r:
            assert r.status == 200
            assert (await r.json())["database"] is True
        health["database"] = False
        async with http.get(base + "/healthz") as r:
            assert r.status == 503


def sample(body: str, name: str) -> float:
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


async def test_metrics_count_handled_updates(server) -> None:
    base, seen, _, srv = server
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/metrics") as r:
            before = sample(await r.text(), 'bot_updates_total{type="message"}')
        async with http.post(
            base + WEBHOOK_PATH,
            json=update(3),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        ) as r:
            assert r.status == 200
        await handled(srv)
        assert seen == ["hello"]
        async with http.get(base + "/metrics") as r:
            assert r.status == 200
            body = await r.text()
    assert sample(body, 'bot_updates_total{type="message"}') == before + 1
    assert "bot_update_seconds_bucket" in body


async def test_stop_lets_updates_in_flight_finish() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[int] = []
    router = Router()

    @router.message()
    async def slow(message: Message) -> None:
        started.set()
        await release.wait()
        finished.append(message.message_id)

    dp = Dispatcher()
    dp.include_router(router)
    bot, _ = make_bot()

    async def check() -> dict[str, bool]:
        return {"database": True}

    port = free_port()
    srv = WebhookServer(dp, bot, SECRET, health=check)
    await srv.start("127.0.0.1", port)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
            json=update(5),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        ) as r,
    ):
        assert r.status == 200
    async with asyncio.timeout(GENEROUS_S):
        await started.wait()
    stopping = asyncio.create_task(srv.stop())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not stopping.done() and finished == []  # stop waits for the update in flight
    release.set()
    async with asyncio.timeout(GENEROUS_S):
        await stopping
    assert finished == [5]
