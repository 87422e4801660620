"""Webhook mode: the secret token is checked, bad bodies are refused, the server keeps going;
the public listener shows the webhook only, /metrics and /healthz live on the metrics
listener (or on the public port behind METRICS_TOKEN)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiogram import Dispatcher, Router
from aiogram.types import Message

from bot.metrics import UpdateMetricsMiddleware
from bot.monitoring import Listener, Monitoring
from bot.webhook import WEBHOOK_PATH, WebhookServer
from tests.support import GENEROUS_S, make_bot

SECRET = "s3cret-token"
TOKEN = "metrics-token-0123456789"


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


@dataclass
class Worker:
    public: str  # the webhook's listener
    metrics: str  # the metrics listener
    seen: list[str]
    health: dict[str, bool]
    server: WebhookServer

    async def handled(self) -> None:
        """Every update posted so far has been handled."""
        while self.server.tasks:
            await asyncio.wait(set(self.server.tasks))


def echo_dispatcher(seen: list[str]) -> Dispatcher:
    router = Router()

    @router.message()
    async def on_message(message: Message) -> None:
        seen.append(message.text or "")

    dp = Dispatcher()
    dp.include_router(router)
    dp.update.outer_middleware(UpdateMetricsMiddleware())
    return dp


async def start_worker(
    *, token: str | None = None, on_public: bool = False
) -> tuple[Worker, Listener | None]:
    """A webhook server and, unless ``on_public``, a metrics listener beside it (as
    ``bot.main.run`` starts them from the settings)."""
    seen: list[str] = []
    health = {"database": True}

    async def check() -> dict[str, bool]:
        return dict(health)

    monitoring = Monitoring(check, token=token, guard_health=on_public)
    bot, _ = make_bot()
    server = WebhookServer(echo_dispatcher(seen), bot, SECRET, monitoring if on_public else None)
    port = free_port()
    await server.start("127.0.0.1", port)
    public = f"http://127.0.0.1:{port}"
    listener = None
    metrics = public
    if not on_public:
        listener = Listener(monitoring.app(), "metrics listener")
        await listener.start("127.0.0.1", 0)
        metrics = f"http://127.0.0.1:{listener.port}"
    return Worker(public, metrics, seen, health, server), listener


@pytest.fixture
async def worker() -> AsyncIterator[Worker]:
    w, listener = await start_worker()
    yield w
    await w.server.stop()
    assert listener is not None
    await listener.stop()


async def post(http: aiohttp.ClientSession, w: Worker, body: dict[str, Any]) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with http.post(w.public + WEBHOOK_PATH, json=body, headers=headers) as r:
        return r.status


async def test_webhook_refuses_a_wrong_or_missing_secret(worker: Worker) -> None:
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "nope"}):
            async with http.post(
                worker.public + WEBHOOK_PATH, json=update(1), headers=headers
            ) as r:
                assert r.status == 401
    assert worker.seen == []


async def test_webhook_refuses_malformed_bodies_and_keeps_serving(worker: Worker) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        for body in (b"not json", b"[1, 2]", b'{"update_id": "x"}', '{"ü'.encode()):
            async with http.post(worker.public + WEBHOOK_PATH, data=body, headers=headers) as r:
                assert r.status == 400
        assert await post(http, worker, update(2, "still here")) == 200
    await worker.handled()
    assert worker.seen == ["still here"]


async def test_a_body_over_one_mebibyte_is_refused(worker: Worker) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession() as http:
        big = update(4, "x" * (1024 * 1024))
        async with http.post(worker.public + WEBHOOK_PATH, json=big, headers=headers) as r:
            assert r.status == 413
    assert worker.seen == []


async def test_the_public_port_shows_neither_metrics_nor_health(worker: Worker) -> None:
    async with aiohttp.ClientSession() as http:
        for path in ("/metrics", "/healthz"):
            for headers in ({}, {"Authorization": f"Bearer {TOKEN}"}):
                async with http.get(worker.public + path, headers=headers) as r:
                    assert r.status == 404, path
        async with http.get(worker.metrics + "/healthz") as r:
            assert r.status == 200


async def test_healthz_on_the_metrics_listener_reports_each_dependency(worker: Worker) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(worker.metrics + "/healthz") as r:
            assert r.status == 200
            assert (await r.json())["database"] is True
        worker.health["database"] = False
        async with http.get(worker.metrics + "/healthz") as r:
            assert r.status == 503


def sample(body: str, name: str) -> float:
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


async def test_the_metrics_listener_counts_handled_updates(worker: Worker) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(worker.metrics + "/metrics") as r:
            before = sample(await r.text(), 'bot_updates_total{type="message"}')
        assert await post(http, worker, update(3)) == 200
        await worker.handled()
        async with http.get(worker.metrics + "/metrics") as r:
            assert r.status == 200
            body = await r.text()
    assert worker.seen == ["hello"]
    assert sample(body, 'bot_updates_total{type="message"}') == before + 1
    assert "bot_update_seconds_bucket" in body


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}", "Bearer", f"Bearer {TOKEN}x"],
)
async def test_on_the_public_port_both_need_the_token(authorization: str | None) -> None:
    w, _ = await start_worker(token=TOKEN, on_public=True)
    headers = {} if authorization is None else {"Authorization": authorization}
    try:
        async with aiohttp.ClientSession() as http:
            for path in ("/metrics", "/healthz"):
                async with http.get(w.public + path, headers=headers) as r:
                    assert r.status == 401, path
                    assert r.headers["WWW-Authenticate"] == "Bearer"
                    assert "bot_updates_total" not in await r.text()
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            async with http.get(w.public + "/metrics", headers=bearer) as r:
                assert r.status == 200
                assert "bot_updates_total" in await r.text()
            async with http.get(w.public + "/healthz", headers=bearer) as r:
                assert r.status == 200
                assert (await r.json())["database"] is True
            # the webhook beside them is unchanged
            assert await post(http, w, update(6, "beside")) == 200
    finally:
        await w.server.stop()
    assert w.seen == ["beside"]


async def test_with_a_token_the_metrics_listener_asks_it_for_metrics_only() -> None:
    w, listener = await start_worker(token=TOKEN)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(w.metrics + "/metrics") as r:
                assert r.status == 401
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            async with http.get(w.metrics + "/metrics", headers=bearer) as r:
                assert r.status == 200
            async with http.get(w.metrics + "/healthz") as r:
                assert r.status == 200  # the container's health check has no token
            async with http.get(w.public + "/metrics", headers=bearer) as r:
                assert r.status == 404
    finally:
        await w.server.stop()
        assert listener is not None
        await listener.stop()


def test_guarding_health_without_a_token_is_refused() -> None:
    async def check() -> dict[str, bool]:
        return {}

    with pytest.raises(ValueError, match="token"):
        Monitoring(check, guard_health=True)


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

    port = free_port()
    srv = WebhookServer(dp, bot, SECRET)
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
