"""The sandbox answers its own page and local programs, no other web site (issue 17, item 1).

Over real HTTP against an in-process SandboxServer: a cross-site POST (a foreign ``Origin``,
another port of the same host, ``null``) is refused with 403 and changes nothing; the page's
own POSTs (``Origin`` = the page's origin, by 127.0.0.1 or localhost) and a program's POSTs
without ``Origin`` (the bot, SandboxClient, curl) work; a request whose ``Host`` is not the
sandbox's address (DNS rebinding) is refused, GET included; the Bot API route is guarded the
same way. The server binds 127.0.0.1 unless told otherwise. A real browser on another
origin is refused too (Chromium; skipped without it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web

from sandbox.client import SandboxClient
from sandbox.server import SandboxServer
from tests.sandbox.browser import chromium, served

AYSEL = 610000001


@pytest.fixture
async def server() -> AsyncIterator[SandboxServer]:
    async with SandboxServer(api_port=0, web_port=0) as srv:
        yield srv


def port_of(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


async def post(url: str, body: dict[str, Any], **headers: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as r:
        return r.status, await r.json()


async def test_a_cross_site_post_is_refused_and_changes_nothing(server: SandboxServer) -> None:
    await server.send_text(AYSEL, "mine")
    send = f"{server.web_url}/sandbox/send"
    other_port = f"http://127.0.0.1:{port_of(server.api_url)}"
    for origin in ("http://evil.example", other_port, "null", f"https://{urlsplit(send).netloc}"):
        status, body = await post(send, {"user_id": AYSEL, "text": "hi"}, Origin=origin)
        assert status == 403, origin
        assert body == {
            "ok": False,
            "error": f"cross-site request refused: Origin {origin} is not {server.web_url}",
        }
    status, _ = await post(f"{server.web_url}/sandbox/reset", {}, Origin="http://evil.example")
    assert status == 403
    assert [m["text"] for m in server.messages(AYSEL)] == ["mine"]


async def test_the_page_s_own_posts_work(server: SandboxServer) -> None:
    status, body = await post(
        f"{server.web_url}/sandbox/send", {"user_id": AYSEL, "text": "hi"}, Origin=server.web_url
    )
    assert status == 200 and body["ok"] is True
    assert server.last_message(AYSEL, from_bot=False)["text"] == "hi"
    # the same page opened as localhost
    localhost = f"http://localhost:{port_of(server.web_url)}"
    status, body = await post(
        f"{localhost}/sandbox/send", {"user_id": AYSEL, "text": "again"}, Origin=localhost
    )
    assert status == 200 and body["ok"] is True
    assert server.last_message(AYSEL, from_bot=False)["text"] == "again"


async def test_a_program_without_origin_works(server: SandboxServer) -> None:
    async with SandboxClient(server.web_url) as client:
        await client.send_text(AYSEL, "from a test")
    assert server.last_message(AYSEL, from_bot=False)["text"] == "from a test"


async def test_a_foreign_host_is_refused_get_included(server: SandboxServer) -> None:
    """DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends its own name."""
    rebound = f"evil.example:{port_of(server.web_url)}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.web_url}/sandbox/chats", headers={"Host": rebound}) as r:
            assert r.status == 403
            assert await r.json() == {
                "ok": False,
                "error": f"Host {rebound} is not this sandbox's address",
            }
        async with http.post(
            f"{server.web_url}/sandbox/send",
            json={"user_id": AYSEL, "text": "hi"},
            headers={"Host": rebound, "Origin": f"http://{rebound}"},
        ) as r:
            assert r.status == 403
        # the right name on the wrong port is not this listener either
        wrong_port = f"127.0.0.1:{port_of(server.api_url)}"
        async with http.get(f"{server.web_url}/", headers={"Host": wrong_port}) as r:
            assert r.status == 403
        async with http.get(f"{server.web_url}/") as r:
            assert r.status == 200
    assert AYSEL not in {chat["id"] for chat in server.chats()}


async def test_the_bot_api_route_is_guarded_too(server: SandboxServer) -> None:
    url = f"{server.api_url}/bot{server.token}/getMe"
    status, body = await post(url, {}, Origin="http://evil.example")
    assert status == 403 and body["ok"] is False
    status, body = await post(url, {})
    assert status == 200 and body["result"]["id"] == server.bot_id


async def test_binds_the_loopback_address_unless_told_otherwise() -> None:
    server = SandboxServer(api_port=0, web_port=0)
    assert server.host == "127.0.0.1"
    async with server:
        runner = server._listener._runner
        assert runner is not None
        assert {address[0] for address in runner.addresses} == {"127.0.0.1"}
    wide = SandboxServer(host="0.0.0.0", api_port=0, web_port=0)
    async with wide:
        assert wide.web_url.startswith("http://127.0.0.1:")
        async with SandboxClient(wide.web_url) as client:  # reached through loopback
            assert (await client.config())["web_url"] == wide.web_url


# --- a real browser on another origin --------------------------------------------------------
EVIL_PAGE = """<!doctype html><title>evil</title><script>
window.attack = async (target) => {
  const post = (path, body) => fetch(target + path, {
    method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"},
    body: JSON.stringify(body),
  });
  await post("/sandbox/send", {user_id: USER_ID, text: "forged"});
  await post("/sandbox/reset", {});
  return "sent";
};
</script>""".replace("USER_ID", str(AYSEL))


@pytest.mark.browser
async def test_another_origin_in_a_browser_cannot_act(server: SandboxServer) -> None:
    """A page on another port of 127.0.0.1 sends "simple" POSTs (no preflight) with no-cors."""
    await server.send_text(AYSEL, "mine")

    async def evil_page(request: web.Request) -> web.Response:
        return web.Response(text=EVIL_PAGE, content_type="text/html")

    evil = web.Application()
    evil.router.add_get("/", evil_page)
    async with served(evil) as evil_url, chromium() as browser:
        page = await browser.new_page()
        await page.goto(evil_url + "/")
        assert await page.evaluate("attack", server.web_url) == "sent"
    assert [m["text"] for m in server.messages(AYSEL)] == ["mine"]
