"""The e-gov login's web side: ``/auth/start`` and ``/auth/callback`` on the bot's own server.

``/auth/start?t=<token>`` (the URL button's target, see :class:`Egov.link`) checks the signed
token, stores a pending login and answers 302 to the provider. ``/auth/callback`` finishes
the login (``workflows.egov_login``) and answers a small page: "you are logged in, go back
to Telegram", while the outbox sends the account the confirmation. Both speak the account's
chosen language, else the one the bot spoke when it showed the link (the link carries it,
signed; /auth/start leaves it in a cookie for the callback), else the browser's. Every refusal is a polite page with status 400 (503 when the provider
cannot be reached to start), never a traceback, and nothing is bound; the log names the
reason and ids, never a FIN, a code or a token.

The routes live on the webhook's listener (``bot.webhook``) or, when polling, on a listener
of their own at LISTEN_HOST:LISTEN_PORT (``bot.main``).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote

from aiogram.utils.i18n import I18n
from aiohttp import web

from dialogs.wording import LOCALES, N_, translator
from workflows.egov_login import LOGIN_LIFETIME, EgovLogin, LoginRefused, Refusal, StartLinks

logger = logging.getLogger(__name__)

START_PATH = "/auth/start"
CALLBACK_PATH = "/auth/callback"
MAX_TOKEN = 200
LOCALE_COOKIE = "egov_locale"

BotUrl = Callable[[], Awaitable[str]]


class OutboxWaker(Protocol):
    def wake(self) -> None:
        """Look at the outbox now."""


@dataclass(frozen=True, slots=True)
class Egov:
    """The configured e-gov login: the use case, the start links and the public base URL."""

    login: EgovLogin
    links: StartLinks
    public_url: str

    @staticmethod
    def redirect_uri_of(public_url: str) -> str:
        return public_url.rstrip("/") + CALLBACK_PATH

    def link(self, account: int, chat_id: int, locale: str | None = None) -> str:
        """The URL button's target for this account (good for ``LOGIN_LIFETIME``); ``locale``:
        the language the bot speaks to it now, for the page and the confirmation."""
        token = self.links.token(account, chat_id, locale if locale in LOCALES else "")
        return f"{self.public_url}{START_PATH}?t={quote(token)}"


TITLE_DONE = N_("You are logged in")
TITLE_FAILED = N_("The login did not succeed")
DONE = N_(
    "Your FIN is confirmed through e-gov. Go back to Telegram: the bot has sent you a message."
)
BACK = N_("Back to Telegram")
AGAIN = N_("Open the bot in Telegram and press “Log in with e-gov” again.")
REFUSALS = {
    Refusal.LINK: N_("This link is out of date or incomplete."),
    Refusal.STATE: N_("This login has expired or has already been used."),
    Refusal.DENIED: N_("The login was cancelled at e-gov. Nothing has been changed."),
    Refusal.PROVIDER: N_("The e-gov login is not available right now. Please try again later."),
}
NOT_CONFIRMED = N_("e-gov did not confirm a FIN for this login. Nothing has been changed.")
BROKEN = N_("Something went wrong on our side. Nothing has been changed. Please try again later.")


def accepted_locale(header: str) -> str | None:
    """The first language of ``Accept-Language`` (by its weight) the bot speaks."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        weighted.append((-weight, index, tag.strip().split("-")[0].lower()))
    for weight, _index, language in sorted(weighted):
        if weight < 0 and language in LOCALES:
            return language
    return None


