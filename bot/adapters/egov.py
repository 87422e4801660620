"""The OpenID Connect client of the e-gov login: :class:`workflows.egov_login.IdentityProvider`
on aiohttp, with authlib's OAuth primitives and joserfc (authlib's JOSE library) for the ID
token.

- Discovery: ``GET {issuer}/.well-known/openid-configuration``, read once and kept; its
  ``issuer`` must be the configured one (OpenID Connect Discovery 1.0, section 4.3).
- Authorization: the authorization code flow with PKCE S256, ``scope=openid``, a ``state``
  and a ``nonce`` (``EgovLogin`` makes them).
- Token: ``POST token_endpoint`` with the code, the redirect URI and the PKCE verifier; the
  client authenticates with ``client_secret_basic`` when the provider supports it (the
  default of the specification), else ``client_secret_post``.
- The ID token: its signature against the provider's JWKS (asymmetric algorithms only; the
  JWKS is kept, and fetched again once for a key id it does not know: the token came from
  the token endpoint itself, so an unknown key id means the provider rotated its keys), then
  ``iss`` (the issuer), ``aud`` (the client id; ``azp`` too when there are several
  audiences), ``exp`` and ``iat`` (``LEEWAY_S`` of clock skew), ``sub`` and the ``nonce``.

Every failure is a :class:`LoginRefused` naming why; redirects are not followed, bodies over
``MAX_BODY`` are refused. Logs carry no token, code, claim nor secret.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import aiohttp
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    InvalidKeyIdError,
    JoseError,
)
from joserfc.jwk import KeySet

from workflows.egov_login import IdentityProvider, LoginRefused, Refusal

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
LEEWAY_S = 60
# Signatures with a public key only: never "none", never a shared-secret HMAC.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    basic_auth: bool


class OidcProvider(IdentityProvider):
    """The provider at ``issuer``, for the client ``client_id``; ``session`` is shared and
    closed by its creator (its timeouts are the composition root's)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
    ) -> None:
        self.session = session
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._metadata: ProviderMetadata | None = None
        self._keys: KeySet | None = None

    # --- HTTP ---------------------------------------------------------------------------
    async def _json(self, response: aiohttp.ClientResponse, what: str) -> Any:
        body = await response.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise LoginRefused(Refusal.PROVIDER, f"{what}: body too large")
        try:
            return json.loads(body)
        except ValueError:
            raise LoginRefused(Refusal.PROVIDER, f"{what}: not JSON") from None

    async def _get(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with self.session.get(
                url, allow_redirects=False, headers={"Accept": "application/json"}
            ) as response:
                if response.status != 200:
                    raise LoginRefused(Refusal.PROVIDER, f"{what}: HTTP {response.status}")
                data = await self._json(response, what)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise LoginRefused(Refusal.PROVIDER, f"{what}: {type(exc).__name__}") from None
        if not isinstance(data, dict):
            raise LoginRefused(Refusal.PROVIDER, f"{what}: not an object")
        return data

    async def metadata(self) -> ProviderMetadata:
        if self._metadata is not None:
            return self._metadata
        data = await self._get(self.issuer + DISCOVERY_PATH, "discovery")
        if str(data.get("issuer", "")).rstrip("/") != self.issuer:
            raise LoginRefused(Refusal.PROVIDER, "discovery: another issuer")
        try:
            endpoints = [
                str(data[key]) for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
            ]
        except KeyError as exc:
            raise LoginRefused(Refusal.PROVIDER, f"discovery: no {exc.args[0]}") from None
        methods = data.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        self._metadata = ProviderMetadata(*endpoints, basic_auth="client_secret_basic" in methods)
        return self._metadata

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        if self._keys is not None and not refresh:
            return self._keys
        data = await self._get((await self.metadata()).jwks_uri, "jwks")
        try:
            keys = KeySet.import_key_set(data)  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError):
            raise LoginRefused(Refusal.PROVIDER, "jwks: not a key set") from None
        self._keys = keys
        return keys

    # --- the port -----------------------------------------------------------------------
    async def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        metadata = await self.metadata()
        return str(
            prepare_grant_uri(
                metadata.authorization_endpoint,
                self.client_id,
                "code",
                redirect_uri=self.redirect_uri,
                scope="openid",
                state=state,
                nonce=nonce,
                code_challenge=create_s256_code_challenge(code_verifier),
                code_challenge_method="S256",
            )
        )

    async def id_claims(
        self, *, code: str, code_verifier: str, nonce: str, now: datetime
    ) -> Mapping[str, object]:
        id_token = await self._exchange(code, code_verifier)
        token = await self._decode(id_token)
        claims = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            now=int(now.timestamp()),
            leeway=LEEWAY_S,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "value": self.client_id},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except ClaimError as exc:
            reason = Refusal.AUDIENCE if exc.claim == "aud" else Refusal.TOKEN
            raise LoginRefused(reason, f"claim {exc.claim}") from None
        except JoseError as exc:  # expired, not yet valid
            raise LoginRefused(Refusal.TOKEN, exc.error) from None
        audience = claims.get("aud")
        several = isinstance(audience, list) and len(audience) > 1
        if several and claims.get("azp") != self.client_id:
            raise LoginRefused(Refusal.AUDIENCE, "azp")
        return claims

    async def _exchange(self, code: str, code_verifier: str) -> str:
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": code_verifier,
        }
        headers = {"Accept": "application/json"}
        if metadata.basic_auth:
            headers["Authorization"] = self._basic()
        else:
            form |= {"client_id": self.client_id, "client_secret": self._client_secret}
        try:
            async with self.session.post(
                metadata.token_endpoint,
                data=form,
                allow_redirects=False,
                headers=headers,
            ) as response:
                data = await self._json(response, "token")
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise LoginRefused(Refusal.PROVIDER, f"token: {type(exc).__name__}") from None
        if status != 200 or not isinstance(data, dict):
            error = data.get("error") if isinstance(data, dict) else None
            raise LoginRefused(Refusal.PROVIDER, f"token: HTTP {status} {error or ''}".strip())
        id_token = data.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise LoginRefused(Refusal.TOKEN, "no id_token")
        return id_token

    def _basic(self) -> str:
        """client_secret_basic; RFC 6749, 2.3.1: both are form-urlencoded first."""
        pair = f"{quote_plus(self.client_id)}:{quote_plus(self._client_secret)}"
        return "Basic " + base64.b64encode(pair.encode()).decode()

    async def _decode(self, id_token: str) -> jwt.Token:
        keys = await self._key_set()
        for attempt in (1, 2):
            try:
                return jwt.decode(id_token, keys, algorithms=ALGORITHMS)
            except InvalidKeyIdError:
                if attempt == 2:
                    break
                keys = await self._key_set(refresh=True)
            except BadSignatureError:
                raise LoginRefused(Refusal.SIGNATURE) from None
            except (JoseError, ValueError, TypeError) as exc:
                raise LoginRefused(Refusal.TOKEN, type(exc).__name__) from None
        raise LoginRefused(Refusal.SIGNATURE, "unknown key id")
