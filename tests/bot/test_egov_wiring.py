"""The e-gov login in the worker: its settings are all or nothing, its secret is masked, the
dialogs get the start link only when it is configured, and its routes are served beside the
webhook or, when polling, on LISTEN_PORT."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.fsm.storage.memory import MemoryStorage
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import Services, build_bot, build_dispatcher, build_egov_web, build_services
from bot.config import Settings, describe_error
from bot.egov_web import accepted_locale
from bot.main import start_login_listener, start_monitoring
from bot.webhook import WebhookServer
from tests.bot.egov_harness import egov_i18n
from tests.local_http import local_server

EGOV = {
    "EGOV_ISSUER": "https://login.e-gov.example/oidc",
    "EGOV_CLIENT_ID": "azersu-bot",
    "EGOV_CLIENT_SECRET": "the-client-secret-of-the-bot",
}


def settings_with(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def error_for(**values: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        settings_with(**values)
    return describe_error(caught.value)


@pytest.mark.parametrize("left_out", sorted(EGOV))
def test_the_egov_settings_are_all_or_nothing(left_out: str) -> None:
    values = {k: v for k, v in EGOV.items() if k != left_out}

    message = error_for(**values, PUBLIC_URL="https://bot.example")

    assert f"{left_out} is required" in message
    assert EGOV["EGOV_CLIENT_SECRET"] not in message


def test_the_egov_login_needs_a_public_url_or_a_webhook() -> None:
    assert "PUBLIC_URL" in error_for(**EGOV)
    hooked = settings_with(
        **EGOV, WEBHOOK_URL="https://bot.example:8443/telegram/webhook", WEBHOOK_SECRET="s"
    )
    assert hooked.public_base_url == "https://bot.example:8443"
    assert settings_with(**EGOV, PUBLIC_URL="https://b.example/").public_base_url == (
        "https://b.example"
    )


@pytest.mark.parametrize(
    "issuer", ["http://login.e-gov.example", "login.e-gov.example", "https://x.example/?a=1"]
)
def test_the_issuer_must_be_https_except_on_this_machine(issuer: str) -> None:
    assert "EGOV_ISSUER" in error_for(**EGOV | {"EGOV_ISSUER": issuer}, PUBLIC_URL="https://b.c")
    local = settings_with(
        **EGOV | {"EGOV_ISSUER": "http://127.0.0.1:8080/idp/"}, PUBLIC_URL="https://b.c"
    )
    assert local.egov_issuer == "http://127.0.0.1:8080/idp"


def test_the_client_secret_is_masked() -> None:
    settings = settings_with(**EGOV, PUBLIC_URL="https://bot.example")

    assert EGOV["EGOV_CLIENT_SECRET"] in settings.secret_values()
    assert EGOV["EGOV_CLIENT_SECRET"] not in repr(settings)


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        ("de, en;q=0.5, az;q=0.7", "az"),
        ("de, fr", None),
        ("", None),
        ("en;q=bad, ru;q=0.1", "ru"),
    ],
)
def test_the_browsers_language(header: str, locale: str | None) -> None:
    assert accepted_locale(header) == locale


@pytest.fixture
async def egov_services(
    settings: Settings, engine: AsyncEngine, unused_tcp_port: int
) -> AsyncIterator[tuple[Settings, Services]]:
    egov_settings = settings.model_copy(
        update={
            "egov_issuer": "http://127.0.0.1:9/idp",  # nobody listens: the provider is down
            "egov_client_id": "azersu-bot",
            "egov_client_secret": SecretStr(EGOV["EGOV_CLIENT_SECRET"]),
            "public_url": f"http://127.0.0.1:{unused_tcp_port}",
            "listen_host": "127.0.0.1",
            "listen_port": unused_tcp_port,
            "telegram_api_url": "http://127.0.0.1:9",
        }
    )
    services = build_services(egov_settings, engine=engine)
    try:
        yield egov_settings, services
    finally:
        await services.close()


def dialog_links(settings: Settings, services: Services) -> Any:
    dp = build_dispatcher(settings, services, i18n=egov_i18n())
    return dp.workflow_data["dialog_deps"].egov_link


async def test_the_dialogs_get_the_start_link_only_when_the_login_is_configured(
    settings: Settings, engine: AsyncEngine, egov_services: tuple[Settings, Services]
) -> None:
    plain = build_services(settings, engine=engine)
    try:
        assert plain.egov is None and dialog_links(settings, plain) is None
    finally:
        await plain.close()
    egov_settings, services = egov_services

    link = dialog_links(egov_settings, services)(610000001, 610000001)

    assert link.startswith(f"{egov_settings.public_url}/auth/start?t=610000001.610000001.")


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as resp:
        return resp.status, await resp.text()


def a_bot(settings: Settings) -> Bot:
    return build_bot(settings, "42:TEST")


async def test_polling_opens_listen_port_for_the_login_routes(
    egov_services: tuple[Settings, Services], caplog: pytest.LogCaptureFixture
) -> None:
    settings, services = egov_services
    assert services.egov is not None
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    bot = a_bot(settings)
    web = build_egov_web(settings, services, bot, egov_i18n(), None)
    stop = await start_login_listener(settings, services, MemoryStorage(), web)
    try:
        forged = await get(f"{settings.public_url}/auth/start?t=1.1.1.forged")
        provider_down = await get(services.egov.link(610000001, 610000001))
    finally:
        await stop()
        await bot.session.close()

    assert forged[0] == 400 and "<h1>" in forged[1]
    assert provider_down[0] == 503 and "Traceback" not in provider_down[1]
    # The access log names the path, never the start link's token.
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(access) == 2 and all("/auth/start" in line for line in access)
    assert not any("t=" in line or "forged" in line for line in access)


async def test_polling_with_metrics_on_the_public_port_serves_both_on_one_listener(
    egov_services: tuple[Settings, Services],
) -> None:
    settings, services = egov_services
    settings = settings.model_copy(
        update={
            "metrics_port": 0,
            "metrics_token": SecretStr("t" * 16),
        }
    )
    bot = a_bot(settings)
    web = build_egov_web(settings, services, bot, egov_i18n(), None)
    stops = [
        await start_monitoring(settings, services, MemoryStorage()),
        await start_login_listener(settings, services, MemoryStorage(), web),
    ]
    try:
        metrics = await get(f"{settings.public_url}/metrics")
        login = await get(f"{settings.public_url}/auth/callback?state=x")
    finally:
        for stop in stops:
            await stop()
        await bot.session.close()

    assert metrics[0] == 401  # there, behind its token
    assert login[0] == 400


async def test_the_webhook_server_serves_the_login_routes(
    egov_services: tuple[Settings, Services],
) -> None:
    settings, services = egov_services
    bot = a_bot(settings)
    web = build_egov_web(settings, services, bot, egov_i18n(), None)
    dp = build_dispatcher(settings, services, i18n=egov_i18n())
    server = WebhookServer(dp, bot, "webhook-secret", None, web)
    try:
        async with local_server(server.app()) as url:
            status, text = await get(f"{url}/auth/callback?state=nothing&code=x")
    finally:
        await bot.session.close()

    assert status == 400 and "<h1>" in text
