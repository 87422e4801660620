"""The Telegram channel: the Bot API's errors as delivery errors, and the sender.

Each row is rendered when it is sent, from the application as it is then (so a card that
goes out late already shows who took it), in the staff locale for the staff group and in
the application's locale for the subscriber. Telegram's answers become the dispatcher's
typed errors: ``retry_after`` -> :class:`RetryLater` with that delay, 403 (blocked, kicked)
-> :class:`PermanentFailure`, ``migrate_to_chat_id`` -> :class:`ChatMigrated`, server errors,
timeouts and network trouble -> :class:`RetryLater` with backoff, any other 400 ->
:class:`PermanentFailure`. An edit that changes nothing counts as done.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    AiogramError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import EditMessageText, GetMe, SendMessage
from aiogram.methods.base import Response
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from aiogram.utils.i18n import I18n

from bot.outbox.citizen_rows import send_confirm_ask, send_staff_reopened
from bot.outbox.notices import (
    DEFAULT_PHONE,
    EGOV_VERIFIED,
    render_notice,
    render_planned,
    render_probe_warning,
    sent_after_withdrawal,
)
from bot.outbox.reading import ApplicationReader
from bot.outbox.restoration_rows import send_restore_offer
from bot.outbox.runner import Lane
from bot.screen import LatestMessages
from bot.staff.render import card_keyboard, render_card, render_reminder
from dialogs.wording import Translate, translator
from workflows.models import Application, EventKind
from workflows.outbox.limits import RateLimiter
from workflows.outbox.ports import OutboxStore
from workflows.outbox.records import (
    CardRef,
    Channel,
    ChatMigrated,
    Claimed,
    Delivered,
    OutboxKind,
    PermanentFailure,
    RetryLater,
)
from workflows.restoration import Restorations

logger = logging.getLogger(__name__)
T = TypeVar("T")

REQUEST_TIMEOUT = 30
# How long a card edit waits for the card itself before posting a fresh card instead.
CARD_WAIT_ATTEMPTS = 3
CARD_WAIT_S = 2.0
# Telegram rows in delivery at once: most of them wait in the rate limiter, so the overall
# window never waits for a row to be read and rendered.
TELEGRAM_IN_FLIGHT = 20
# A request counts in the windows from its end (see RateLimiter.slot); this margin on top
# only covers float rounding and a server clock a hair behind ours.
RATE_MARGIN_S = 0.002
_NOT_MODIFIED = "message is not modified"
_EDIT_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")
# aiogram parses every answer with ``Response[<the method's result type>]``, and pydantic
# keeps a parametrized generic model only while something references it: without these
# references each one is rebuilt (milliseconds of CPU) whenever the garbage collector has
# dropped it, many times a minute at Telegram's rate.
_RESPONSE_MODELS = tuple(
    Response[method.__returning__] for method in (SendMessage, EditMessageText, GetMe)
)


async def telegram_call(call: Awaitable[T]) -> T:
    """Await a Bot API call and translate its failure for the dispatcher."""
    try:
        return await call
    except TelegramRetryAfter as exc:
        raise RetryLater(
            f"flood control: {exc.message}", float(exc.retry_after), flood_control=True
        ) from exc
    except TelegramMigrateToChat as exc:
        raise ChatMigrated(exc.migrate_to_chat_id) from exc
    except TelegramForbiddenError as exc:
        raise PermanentFailure(f"forbidden: {exc.message}") from exc
    except TelegramEntityTooLarge as exc:
        raise PermanentFailure(f"too large: {exc.message}") from exc
    except (TelegramNetworkError, TelegramServerError) as exc:
        raise RetryLater(f"{type(exc).__name__}: {exc.message}") from exc
    except TelegramBadRequest as exc:
        raise PermanentFailure(f"bad request: {exc.message}") from exc
    except TelegramAPIError as exc:
        # 401/404/409: the bot's configuration, not this message, is wrong; keep it.
        raise RetryLater(f"{type(exc).__name__}: {exc.message}") from exc
    except (AiogramError, TimeoutError, OSError) as exc:
        raise RetryLater(f"{type(exc).__name__}: {exc}") from exc


def _is(exc: TelegramBadRequest, *needles: str) -> bool:
    text = exc.message.lower()
    return any(needle in text for needle in needles)


class StatusLinks:
    """``https://t.me/<bot>?start=status_<number>``; the username is asked once."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def status(self, number: int) -> str:
        return f"{await self.bot_link()}?start=status_{number}"

    async def bot_link(self) -> str:
        """``https://t.me/<bot>``: the bot's chat, where a new application starts."""
        me = await telegram_call(self.bot.me())
        return f"https://t.me/{me.username}"


