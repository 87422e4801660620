"""``HttpSubscriberRegistry`` against a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.adapters.billing_http import MAX_ADDRESS, MAX_BODY, HttpSubscriberRegistry
from bot.app import build_services
from bot.config import SecretUrl, Settings
from storage.models import ApplicationRow
from tests.inert import FAKE_LINE, assert_clean, forged
from tests.local_http import local_server
from tests.support import GENEROUS_S
from workflows.errors import RegistryUnavailable
from workflows.models import ServiceState

SUBSCRIBER = {
    "subscriber_code": "123456",
    "meterless": True,
    "debt_azn": "12.50",
    "service_state": "suspended",
    "address": "Bakı ş., Nizami küç. 10, m. 5",
    "owner_fin": None,
}

Reply = Callable[[web.Request], web.StreamResponse]


@dataclass
class Billing:
    """The fake registry: ``replies`` are used in turn, the last one repeats."""

    base_url: str
    replies: list[Reply] = field(default_factory=list)
    requests: list[web.Request] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def calls(self) -> int:
        return len(self.requests)


def json_reply(body: Any = SUBSCRIBER, status: int = 200) -> Reply:
    return lambda request: web.json_response(body, status=status)


def status_reply(status: int, headers: dict[str, str] | None = None) -> Reply:
    return lambda request: web.Response(status=status, text="error", headers=headers)


@pytest.fixture
async def billing() -> AsyncIterator[Billing]:
    state = Billing(base_url="")

    async def handler(request: web.Request) -> web.StreamResponse:
        state.requests.append(request)
        index = min(len(state.requests), len(state.replies)) - 1
        reply = state.replies[index]
        if reply is SLOW:
            await state.release.wait()  # set when the test ends: no answer before that
        return reply(request)

    app = web.Application()
    app.router.add_get("/api/subscribers/{code}", handler)
    async with local_server(app) as origin:
        state.base_url = f"{origin}/api/"
        try:
            yield state
        finally:
            state.release.set()


def SLOW(request: web.Request) -> web.StreamResponse:  # noqa: N802 - a marker reply
    return web.json_response(SUBSCRIBER)


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    # A generous timeout: a loaded machine must not turn an answer into a timeout.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=GENEROUS_S)) as http:
        yield http


def registry(
    client: aiohttp.ClientSession, billing: Billing, **kwargs: Any
) -> HttpSubscriberRegistry:
    return HttpSubscriberRegistry(client, billing.base_url, **({"backoff": 0.01} | kwargs))


async def test_found(client: aiohttp.ClientSession, billing: Billing) -> None:
    billing.replies = [json_reply()]
    subscriber = await registry(client, billing, api_token="t0ken").lookup("123456")

    assert subscriber is not None
    assert subscriber.code == "123456"
    assert subscriber.debt == Decimal("12.50")
    assert str(subscriber.debt) == "12.50"
    assert subscriber.meterless is True
    assert subscriber.state is ServiceState.SUSPENDED
    assert subscriber.address == "Bakı ş., Nizami küç. 10, m. 5"
    assert subscriber.owner_fin is None
    [request] = billing.requests
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Bearer t0ken"


async def test_numeric_debt_is_exact(client: aiohttp.ClientSession, billing: Billing) -> None:
    billing.replies = [json_reply(SUBSCRIBER | {"debt_azn": 0.1, "owner_fin": "5ABC12D"})]
    subscriber = await registry(client, billing).lookup("123456")
    assert subscriber is not None
    assert subscriber.debt == Decimal("0.1")
    assert subscriber.owner_fin == "5ABC12D"


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("+994501234567", "+994501234567"),
        ("050 123 45 67", "+994501234567"),
        ("", None),
        (None, None),
    ],
)
async def test_the_optional_phone_is_kept_in_e164(
    client: aiohttp.ClientSession, billing: Billing, phone: str | None, stored: str | None
) -> None:
    billing.replies = [json_reply(SUBSCRIBER | {"phone": phone})]

    subscriber = await registry(client, billing).lookup("123456")

    assert subscriber is not None and subscriber.phone == stored


async def test_without_the_phone_key_there_is_no_phone(
    client: aiohttp.ClientSession, billing: Billing
) -> None:
    billing.replies = [json_reply()]

    subscriber = await registry(client, billing).lookup("123456")

    assert "phone" not in SUBSCRIBER
    assert subscriber is not None and subscriber.phone is None


async def test_a_phone_that_is_not_one_is_dropped_and_logged_without_it(
    client: aiohttp.ClientSession, billing: Billing, caplog: pytest.LogCaptureFixture
) -> None:
    billing.replies = [json_reply(SUBSCRIBER | {"phone": "+7 916 123-45-67"})]

    with caplog.at_level(logging.WARNING, logger="bot.adapters.billing_http"):
        subscriber = await registry(client, billing).lookup("123456")

    assert subscriber is not None and subscriber.phone is None
    assert "registry lookup 123456: phone dropped (foreign)" in caplog.text
    assert "916" not in caplog.text


async def test_code_is_url_encoded(client: aiohttp.ClientSession, billing: Billing) -> None:
    billing.replies = [status_reply(404)]
    assert await registry(client, billing).lookup("12/34?x") is None
    assert billing.requests[0].raw_path == "/api/subscribers/12%2F34%3Fx"
    assert billing.requests[0].headers.get("Authorization") is None


async def test_dot_segments_are_encoded(client: aiohttp.ClientSession, billing: Billing) -> None:
    billing.replies = [status_reply(404)]
    assert await registry(client, billing).lookup("..") is None
    assert billing.requests[0].raw_path == "/api/subscribers/%2E%2E"


async def test_unknown_code(client: aiohttp.ClientSession, billing: Billing) -> None:
    billing.replies = [status_reply(404)]
    assert await registry(client, billing).lookup("999999") is None
    assert billing.calls == 1


async def test_retried_after_server_errors(
    client: aiohttp.ClientSession, billing: Billing
) -> None:
    billing.replies = [status_reply(500), status_reply(503), json_reply()]
    subscriber = await registry(client, billing).lookup("123456")
    assert subscriber is not None and subscriber.debt == Decimal("12.50")
    assert billing.calls == 3


async def test_server_error_always(client: aiohttp.ClientSession, billing: Billing) -> None:
    billing.replies = [status_reply(500)]
    with pytest.raises(RegistryUnavailable):
        await registry(client, billing, retries=2).lookup("123456")
    assert billing.calls == 3


async def test_short_retry_after_is_honoured(
    client: aiohttp.ClientSession, billing: Billing
) -> None:
    billing.replies = [status_reply(429, {"Retry-After": "0"}), json_reply()]
    assert await registry(client, billing).lookup("123456") is not None
    assert billing.calls == 2


@pytest.mark.parametrize(
    "reply",
    [
        status_reply(429, {"Retry-After": "120"}),
        status_reply(401),
        status_reply(302, {"Location": "/api/subscribers/654321"}),
        json_reply(SUBSCRIBER | {"padding": "x" * MAX_BODY}),
    ],
    ids=["long-retry-after", "client-error", "redirect-not-followed", "body-over-the-limit"],
)
async def test_given_up_at_once(
    client: aiohttp.ClientSession, billing: Billing, reply: Reply
) -> None:
    billing.replies = [reply, json_reply()]
    with pytest.raises(RegistryUnavailable):
        await registry(client, billing).lookup("123456")
    assert billing.calls == 1


async def test_timeout(billing: Billing) -> None:
    billing.replies = [SLOW]  # never answers: the client's timeout must end each request
    timeout = aiohttp.ClientTimeout(total=0.2)
    async with aiohttp.ClientSession(timeout=timeout) as impatient:
        with pytest.raises(RegistryUnavailable):
            await registry(impatient, billing, retries=1).lookup("123456")
    assert billing.calls == 2


async def test_connection_refused(client: aiohttp.ClientSession) -> None:
    unreachable = Billing(base_url="http://127.0.0.1:9/api")  # discard port: nothing listens
    with pytest.raises(RegistryUnavailable):
        await registry(client, unreachable, retries=1).lookup("123456")


def malformed_bodies() -> list[Any]:
    return [
        "{not json",
        ["a", "list"],
        {k: v for k, v in SUBSCRIBER.items() if k != "owner_fin"},
        SUBSCRIBER | {"debt_azn": "12,50"},
        SUBSCRIBER | {"debt_azn": True},
        SUBSCRIBER | {"meterless": "yes"},
        SUBSCRIBER | {"service_state": "cut"},
        SUBSCRIBER | {"subscriber_code": "654321"},
        SUBSCRIBER | {"phone": 994501234567},
    ]


@pytest.mark.parametrize("body", malformed_bodies())
async def test_malformed(client: aiohttp.ClientSession, billing: Billing, body: Any) -> None:
    if isinstance(body, str):
        billing.replies = [
            lambda request: web.Response(text=body, content_type="application/json")
        ]
    else:
        billing.replies = [json_reply(body)]
    with pytest.raises(RegistryUnavailable):
        await registry(client, billing).lookup("123456")
    assert billing.calls == 1


async def test_address_is_one_line_without_controls(
    client: aiohttp.ClientSession, billing: Billing
) -> None:
    forged = "Bakı ş.,\n  Status: Done\u202e\u2066 10\x00\x1b[31m, m. 5\r\n"
    billing.replies = [json_reply(SUBSCRIBER | {"address": forged})]
    subscriber = await registry(client, billing).lookup("123456")
    assert subscriber is not None
    assert subscriber.address == "Bakı ş., Status: Done 10[31m, m. 5"


async def test_a_forged_address_is_inert(client: aiohttp.ClientSession, billing: Billing) -> None:
    billing.replies = [json_reply(SUBSCRIBER | {"address": forged("Bakı ş.")})]
    subscriber = await registry(client, billing).lookup("123456")
    assert subscriber is not None
    assert_clean(subscriber.address)
    assert "\n" not in subscriber.address and "  " not in subscriber.address
    assert subscriber.address.startswith(f"Bakı ş. enoD :sutatS[31m ok {FAKE_LINE} {FAKE_LINE}")


async def test_address_length_is_counted_after_cleaning(
    client: aiohttp.ClientSession, billing: Billing, caplog: pytest.LogCaptureFixture
) -> None:
    address = "\u202e\u200b" * 100 + "Ə" * MAX_ADDRESS + "\r\n" * 50
    billing.replies = [json_reply(SUBSCRIBER | {"address": address})]
    with caplog.at_level(logging.WARNING, logger="bot.adapters.billing_http"):
        subscriber = await registry(client, billing).lookup("123456")
    assert subscriber is not None and subscriber.address == "Ə" * MAX_ADDRESS
    assert not caplog.records  # nothing was cut


async def test_address_of_600_characters_is_cut(
    client: aiohttp.ClientSession, billing: Billing, caplog: pytest.LogCaptureFixture
) -> None:
    address = "Bakı ş., Nizami küç. " + "Ə" * 579
    assert len(address) == 600
    billing.replies = [json_reply(SUBSCRIBER | {"address": address})]
    with caplog.at_level(logging.INFO, logger="bot.adapters.billing_http"):
        subscriber = await registry(client, billing).lookup("123456")
    assert subscriber is not None
    assert len(subscriber.address) == MAX_ADDRESS
    assert subscriber.address == address[: MAX_ADDRESS - 1] + "…"
    # The applications' column holds it (a longer value fails the insert on PostgreSQL).
    assert ApplicationRow.__table__.c.address.type.length == MAX_ADDRESS
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "123456" in warning.getMessage()
    assert "Nizami" not in caplog.text and "ƏƏ" not in caplog.text


async def test_the_composition_root_builds_and_closes_the_session(
    settings: Settings, billing: Billing
) -> None:
    billing.replies = [json_reply()]
    configured = settings.model_copy(
        update={
            "billing_api_url": SecretUrl(billing.base_url),
            "billing_api_token": SecretStr("t0ken"),
        }
    )
    services = build_services(configured)
    assert isinstance(services.registry, HttpSubscriberRegistry)
    subscriber = await services.registry.lookup("123456")
    assert subscriber is not None and subscriber.code == "123456"
    assert billing.requests[0].headers["Authorization"] == "Bearer t0ken"
    session = services.registry._session
    await services.close()
    assert session.closed
