"""The e-gov login: an account proves its FIN at the state's OpenID Connect provider.

The flow (authorization code with PKCE; the HTTP side is ``bot.adapters.egov``, the web routes
``bot.egov_web``):

1. The bot shows a URL button to its own ``/auth/start?t=<token>``; the token
   (:class:`StartLinks`) is an HMAC of (account, chat, expiry): no row is written per render.
2. ``/auth/start`` checks the token and calls :meth:`EgovLogin.start`: a pending login (state,
   PKCE verifier, nonce; single use, bound to the account, :data:`LOGIN_LIFETIME`) is stored
   and the browser is sent to the provider.
3. ``/auth/callback`` calls :meth:`EgovLogin.finish`: the state is taken (marked used, in one
   statement, so two workers cannot both take it), the code is exchanged and the ID token
   checked by the provider's adapter; the FIN claim must be a valid FIN. Then, in one unit of
   work, the verification (method ``egov``), its audit event and the Telegram message owed to
   the account (outbox kind ``egov_verified``) are stored.

Every refusal is a :class:`LoginRefused` with a :class:`Refusal` that names why (for the log
and the page); nothing is bound then.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from authlib.common.security import generate_token

from workflows.identity import IdentityMethod, Verification
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import Clock, OutboxItem, TransactionFactory
from workflows.proofs import record_verification
from workflows.values import InvalidFin, parse_fin

# A start link and a pending login are good for this long.
LOGIN_LIFETIME = timedelta(minutes=10)
# Pending logins expired longer ago than this are deleted by the next start.
PURGE_AFTER = timedelta(hours=1)
# The lengths of the random values (letters and digits): the state and the nonce fit their
# 64-character columns, the PKCE verifier is within RFC 7636's 43..128.
STATE_LENGTH = 43
NONCE_LENGTH = 43
VERIFIER_LENGTH = 64


class Refusal(StrEnum):
    """Why a login was refused (logged, and chooses the page's wording)."""

    LINK = "link"  # the start link is forged, altered or expired
    STATE = "state"  # unknown, used or expired state
    DENIED = "denied"  # the person cancelled at the provider, or it sent an error
    PROVIDER = "provider"  # the provider could not be reached or answered nonsense
    TOKEN = "token"  # noqa: S105 - a reason's name: the ID token is malformed, expired, from another issuer, bad nonce
    AUDIENCE = "audience"  # the ID token is for another client
    SIGNATURE = "signature"  # the ID token's signature does not verify
    NO_FIN = "no_fin"  # the ID token has no FIN claim
    INVALID_FIN = "invalid_fin"  # the FIN claim is not a FIN


class LoginRefused(Exception):
    """``account``: whose login it was, once the state named it (for the log)."""

    def __init__(self, reason: Refusal, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.account: int | None = None


@dataclass(frozen=True, slots=True)
class PendingLogin:
    """A login that went to the provider and has not come back yet."""

    state: str
    account: int
    chat_id: int
    code_verifier: str
    nonce: str
    expires_at: datetime


class LoginStates(Protocol):
    """The pending logins (``oidc_states``)."""

    async def add(self, login: PendingLogin) -> None:
        """Store a new pending login."""

    async def take(self, state: str, now: datetime) -> PendingLogin | None:
        """Mark the login of ``state`` used and return it, if it exists, was not used and
        has not expired at ``now``; else None. Atomic: of two concurrent takes, one wins."""

    async def purge(self, before: datetime) -> int:
        """Delete the logins that expired before ``before``; returns how many."""


class IdentityProvider(Protocol):
    """The OpenID Connect provider, as the use case needs it."""

    async def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        """Where to send the browser (PKCE S256 from ``code_verifier``); LoginRefused
        (PROVIDER) when the provider's configuration cannot be read."""

    async def id_claims(
        self, *, code: str, code_verifier: str, nonce: str, now: datetime
    ) -> Mapping[str, object]:
        """Exchange ``code`` and return the claims of the ID token once its signature,
        issuer, audience, times and ``nonce`` are checked; LoginRefused otherwise."""


@dataclass(frozen=True, slots=True)
class LoggedIn:
    """A finished login: the account now holds a proof of its FIN."""

    account: int
    chat_id: int
    locale: str | None


def verified_message(chat_id: int, state: str, locale: str | None) -> OutboxItem:
    """The Telegram message that tells the account its FIN is confirmed."""
    return OutboxItem(
        kind=OutboxKind.EGOV_VERIFIED,
        channel=Channel.TELEGRAM,
        recipient=str(chat_id),
        dedupe_key=f"egov:{state}",
        payload={"locale": locale},
    )


@dataclass(slots=True)
class EgovLogin:
    states: LoginStates
    provider: IdentityProvider
    transactions: TransactionFactory
    clock: Clock
    fin_claim: str = "fin"
    lifetime: timedelta = LOGIN_LIFETIME

    async def start(self, account: int, chat_id: int) -> str:
        """Store a pending login for the account; returns the provider's URL to go to."""
        now = self.clock.now()
        login = PendingLogin(
            state=generate_token(STATE_LENGTH),
            account=account,
            chat_id=chat_id,
            code_verifier=generate_token(VERIFIER_LENGTH),
            nonce=generate_token(NONCE_LENGTH),
            expires_at=now + self.lifetime,
        )
        url = await self.provider.authorization_url(
            state=login.state, nonce=login.nonce, code_verifier=login.code_verifier
        )
        await self.states.purge(now - PURGE_AFTER)
        await self.states.add(login)
        return url

    async def finish(
        self,
        state: str,
        code: str | None,
        error: str | None = None,
        *,
        locale_hint: str | None = None,
    ) -> LoggedIn:
        """Take the pending login of ``state`` and bind the FIN of the ID token to its
        account; LoginRefused when anything is amiss (the state is used up all the same).
        The account is told in its chosen language, else in ``locale_hint`` (the language
        the bot spoke when the link was shown, or the browser's)."""
        now = self.clock.now()
        login = await self.states.take(state, now) if state else None
        if login is None:
            raise LoginRefused(Refusal.STATE)
        try:
            fin = await self._fin(login, code, error, now)
        except LoginRefused as exc:
            exc.account = login.account
            raise
        async with self.transactions() as uow:
            profile = await uow.profiles.get(login.account)
            locale = (profile.locale if profile else None) or locale_hint
            await record_verification(
                uow, Verification(login.account, fin, IdentityMethod.EGOV, now)
            )
            await uow.outbox.enqueue(verified_message(login.chat_id, state, locale), now)
            await uow.commit()
        return LoggedIn(login.account, login.chat_id, locale)

    async def _fin(
        self, login: PendingLogin, code: str | None, error: str | None, now: datetime
    ) -> str:
        """The FIN the provider confirms for this login; LoginRefused otherwise."""
        if error or not code:
            raise LoginRefused(Refusal.DENIED, "the provider sent no code")
        claims = await self.provider.id_claims(
            code=code, code_verifier=login.code_verifier, nonce=login.nonce, now=now
        )
        raw = claims.get(self.fin_claim)
        if not isinstance(raw, str) or not raw:
            raise LoginRefused(Refusal.NO_FIN)
        try:
            return parse_fin(raw)
        except InvalidFin as exc:
            raise LoginRefused(Refusal.INVALID_FIN, exc.code) from None


@dataclass(frozen=True, slots=True)
class StartLink:
    """What a genuine start link names: the account, its chat, and the language the bot
    spoke when it showed the link ("" when unknown)."""

    account: int
    chat_id: int
    locale: str = ""


class StartLinks:
    """The token of a start link: ``<account>.<chat>.<expiry>.<locale>.<signature>``, the
    signature an HMAC-SHA256 of the rest, so the link needs no row and cannot be altered or
    used late."""

    def __init__(self, secret: bytes, clock: Clock, lifetime: timedelta = LOGIN_LIFETIME):
        if len(secret) < 16:
            raise ValueError("the link secret is too short")
        self._secret = secret
        self.clock = clock
        self.lifetime = lifetime

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def token(self, account: int, chat_id: int, locale: str = "") -> str:
        if not locale.isalpha() and locale:
            raise ValueError("a locale is letters only")
        expires = int((self.clock.now() + self.lifetime).timestamp())
        body = f"{account}.{chat_id}.{expires}.{locale}"
        return f"{body}.{self._sign(body)}"

    def read(self, token: str) -> StartLink | None:
        """What a genuine token that has not expired names; None otherwise."""
        body, _, signature = token.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        parts = body.split(".")
        if len(parts) != 4:
            return None
        try:
            account, chat_id, expires = (int(part) for part in parts[:3])
        except ValueError:
            return None
        if expires <= self.clock.now().timestamp():
            return None
        return StartLink(account, chat_id, parts[3])


def link_secret(client_secret: str) -> bytes:
    """The start links' key, derived from the client secret (every worker shares it)."""
    return hmac.new(client_secret.encode(), b"azersu-bot egov start link", hashlib.sha256).digest()
