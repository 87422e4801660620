"""A small OpenID Connect provider: the sandbox's stand-in for the state's e-gov login.

Why: the bot's e-gov login (``bot.adapters.egov``) must be tried end to end without the real
provider, by a person in the sandbox and by the tests, which run the real client against it.
It serves, under ``/idp``:

=====================================  ===================================================
``GET  /idp/.well-known/openid-configuration``  discovery (the issuer is ``<origin>/idp``)
``GET  /idp/authorize``                 the login page: "Log in as a citizen, FIN [_____]"
``POST /idp/authorize``                 the page's form: redirects back with a code (or
                                        ``error=access_denied`` on "Cancel")
``POST /idp/token``                     the code for an ID token (client_secret_basic or
                                        _post; the PKCE S256 verifier is checked)
``GET  /idp/jwks``                      the public key (RSA, made at its first use)
=====================================  ===================================================

Clients are registered with :meth:`FakeIdentityProvider.register_client` (the sandbox
registers the bot's). The page's "Answer with" choice, and the :attr:`misbehaviour` knob for
tests, make the ID token wrong on purpose: for another audience, without the FIN claim, or
signed with a key the JWKS does not hold (under the published key's id).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlencode

from aiohttp import web
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey

PREFIX = "/idp"
KEY_ID = "sandbox-1"
# The owner FIN of the demo registry's code 100005: the login page offers it.
DEFAULT_FIN = "5ABC12D"
CODE_LIFETIME_S = 60
TOKEN_LIFETIME_S = 300
# What the page (and the knob) can make the ID token be.
MISBEHAVIOURS = {
    "": "a correct ID token",
    "audience": "an ID token for another client (aud)",
    "no_fin": "an ID token without the FIN claim",
    "foreign_key": "an ID token signed with another key",
}


@dataclass(frozen=True, slots=True)
class Client:
    secret: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    fin: str
    misbehaviour: str
    expires_at: float


class FakeIdentityProvider:
    """The provider; ``now`` is its clock (seconds since the epoch), ``fin_claim`` the name of
    the claim that carries the FIN."""

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        fin_claim: str = "fin",
        default_fin: str = DEFAULT_FIN,
    ) -> None:
        self.now = now
        self.fin_claim = fin_claim
        self.default_fin = default_fin
        self._key: RSAKey | None = None
        self._other_key: RSAKey | None = None
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Grant] = {}
        # A test's knob: every ID token misbehaves so (a key of MISBEHAVIOURS), whatever
        # the page says.
        self.misbehaviour = ""
        self.tokens_issued = 0

    @property
    def key(self) -> RSAKey:
        """The signing key, made at its first use (a sandbox that never logs in makes none)."""
        if self._key is None:
            self._key = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "alg": "RS256"})
        return self._key

    def register_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        self.clients[client_id] = Client(secret, (redirect_uri,))

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(f"{PREFIX}/.well-known/openid-configuration", self.discovery)
        app.router.add_get(f"{PREFIX}/authorize", self.authorize_page)
        app.router.add_post(f"{PREFIX}/authorize", self.authorize)
        app.router.add_post(f"{PREFIX}/token", self.token)
        app.router.add_get(f"{PREFIX}/jwks", self.jwks)

    def app(self) -> web.Application:
        app = web.Application()
        self.add_routes(app)
        return app

    # --- discovery and keys -------------------------------------------------------------
    @staticmethod
    def issuer(request: web.Request) -> str:
        return f"{request.scheme}://{request.host}{PREFIX}"

    async def discovery(self, request: web.Request) -> web.Response:
        issuer = self.issuer(request)
        return web.json_response(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "claims_supported": ["sub", "name", self.fin_claim],
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self.key.as_dict(private=False)]})

    # --- the login page -----------------------------------------------------------------
    def _client_of(self, params: Any) -> tuple[str, str] | None:
        client_id = str(params.get("client_id", ""))
        redirect_uri = str(params.get("redirect_uri", ""))
        client = self.clients.get(client_id)
        if client is None or redirect_uri not in client.redirect_uris:
            return None
        return client_id, redirect_uri

    async def authorize_page(self, request: web.Request) -> web.Response:
        q = request.query
        if self._client_of(q) is None:
            return _page("Unknown client or redirect URI.", status=400)
        problem = None
        if q.get("response_type") != "code":
            problem = "unsupported_response_type"
        elif "openid" not in q.get("scope", "").split():
            problem = "invalid_scope"
        elif q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            problem = "invalid_request"
        if problem:
            return _redirect(q["redirect_uri"], error=problem, state=q.get("state"))
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(q.get(name, ""))}">'
            for name in ("client_id", "redirect_uri", "state", "nonce", "code_challenge")
        )
        choices = "".join(
            f'<option value="{key}">{html.escape(label)}</option>'
            for key, label in MISBEHAVIOURS.items()
        )
        return _page(
            f"""<p>The sandbox's identity provider. The bot asks who you are.</p>
