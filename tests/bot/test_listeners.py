"""Where a real worker (``bot.main.run`` against the in-process sandbox Telegram) serves
/metrics and /healthz (issue 17, item 2): on the metrics listener in polling and webhook
mode, never on the webhook's public port, except behind METRICS_TOKEN with METRICS_PORT 0;
and ``python -m bot.healthcheck`` finds them wherever they are."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot import healthcheck
from bot.config import Settings
from bot.main import run
from bot.webhook import WEBHOOK_PATH
from sandbox.server import SandboxServer

TOKEN = "metrics-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
START_STEPS = 1200  # 0.05 s each: a minute for a worker to start on a busy machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def telegram(tmp_path: Path) -> AsyncIterator[SandboxServer]:
    server = SandboxServer(api_port=0, web_port=0, mail_dir=tmp_path / "sandbox-mail")
    await server.start()
    yield server
    await server.stop()


def worker_settings(settings: Settings, telegram: SandboxServer, **update: Any) -> Settings:
    return settings.model_copy(
        update={
            "bot_token": SecretStr(telegram.token),
            "telegram_api_url": telegram.api_url,
            "staff_chat_id": telegram.staff_chat_id,
            "listen_host": "127.0.0.1",
            "listen_port": free_port(),
            "metrics_port": free_port(),
            **update,
        }
    )


def webhook(port: int) -> dict[str, Any]:
    return {
        "webhook_url": f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        "webhook_secret": SecretStr("hook-secret"),
    }


@asynccontextmanager
async def running(settings: Settings, telegram: SandboxServer) -> AsyncIterator[None]:
    """``run(settings)`` until the block ends; entered once the worker starts polling the
    sandbox (asks who it is; a getUpdates is logged only when its long poll ends) or has set
    its webhook there."""
    started = "setWebhook" if settings.webhook_url else "getMe"
    stop = asyncio.Event()
    task = asyncio.create_task(run(settings, stop=stop))
    try:
        for _ in range(START_STEPS):
            if task.done():
                await task  # its error, if it failed to start
                raise AssertionError("the worker stopped by itself")
            if telegram.requests(started):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the worker never called {started}")
        yield
    finally:
        stop.set()
        await task


async def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers or {}) as r:
        return r.status, await r.text()


async def health_check(settings: Settings) -> int:
    return await asyncio.to_thread(healthcheck.check, settings)


async def test_a_polling_worker_serves_metrics_and_health_on_the_metrics_port(
    settings: Settings, telegram: SandboxServer
) -> None:
    s = worker_settings(settings, telegram)
    own = f"http://127.0.0.1:{s.metrics_port}"
    async with running(s, telegram):
        status, body = await get(own + "/healthz")
        assert (status, body) == (200, '{"ok": true, "database": true}')
        status, body = await get(own + "/metrics")
        assert status == 200
        assert "# TYPE bot_updates_total counter" in body
        assert 'bot_outbox_messages{status="pending"}' in body  # refreshed from the table
        assert await health_check(s) == 0
        # nothing on the public port in polling mode
        with pytest.raises(aiohttp.ClientConnectorError):
            await get(f"http://127.0.0.1:{s.listen_port}/healthz")
    assert await health_check(s) == 1  # the worker has stopped


async def test_a_webhook_worker_shows_only_the_webhook_on_the_public_port(
    settings: Settings, telegram: SandboxServer
) -> None:
    port = free_port()
    s = worker_settings(settings, telegram, listen_port=port, **webhook(port))
    public, own = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{s.metrics_port}"
    async with running(s, telegram):
        for path in ("/metrics", "/healthz", "/"):
            assert (await get(public + path))[0] == 404, path
            assert (await get(public + path, BEARER))[0] == 404, path
        async with aiohttp.ClientSession() as http, http.post(public + WEBHOOK_PATH) as r:
            assert r.status == 401  # the webhook is there, behind its secret
        assert (await get(own + "/healthz"))[0] == 200
        status, body = await get(own + "/metrics")
        assert status == 200 and "bot_updates_total" in body
        assert await health_check(s) == 0


@pytest.mark.parametrize("mode", ["webhook", "polling"])
async def test_metrics_port_0_with_a_token_serves_them_on_the_public_port_behind_it(
    settings: Settings, telegram: SandboxServer, mode: str
) -> None:
    port = free_port()
    extra = webhook(port) if mode == "webhook" else {}
    s = worker_settings(
        settings,
        telegram,
        listen_port=port,
        metrics_port=0,
        metrics_token=SecretStr(TOKEN),
        **extra,
    )
    assert s.metrics_listener == "public"
    public = f"http://127.0.0.1:{port}"
    async with running(s, telegram):
        for path in ("/metrics", "/healthz"):
            assert (await get(public + path))[0] == 401, path
            wrong = {"Authorization": f"Bearer {TOKEN[:-1]}"}
            assert (await get(public + path, wrong))[0] == 401, path
        status, body = await get(public + "/metrics", BEARER)
        assert status == 200 and "bot_updates_total" in body
        assert (await get(public + "/healthz", BEARER))[0] == 200
        assert await health_check(s) == 0
        without_token = s.model_copy(update={"metrics_token": SecretStr("x" * 16)})
        assert await health_check(without_token) == 1


async def test_metrics_port_0_without_a_token_serves_them_nowhere(
    settings: Settings, telegram: SandboxServer
) -> None:
    port = free_port()
    s = worker_settings(settings, telegram, listen_port=port, metrics_port=0, **webhook(port))
    assert s.metrics_listener == "none"
    async with running(s, telegram):
        for path in ("/metrics", "/healthz"):
            assert (await get(f"http://127.0.0.1:{port}{path}", BEARER))[0] == 404
        assert await health_check(s) == 0  # nothing to ask: the container runs


def test_the_health_check_with_bad_settings_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    monkeypatch.setenv("METRICS_PORT", "nine thousand")
    assert healthcheck.main() == 1
    assert capsys.readouterr().err.splitlines() == [
        "Setting METRICS_PORT is invalid: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]
