"""The e-gov login's part of the composition root: built when EGOV_* are set (``bot.app``
calls these; ``bot.egov_web`` has the routes, ``bot.adapters.egov`` the OpenID client)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.egov import OidcProvider
from bot.config import Settings
from bot.egov_web import Egov, EgovWeb, OutboxWaker
from bot.telegram_retries import without_retries
from dialogs.common import current_locale
from storage.login_states import SqlLoginStates
from workflows.egov_login import EgovLogin, StartLinks, link_secret
from workflows.ports import Clock, TransactionFactory

# The provider's answers (discovery, token, JWKS) are awaited by a person in a browser.
EGOV_TIMEOUT_S = 10


def build_egov(
    settings: Settings,
    engine: AsyncEngine,
    transactions: TransactionFactory,
    clock: Clock,
    closers: list[Any],
) -> Egov | None:
    """The e-gov login when EGOV_* are set (its HTTP session joins ``closers``)."""
    base_url = settings.public_base_url
    if not settings.egov or settings.egov_client_secret is None or base_url is None:
        return None
    secret = settings.egov_client_secret.get_secret_value()
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=EGOV_TIMEOUT_S))
    closers.append(session.close)
    provider = OidcProvider(
        session,
        issuer=settings.egov_issuer or "",
        client_id=settings.egov_client_id or "",
        client_secret=secret,
        redirect_uri=Egov.redirect_uri_of(base_url),
    )
    login = EgovLogin(
        SqlLoginStates(engine), provider, transactions, clock, fin_claim=settings.egov_fin_claim
    )
    return Egov(login, StartLinks(link_secret(secret), clock), base_url)


def egov_link(egov: Egov) -> Callable[[int, int], str]:
    """The dialogs' start link: it carries the language of the update that shows it."""

    def link(account: int, chat_id: int) -> str:
        try:
            locale: str | None = current_locale()
        except LookupError:  # outside an update
            locale = None
        return egov.link(account, chat_id, locale)

    return link


def egov_web(
    egov: Egov, bot: Bot, i18n: I18n, default_locale: str, outbox: OutboxWaker | None
) -> EgovWeb:
    """The /auth routes; ``outbox`` is woken after a login."""
    # The page's link to the bot: asked once (the Bot keeps it), and not retried (a person
    # waits for the page; without the link it is still complete).
    asker = without_retries(bot)

    async def bot_url() -> str:
        me = await asker.me()
        return f"https://t.me/{me.username}"

    return EgovWeb(egov, i18n, default_locale=default_locale, bot_url=bot_url, outbox=outbox)