<form method="post" action="{PREFIX}/authorize">{hidden}
<label>Log in as a citizen with the FIN
<input name="fin" value="{html.escape(self.default_fin)}" maxlength="32" autofocus></label>
<label>Answer with <select name="misbehaviour">{choices}</select></label>
<p><button name="action" value="login">Log in</button>
<button name="action" value="cancel">Cancel</button></p></form>"""
        )

    async def authorize(self, request: web.Request) -> web.Response:
        form = await request.post()
        client = self._client_of(form)
        if client is None:
            return _page("Unknown client or redirect URI.", status=400)
        client_id, redirect_uri = client
        state = str(form.get("state") or "") or None
        if form.get("action") != "login":
            return _redirect(redirect_uri, error="access_denied", state=state)
        code = secrets.token_urlsafe(24)
        misbehaviour = str(form.get("misbehaviour") or "")
        self.codes[code] = Grant(
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=str(form.get("code_challenge") or ""),
            nonce=str(form.get("nonce") or "") or None,
            fin=str(form.get("fin") or "").strip(),
            misbehaviour=misbehaviour if misbehaviour in MISBEHAVIOURS else "",
            expires_at=self.now() + CODE_LIFETIME_S,
        )
        return _redirect(redirect_uri, code=code, state=state)

    # --- the token endpoint -------------------------------------------------------------
    def _authenticated_client(self, request: web.Request, form: Any) -> str | None:
        scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(credentials.strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                return None
            login, _, password = pair.partition(":")
            client_id, secret = unquote_plus(login), unquote_plus(password)
        else:
            client_id = str(form.get("client_id") or "")
            secret = str(form.get("client_secret") or "")
        client = self.clients.get(client_id)
        if client is None or not secrets.compare_digest(client.secret, secret):
            return None
        return client_id

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id = self._authenticated_client(request, form)
        if client_id is None:
            return web.json_response({"error": "invalid_client"}, status=401)
        if form.get("grant_type") != "authorization_code":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        grant = self.codes.pop(str(form.get("code") or ""), None)
        verifier = str(form.get("code_verifier") or "")
        if (
            grant is None
            or grant.expires_at <= self.now()
            or grant.client_id != client_id
            or grant.redirect_uri != form.get("redirect_uri")
            or not verifier
            or create_s256_code_challenge(verifier) != grant.code_challenge
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        id_token = self._id_token(self.issuer(request), grant)
        self.tokens_issued += 1
        return web.json_response(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME_S,
                "id_token": id_token,
            },
            headers={"Cache-Control": "no-store"},
        )

    def _id_token(self, issuer: str, grant: Grant) -> str:
        misbehaviour = self.misbehaviour or grant.misbehaviour
        now = int(self.now())
        claims: dict[str, Any] = {
            "iss": issuer,
            "sub": "citizen-" + hashlib.sha256(grant.fin.encode()).hexdigest()[:16],
            "aud": "another-client" if misbehaviour == "audience" else grant.client_id,
            "iat": now,
            "exp": now + TOKEN_LIFETIME_S,
            "name": "Sandbox citizen",
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        if misbehaviour != "no_fin":
            claims[self.fin_claim] = grant.fin
        key = self.key
        if misbehaviour == "foreign_key":  # another key under the published key's id
            if self._other_key is None:
                self._other_key = RSAKey.generate_key(2048)
            key = self._other_key
        return jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, key)

    def rotate_key(self, kid: str) -> None:
        """A new signing key (and JWKS) under ``kid``, as a provider's key rotation does."""
        self._key = RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256"})


def _redirect(uri: str, **params: str | None) -> web.Response:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    separator = "&" if "?" in uri else "?"
    return web.Response(status=302, headers={"Location": f"{uri}{separator}{query}"})


def _page(body: str, *, status: int = 200) -> web.Response:
    text = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandbox e-gov login</title><style>body{{font:16px system-ui,sans-serif;max-width:32em;
margin:2em auto;padding:0 1em}}label{{display:block;margin:1em 0}}input,select{{font:inherit;
display:block;margin-top:.3em}}</style></head><body><h1>🔐 Sandbox e-gov login</h1>
{body}</body></html>"""
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"},
    )
