"""``HttpSubscriberRegistry`` against a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.adapters.billing_http import HttpSubscriberRegistry
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
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    state.base_url = f"http://{host}:{port}/api/"
    try:
        yield state
    finally:
        state.release.set()
        await runner.cleanup()


def SLOW(request: web.Request) -> web.StreamResponse:  # noqa: N802 - a marker reply
    return web.json_response(SUBSCRIBER)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    # Plain HTTP only: verify=False skips loading the CA bundle (~0.1 s per client).
    # A generous timeout: a loaded machine must not turn an answer into a timeout.
    async with httpx.AsyncClient(timeout=GENEROUS_S, verify=False) as http:
        yield http


def registry(client: httpx.AsyncClient, billing: Billing, **kwargs: Any) -> HttpSubscriberRegistry:
    return HttpSubscriberRegistry(client, billing.base_url, **({"backoff": 0.01} | kwargs))


async def test_found(client: httpx.AsyncClient, billing: Billing) -> None:
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


async def test_numeric_debt_is_exact(client: httpx.AsyncClient, billing: Billing) -> None:
    billing.replies = [json_reply(SUBSCRIBER | {"debt_azn": 0.1, "owner_fin": "5ABC12D"})]
    subscriber = await registry(client, billing).lookup("123456")
    assert subscriber is not None
    assert subscriber.debt == Decimal("0.1")
    assert subscriber.owner_fin == "5ABC12D"


async def test_code_is_url_encoded(client: httpx.AsyncClient, billing: Billing) -> None:
    billing.replies = [status_reply(404)]
    assert await registry(client, billing).lookup("12/34?x") is None
    assert billing.requests[0].raw_path == "/api/subscribers/12%2F34%3Fx"
    assert billing.requests[0].headers.get("Authorization") is None


async def test_unknown_code(client: httpx.AsyncClient, billing: Billing) -> None:
    billing.replies = [status_reply(404)]
    assert await registry(client, billing).lookup("999999") is None
    assert billing.calls == 1


async def test_retried_after_server_errors(client: httpx.AsyncClient, billing: Billing) -> None:
    billing.replies = [status_reply(500), status_reply(503), json_reply()]
    subscriber = await registry(client, billing).lookup("123456")
    assert subscriber is not None and subscriber.debt == Decimal("12.50")
    assert billing.calls == 3


async def test_server_error_always(client: httpx.AsyncClient, billing: Billing) -> None:
    billing.replies = [status_reply(500)]
    with pytest.raises(RegistryUnavailable):
        await registry(client, billing, retries=2).lookup("123456")
    assert billing.calls == 3


async def test_short_retry_after_is_honoured(client: httpx.AsyncClient, billing: Billing) -> None:
    billing.replies = [status_reply(429, {"Retry-After": "0"}), json_reply()]
    assert await registry(client, billing).lookup("123456") is not None
    assert billing.calls == 2


async def test_long_retry_after_gives_up(client: httpx.AsyncClient, billing: Billing) -> None:
    billing.replies = [status_reply(429, {"Retry-After": "120"}), json_reply()]
    with pytest.raises(RegistryUnavailable):
        await registry(client, billing).lookup("123456")
    assert billing.calls == 1


async def test_client_error_is_not_retried(client: httpx.AsyncClient, billing: Billing) -> None:
    billing.replies = [status_reply(401), json_reply()]
    with pytest.raises(RegistryUnavailable):
        await registry(client, billing).lookup("123456")
    assert billing.calls == 1


async def test_timeout(billing: Billing) -> None:
    billing.replies = [SLOW]  # never answers: the client's timeout must end each request
    async with httpx.AsyncClient(timeout=0.2, verify=False) as impatient:
        with pytest.raises(RegistryUnavailable):
            await registry(impatient, billing, retries=1).lookup("123456")
    assert billing.calls == 2


async def test_connection_refused(client: httpx.AsyncClient) -> None:
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
    ]


@pytest.mark.parametrize("body", malformed_bodies())
async def test_malformed(client: httpx.AsyncClient, billing: Billing, body: Any) -> None:
    if isinstance(body, str):
        billing.replies = [
            lambda request: web.Response(text=body, content_type="application/json")
        ]
    else:
        billing.replies = [json_reply(body)]
    with pytest.raises(RegistryUnavailable):
        await registry(client, billing).lookup("123456")
    assert billing.calls == 1