@dataclass
class TelegramSender:
    """Renders and sends ``staff_card``, ``staff_card_edit``, ``reminder``, ``notice``,
    ``egov_verified``, the citizen's rows (``bot.outbox.citizen_rows``), the restoration
    offer (``bot.outbox.restoration_rows``, checked against ``restorations`` first) and
    ``probe_warning`` (to the support chat, in the staff locale).

    Every request is made inside ``limiter``'s slot for its chat, the limiter of the lane.
    """

    bot: Bot
    store: OutboxStore
    reader: ApplicationReader
    i18n: I18n
    links: StatusLinks
    _: KW_ONLY
    staff_locale: str
    deadline_hours: float
    limiter: RateLimiter
    # Where a notice is recorded as the newest message of its chat (``bot.screen``).
    latest: LatestMessages | None = None
    # Whom a closing notice tells the subscriber to call (MAIL_CONTACT_PHONE, as the e-mail).
    contact_phone: str = DEFAULT_PHONE
    # Whether a restoration offer is still wanted when its row is sent.
    restorations: Restorations | None = None
    _renderers: dict[str, Callable[[Claimed, int], Awaitable[Delivered]]] = field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        self._renderers = {
            OutboxKind.STAFF_CARD: self._card,
            OutboxKind.STAFF_CARD_EDIT: self._card_edit,
            OutboxKind.REMINDER: self._reminder,
            OutboxKind.NOTICE: self._notice,
            OutboxKind.PROBE_WARNING: self._probe_warning,
            OutboxKind.EGOV_VERIFIED: self._egov_verified,
            OutboxKind.CONFIRM_ASK: lambda item, chat: send_confirm_ask(self, item, chat),
            OutboxKind.STAFF_REOPENED: lambda item, chat: send_staff_reopened(self, item, chat),
            OutboxKind.RESTORE_OFFER: lambda item, chat: send_restore_offer(self, item, chat),
        }

    def lane(self) -> Lane:
        """Telegram's lane: rate-limited, with many rows in flight (most wait in the limiter,
        so the overall window never waits for a row to be read and rendered), and sent by
        one worker at a time (the limits are the bot's: ``workflows.outbox.leader``)."""
        return Lane(
            Channel.TELEGRAM,
            self,
            tag="tg",
            limiter=self.limiter,
            concurrency=TELEGRAM_IN_FLIGHT,
            batch_size=TELEGRAM_IN_FLIGHT,
            exclusive=True,
        )

    async def _call(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        """Make the request inside the rate limiter's slot (it waits for the limits first)."""
        async with self.limiter.slot(chat_id):
            return await telegram_call(call())

    async def _send(self, chat_id: int, text: str, keyboard: InlineKeyboardMarkup) -> Message:
        """A message with buttons and no link preview (a card, a notice)."""
        return await self._call(
            chat_id,
            lambda: self.bot.send_message(
                chat_id,
                text,
                reply_markup=keyboard,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                request_timeout=REQUEST_TIMEOUT,
            ),
        )

    async def send(self, item: Claimed, chat_id: int | None) -> Delivered:
        if chat_id is None:
            raise PermanentFailure("no chat")
        handler = self._renderers.get(item.kind)
        if handler is None:
            raise PermanentFailure(f"unknown outbox kind {item.kind!r}")
        return await handler(item, chat_id)

    # staff group ------------------------------------------------------------------------
    def _staff(self) -> Translate:
        return translator(self.i18n, self.staff_locale)

    async def _post_card(self, app: Application, reason: str, chat_id: int) -> Delivered:
        _ = self._staff()
        text = render_card(app, reason, _, locale=self.staff_locale)
        message = await self._send(chat_id, text, card_keyboard(app, _))
        return Delivered(chat_id=message.chat.id, message_id=message.message_id, card=True)

    async def _card(self, item: Claimed, chat_id: int) -> Delivered:
        app, reason = await self.reader.get(item.application_number, self.staff_locale)
        return await self._post_card(app, reason, chat_id)

    async def _card_edit(self, item: Claimed, chat_id: int) -> Delivered:
        app, reason = await self.reader.get(item.application_number, self.staff_locale)
        card = await self.store.card_of(app.number)
        if card is None:
            if item.attempts < CARD_WAIT_ATTEMPTS:
                raise RetryLater("the card is not posted yet", CARD_WAIT_S)
            return await self._post_card(app, reason, chat_id)
        if card.chat_id != chat_id:
            # The group was upgraded: the old message cannot be edited in the new chat.
            return await self._post_card(app, reason, chat_id)
        _ = self._staff()
        text = render_card(app, reason, _, locale=self.staff_locale)
        outcome = await self._call(chat_id, lambda: self._edit(card, text, app, _))
        if outcome == "gone":
            return await self._post_card(app, reason, chat_id)
        return Delivered(chat_id=card.chat_id, message_id=card.message_id)

    async def _edit(self, card: CardRef, text: str, app: Application, _: Translate) -> str:
        """``edited``, ``same`` (Telegram: not modified) or ``gone`` (cannot be edited)."""
        try:
            await self.bot.edit_message_text(
                text=text,
                chat_id=card.chat_id,
                message_id=card.message_id,
                reply_markup=card_keyboard(app, _),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                request_timeout=REQUEST_TIMEOUT,
            )
        except TelegramBadRequest as exc:
            if _is(exc, _NOT_MODIFIED):
                return "same"
            if _is(exc, *_EDIT_GONE):
                logger.info("card of %s cannot be edited (%s); posting it again", app.number, exc)
                return "gone"
            raise
        return "edited"

    async def _reminder(self, item: Claimed, chat_id: int) -> Delivered:
        app, _reason = await self.reader.get(
            item.application_number, self.staff_locale, reason=False
        )
        if not app.status.is_open:
            return Delivered()  # closed since it was queued: nothing to remind of
        card = await self.store.card_of(app.number)
        reply = None
        if card is not None and card.chat_id == chat_id:
            reply = ReplyParameters(message_id=card.message_id, allow_sending_without_reply=True)
        _ = self._staff()
        message = await self._call(
            chat_id,
            lambda: self.bot.send_message(
                chat_id,
                render_reminder(app, self.deadline_hours, _),
                reply_parameters=reply,
                request_timeout=REQUEST_TIMEOUT,
            ),
        )
        return Delivered(chat_id=message.chat.id, message_id=message.message_id)

    # the subscriber -------------------------------------------------------------------------
    async def _notice(self, item: Claimed, chat_id: int) -> Delivered:
        app, _reason = await self.reader.get(item.application_number, reason=False)
        if sent_after_withdrawal(app, item.payload.get("event")):
            return Delivered()  # withdrawn since it was queued: nothing more is said
        event = EventKind(str(item.payload.get("event") or app.status.value))
        _ = translator(self.i18n, app.locale)
        link = await self.links.status(app.number)
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=_("Check the application's status"), url=link)]
            ]
        )
        text = render_notice(app, event, _, phone=self.contact_phone)
        if event is EventKind.PLANNED:  # the date it was sent for, even if changed since
            text = render_planned(app, item.payload, _, app.locale) or text
        message = await self._send(chat_id, text, keyboard)
        if self.latest is not None:  # the dialog's window above it is not edited any more
            await self.latest.sent(self.bot.id, message)
        return Delivered(chat_id=message.chat.id, message_id=message.message_id)

    async def _egov_verified(self, item: Claimed, chat_id: int) -> Delivered:
        """The account's FIN is confirmed (the e-gov login), in the account's locale."""
        _ = translator(self.i18n, str(item.payload.get("locale") or self.i18n.default_locale))
        message = await self._call(
            chat_id,
            lambda: self.bot.send_message(
                chat_id, _(EGOV_VERIFIED), request_timeout=REQUEST_TIMEOUT
            ),
        )
        return Delivered(chat_id=message.chat.id, message_id=message.message_id)

    # the support chat ---------------------------------------------------------------------
    async def _probe_warning(self, item: Claimed, chat_id: int) -> Delivered:
        text = render_probe_warning(item.payload, self._staff())
        message = await self._call(
            chat_id,
            lambda: self.bot.send_message(chat_id, text, request_timeout=REQUEST_TIMEOUT),
        )
        return Delivered(chat_id=message.chat.id, message_id=message.message_id)
