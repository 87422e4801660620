"""The sandbox's identity provider is strict where a real one is: its token endpoint refuses
a wrong client secret, a wrong PKCE verifier, a code used twice, and its login page an
unregistered redirect URI; the sandbox serves it on the page's port."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from sandbox.idp import FakeIdentityProvider
from sandbox.server import SandboxServer
from tests.local_http import local_server

CLIENT, SECRET, REDIRECT = "bot", "the-secret-of-the-bot", "http://127.0.0.1:1/auth/callback"
VERIFIER = "v" * 50
DISCOVERY = "/.well-known/openid-configuration"


@dataclass
class Idp:
    provider: FakeIdentityProvider
    url: str
    http: aiohttp.ClientSession

    async def code(self, *, redirect_uri: str = REDIRECT) -> str:
        form = {
            "client_id": CLIENT,
            "redirect_uri": redirect_uri,
            "state": "s",
            "nonce": "n",
            "code_challenge": create_s256_code_challenge(VERIFIER),
            "fin": "5ABC12D",
            "action": "login",
        }
        async with self.http.post(
            f"{self.url}/authorize", data=form, allow_redirects=False
        ) as resp:
            assert resp.status == 302, await resp.text()
            return parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]

    async def token(self, code: str, *, secret: str = SECRET, verifier: str = VERIFIER) -> int:
        pair = base64.b64encode(f"{CLIENT}:{secret}".encode()).decode()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        }
        async with self.http.post(
            f"{self.url}/token", data=form, headers={"Authorization": f"Basic {pair}"}
        ) as resp:
            return resp.status


@pytest.fixture
async def idp() -> AsyncIterator[Idp]:
    provider = FakeIdentityProvider()
    provider.register_client(CLIENT, SECRET, REDIRECT)
    async with local_server(provider.app()) as url, aiohttp.ClientSession() as http:
        yield Idp(provider, f"{url}/idp", http)


async def test_a_code_with_the_right_secret_and_verifier_gets_one_token(idp: Idp) -> None:
    code = await idp.code()

    assert await idp.token(code) == 200
    assert await idp.token(code) == 400  # a code is good once
    assert idp.provider.tokens_issued == 1


async def test_the_token_endpoint_refuses_a_wrong_secret_or_verifier(idp: Idp) -> None:
    assert await idp.token(await idp.code(), secret="guessed") == 401
    assert await idp.token(await idp.code(), verifier="w" * 50) == 400
    assert idp.provider.tokens_issued == 0


async def test_the_login_page_refuses_an_unregistered_redirect(idp: Idp) -> None:
    query = {
        "client_id": CLIENT,
        "redirect_uri": "https://elsewhere.example/cb",
        "response_type": "code",
        "scope": "openid",
        "code_challenge": "x",
        "code_challenge_method": "S256",
    }
    async with idp.http.get(f"{idp.url}/authorize", params=query, allow_redirects=False) as resp:
        assert resp.status == 400
        assert "Location" not in resp.headers


async def test_the_login_page_sends_back_a_request_without_pkce(idp: Idp) -> None:
    query = {"client_id": CLIENT, "redirect_uri": REDIRECT, "response_type": "code"}
    async with idp.http.get(
        f"{idp.url}/authorize",
        params={**query, "scope": "openid", "state": "s"},
        allow_redirects=False,
    ) as resp:
        assert resp.status == 302
        assert "error=invalid_request" in resp.headers["Location"]


async def test_the_sandbox_serves_its_provider_beside_the_page(tmp_path: Path) -> None:
    server = SandboxServer(api_port=0, web_port=0, mail_dir=tmp_path)
    async with server, aiohttp.ClientSession() as http:
        discovery = await (await http.get(f"{server.web_url}/idp{DISCOVERY}")).json()

    assert discovery["issuer"] == f"{server.web_url}/idp"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