class EgovWeb:
    """The two routes; ``bot_url`` gives ``https://t.me/<bot>`` for the page's link, and
    ``outbox`` is woken after a login so the confirmation goes out at once."""

    def __init__(
        self,
        egov: Egov,
        i18n: I18n,
        *,
        default_locale: str,
        bot_url: BotUrl | None = None,
        outbox: OutboxWaker | None = None,
    ) -> None:
        self.egov = egov
        self.i18n = i18n
        self.default_locale = default_locale
        self.bot_url = bot_url
        self.outbox = outbox

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(START_PATH, self.start)
        app.router.add_get(CALLBACK_PATH, self.callback)

    async def start(self, request: web.Request) -> web.StreamResponse:
        token = request.query.get("t", "")[:MAX_TOKEN]
        who = self.egov.links.read(token)
        if who is None:
            logger.info("e-gov login: a start link was refused (forged or expired)")
            return await self._refused(request, Refusal.LINK)
        account, chat_id = who.account, who.chat_id
        try:
            url = await self.egov.login.start(account, chat_id)
        except LoginRefused as exc:
            logger.warning("e-gov login of %s could not start: %s", account, exc)
            return await self._refused(request, exc.reason, status=503)
        except Exception:
            logger.exception("e-gov login of %s: the start failed", account)
            return await self._page(request, None, TITLE_FAILED, BROKEN, status=500)
        logger.info("e-gov login of %s: sent to the provider", account)
        response = web.Response(status=302, headers={"Location": url, **_HEADERS})
        if who.locale:
            # The language of the page and the confirmation, when the browser comes back.
            response.set_cookie(
                LOCALE_COOKIE,
                who.locale,
                max_age=int(LOGIN_LIFETIME.total_seconds()),
                path="/auth/",
                secure=self.egov.public_url.startswith("https://"),
                httponly=True,
                samesite="Lax",
            )
        return response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        try:
            done = await self.egov.login.finish(
                q.get("state", "")[:MAX_TOKEN],
                q.get("code") or None,
                q.get("error") or None,
                locale_hint=self._locale_hint(request),
            )
        except LoginRefused as exc:
            # The reason and the account; the detail names a claim or a status, no value.
            logger.info("e-gov login of %s refused: %s", exc.account or "?", exc)
            return await self._refused(request, exc.reason)
        except Exception:
            logger.exception("e-gov login: the callback failed")
            return await self._page(request, None, TITLE_FAILED, BROKEN, status=500)
        logger.info("e-gov login of %s: FIN confirmed", done.account)
        if self.outbox is not None:
            self.outbox.wake()
        return await self._page(request, done.locale, TITLE_DONE, DONE)

    async def _refused(
        self, request: web.Request, reason: Refusal, *, status: int = 400
    ) -> web.Response:
        message = REFUSALS.get(reason, NOT_CONFIRMED)
        again = reason is not Refusal.PROVIDER
        return await self._page(request, None, TITLE_FAILED, message, again=again, status=status)

    async def _page(
        self,
        request: web.Request,
        locale: str | None,
        title: str,
        message: str,
        *,
        again: bool = False,
        status: int = 200,
    ) -> web.Response:
        locale = locale or self._locale_hint(request) or self.default_locale
        _ = translator(self.i18n, locale)
        paragraphs = [_(message)] + ([_(AGAIN)] if again else [])
        body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        link = await self._bot_url()
        if link:
            body += f'<p><a href="{html.escape(link)}">{html.escape(_(BACK))}</a></p>'
        text = PAGE.format(lang=locale, title=html.escape(_(title)), body=body)
        return web.Response(text=text, status=status, content_type="text/html", headers=_HEADERS)

    @staticmethod
    def _locale_hint(request: web.Request) -> str | None:
        """The language the bot spoke when it showed the link, else the browser's."""
        shown = request.cookies.get(LOCALE_COOKIE)
        if shown in LOCALES:
            return shown
        return accepted_locale(request.headers.get("Accept-Language", ""))

    async def _bot_url(self) -> str | None:
        if self.bot_url is None:
            return None
        try:
            return await self.bot_url()
        except Exception as exc:  # the page is worth more than the link
            logger.warning("e-gov login: no link to the bot (%s)", type(exc).__name__)
            return None


_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:17px/1.5 system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em}}
a{{display:inline-block;padding:.6em 1.2em;border-radius:.4em;background:#2481cc;color:#fff;
text-decoration:none}}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""
