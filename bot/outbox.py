"""Delivering the outbox: the Telegram and e-mail senders and the runner of the loops.

Each row is rendered when it is sent, from the application as it is then (so a card that
goes out late already shows who took it), in the staff locale for the staff group and in
the application's locale for the subscriber. Telegram's answers become the dispatcher's
typed errors: ``retry_after`` -> :class:`RetryLater` with that delay, 403 (blocked, kicked)
-> :class:`PermanentFailure`, ``migrate_to_chat_id`` -> :class:`ChatMigrated`, server errors,
timeouts and network trouble -> :class:`RetryLater` with backoff, any other 400 ->
:class:`PermanentFailure`. An edit that changes nothing counts as done.

:class:`OutboxRunner` runs two lanes (Telegram, e-mail: a slow SMTP server never holds back
a Telegram message) and the overdue-reminder loop as background tasks of the bot process.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import os
import random
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

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

from bot.config import Settings
from bot.staff.render import (
    Translate,
    card_keyboard,
    render_card,
    render_reminder,
    translator,
)
from dialogs.common import KIND_LABELS, N_, STATUS_LABELS, fmt_dt
from storage.outbox import SqlOutboxStore
from workflows.models import Application, ApplicationKind, ApplicationStatus, EventKind
from workflows.outbox import (
    EMAIL,
    TELEGRAM,
    CardRef,
    ChatMigrated,
    Claimed,
    Delivered,
    OutboxDispatcher,
    OutboxStore,
    PermanentFailure,
    RateLimiter,
    RetryLater,
)
from workflows.ports import (
    Clock,
    EmailMessage,
    Mailer,
    MailError,
    TransactionFactory,
)

if TYPE_CHECKING:
    from bot.app import Services

logger = logging.getLogger(__name__)
T = TypeVar("T")

EGOV_PORTAL = "https://www.e-gov.az"
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
_MSG_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
# aiogram parses every answer with ``Response[<the method's result type>]``, and pydantic
# keeps a parametrized generic model only while something references it: without these
# references each one is rebuilt (milliseconds of CPU) whenever the garbage collector has
# dropped it, many times a minute at Telegram's rate.
_RESPONSE_MODELS = tuple(
    Response[method.__returning__] for method in (SendMessage, EditMessageText, GetMe)
)


# --- Telegram errors -> delivery errors -------------------------------------------------------


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


# --- reading what to render --------------------------------------------------------------


class ApplicationReader:
    """The current application and the label of its reason, in one short transaction."""

    def __init__(self, transactions: TransactionFactory) -> None:
        self.transactions = transactions

    async def get(
        self, number: int | None, locale: str | None = None, *, reason: bool = True
    ) -> tuple[Application, str]:
        """``reason=False``: the caller shows no reason (its code stands in for the label)."""
        if number is None:
            raise PermanentFailure("the row names no application")
        async with self.transactions() as tx:
            app = await tx.applications.get(number)
            if app is None:
                raise PermanentFailure(f"application {number} does not exist")
            if not reason:
                return app, app.reason_code
            reasons = {r.code: r for r in await tx.reasons.active()}
        found = reasons.get(app.reason_code)
        label = found.label(locale or app.locale) if found else app.reason_code
        return app, label


class StatusLinks:
    """``https://t.me/<bot>?start=status_<number>``; the username is asked once."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def status(self, number: int) -> str:
        me = await telegram_call(self.bot.me())
        return f"https://t.me/{me.username}?start=status_{number}"


# --- Telegram -----------------------------------------------------------------------------


class TelegramSender:
    """Renders and sends ``staff_card``, ``staff_card_edit``, ``reminder`` and ``notice``."""

    def __init__(
        self,
        bot: Bot,
        store: OutboxStore,
        reader: ApplicationReader,
        i18n: I18n,
        links: StatusLinks,
        *,
        staff_locale: str,
        deadline_hours: float,
        throttle: Callable[[int], AbstractAsyncContextManager[Any]] | None = None,
    ) -> None:
        self.bot = bot
        self.store = store
        self.reader = reader
        self.i18n = i18n
        self.links = links
        self.staff_locale = staff_locale
        self.deadline_hours = deadline_hours
        self.throttle = throttle

    async def _call(self, chat_id: int, call: Callable[[], Awaitable[T]]) -> T:
        """Make the request inside the rate limiter's slot (it waits for the limits first)."""
        if self.throttle is None:
            return await telegram_call(call())
        async with self.throttle(chat_id):
            return await telegram_call(call())

    async def send(self, item: Claimed, chat_id: int | None) -> Delivered:
        if chat_id is None:
            raise PermanentFailure("no chat")
        handlers = {
            "staff_card": self._card,
            "staff_card_edit": self._card_edit,
            "reminder": self._reminder,
            "notice": self._notice,
        }
        handler = handlers.get(item.kind)
        if handler is None:
            raise PermanentFailure(f"unknown outbox kind {item.kind!r}")
        return await handler(item, chat_id)

    # staff group ------------------------------------------------------------------------
    def _staff(self) -> Translate:
        return translator(self.i18n, self.staff_locale)

    async def _post_card(self, app: Application, reason: str, chat_id: int) -> Delivered:
        _ = self._staff()
        text = render_card(app, reason, _, self.staff_locale)
        keyboard = card_keyboard(app, _)
        message = await self._call(
            chat_id,
            lambda: self.bot.send_message(
                chat_id,
                text,
                reply_markup=keyboard,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                request_timeout=REQUEST_TIMEOUT,
            ),
        )
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
        text = render_card(app, reason, _, self.staff_locale)
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
                render_reminder(app, self.deadline_hours, _, self.staff_locale),
                reply_parameters=reply,
                request_timeout=REQUEST_TIMEOUT,
            ),
        )
        return Delivered(chat_id=message.chat.id, message_id=message.message_id)

    # the subscriber -------------------------------------------------------------------------
    async def _notice(self, item: Claimed, chat_id: int) -> Delivered:
        app, _reason = await self.reader.get(item.application_number, reason=False)
        event = EventKind(str(item.payload.get("event") or app.status.value))
        _ = translator(self.i18n, app.locale)
        link = await self.links.status(app.number)
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text=_("Check the application's status"), url=link)]
            ]
        )
        text = render_notice(app, event, _)
        message: Message = await self._call(
            chat_id,
            lambda: self.bot.send_message(
                chat_id,
                text,
                reply_markup=keyboard,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                request_timeout=REQUEST_TIMEOUT,
            ),
        )
        return Delivered(chat_id=message.chat.id, message_id=message.message_id)


def render_notice(app: Application, event: EventKind, _: Translate) -> str:
    """The subscriber's Telegram message about a change of their application (HTML)."""
    esc = html.escape
    kind = _(KIND_LABELS[app.kind])
    if event is EventKind.TAKEN:
        head = _("🛠 Your application No. {number} has been taken into work.")
    elif event is EventKind.DONE:
        head = _("✅ Your application No. {number} has been completed.")
    elif event is EventKind.REJECTED:
        head = _("❌ Your application No. {number} has been rejected.")
    else:
        head = _("Your application No. {number} has changed.")
    lines = [f"<b>{head.format(number=app.number)}</b>", _("Type: {kind}").format(kind=esc(kind))]
    if event is EventKind.DONE:
        lines.append(_(what_was_done(app.kind, done=True)))
        if app.result_note:
            lines.append(_("Result: {note}").format(note=esc(app.result_note)))
    elif event is EventKind.REJECTED:
        lines.append(_(what_was_done(app.kind, done=False)))
        if app.result_note:
            lines.append(_("Reason for rejection: {note}").format(note=esc(app.result_note)))
    return "\n".join(lines)


def what_was_done(kind: ApplicationKind, *, done: bool) -> str:
    """The msgid saying what happened to the service (translate it where it is shown)."""
    if not done:
        return N_("The application was not carried out; the service has not been changed.")
    if kind is ApplicationKind.SUSPEND:
        return N_("The water supply and wastewater service has been temporarily suspended.")
    return N_("The water supply and wastewater service has been restored.")


# --- e-mail -------------------------------------------------------------------------------


class EmailSender:
    """Renders the completion e-mail in the application's language and hands it to the mailer."""

    def __init__(
        self, mailer: Mailer, reader: ApplicationReader, i18n: I18n, links: StatusLinks
    ) -> None:
        self.mailer = mailer
        self.reader = reader
        self.i18n = i18n
        self.links = links

    async def send(self, item: Claimed, chat_id: int | None) -> Delivered:
        if item.kind != "email":
            raise PermanentFailure(f"unknown outbox kind {item.kind!r}")
        app, reason = await self.reader.get(item.application_number)
        event = EventKind(str(item.payload.get("event") or app.status.value))
        link = await self.links.status(app.number)
        message = render_email(
            app,
            event,
            reason,
            translator(self.i18n, app.locale),
            link=link,
            to=item.recipient,
            message_id=email_message_id(item),
        )
        try:
            await self.mailer.send(message)
        except MailError as exc:
            if exc.permanent:
                raise PermanentFailure(f"mail: {exc}") from exc
            raise RetryLater(f"mail: {exc}") from exc
        return Delivered()


def email_message_id(item: Claimed) -> str:
    """Stable per outbox row, so a resend after a crash is recognisable as the same mail."""
    key = _MSG_ID_UNSAFE.sub(".", item.dedupe_key).strip(".")
    return f"azersu.outbox.{item.id}.{key}"


def render_email(
    app: Application,
    event: EventKind,
    reason: str,
    _: Translate,
    *,
    link: str,
    to: str,
    message_id: str,
) -> EmailMessage:
    """Subject, plain text and HTML of the completion (or rejection) e-mail."""
    done = event is EventKind.DONE
    if done:
        subject = _("Application No. {number} has been completed").format(number=app.number)
    else:
        subject = _("Application No. {number} has been rejected").format(number=app.number)
    status = _(STATUS_LABELS[ApplicationStatus.DONE if done else ApplicationStatus.REJECTED])
    # html.escape leaves the braces alone, so the escaped template still formats.
    note_line = _("Result: {note}") if done else _("Reason for rejection: {note}")
    when = fmt_dt(app.closed_at or app.updated_at, app.locale)
    facts = [
        _("Type: {kind}").format(kind=_(KIND_LABELS[app.kind])),
        _("Subscriber code: {code}").format(code=app.subscriber_code),
        _("Address: {address}").format(address=app.address),
        _("Reason: {reason}").format(reason=reason),
        _("Status: {status}").format(status=status),
        _("Date: {time}").format(time=when),
    ]
    what = _(what_was_done(app.kind, done=done))
    greeting = _("Dear subscriber,")
    headline = (
        _("Your application No. {number} has been completed.")
        if done
        else _("Your application No. {number} has been rejected.")
    ).format(number=app.number)
    how = _("How to check the status of your application:")
    in_telegram = _("in our Telegram bot: {link}")
    on_portal = _("on the {portal} portal, in the section “Check the application's status”.")
    thanks = _("Thank you for using our service.")
    signature = _("“Azərsu” OJSC")
    note = app.result_note or "—"

    text = "\n".join(
        [
            greeting,
            "",
            headline,
            what,
            note_line.format(note=note),
            "",
            *facts,
            "",
            how,
            "- " + in_telegram.format(link=link),
            "- " + on_portal.format(portal="www.e-gov.az"),
            "",
            thanks,
            signature,
            "",
        ]
    )

    def e(value: str) -> str:
        return html.escape(value, quote=True)

    portal = f'<a href="{EGOV_PORTAL}">www.e-gov.az</a>'
    bot_link = f'<a href="{e(link)}">{e(link)}</a>'
    body = "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{e(app.locale)}"><head><meta charset="utf-8">'
            f"<title>{e(subject)}</title></head><body>",
            f"<p>{e(greeting)}</p>",
            f"<p><b>{e(headline)}</b><br>{e(what)}</p>",
            f"<p>{e(note_line).format(note=e(note))}</p>",
            "<p>" + "<br>".join(e(fact) for fact in facts) + "</p>",
            f"<p>{e(how)}</p>",
            "<ul>",
            f"<li>{e(in_telegram).format(link=bot_link)}</li>",
            f"<li>{e(on_portal).format(portal=portal)}</li>",
            "</ul>",
            f"<p>{e(thanks)}<br>{e(signature)}</p>",
            "</body></html>",
            "",
        ]
    )
    return EmailMessage(to=to, subject=subject, text=text, html=body, message_id=message_id)


# --- the runner ------------------------------------------------------------------------------


def default_owner() -> str:
    """A name for this process in the leases: host, pid and a random part."""
    return f"{socket.gethostname()[:24]}:{os.getpid()}:{secrets.token_hex(3)}"


class OutboxRunner:
    """The outbox lanes and the overdue-reminder loop, as background tasks.

    ``start()`` on startup, ``stop()`` on shutdown (each lane finishes the rows in hand),
    ``wake()`` right after a commit that enqueued something, so it goes out at once instead
    of at the next poll. ``clock``, ``sleep``, ``monotonic`` and ``rng`` are for tests.
    """

    def __init__(
        self,
        bot: Bot,
        services: Services,
        settings: Settings,
        i18n: I18n,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        owner: str | None = None,
        poll_interval: float = 0.5,
        reminder_every_s: float = 300.0,
        lease: timedelta = timedelta(minutes=5),
        mailer: Mailer | None = None,
    ) -> None:
        self.services = services
        self.settings = settings
        self.poll_interval = poll_interval
        self.reminder_every_s = reminder_every_s
        self.store = SqlOutboxStore(services.engine)
        clock = clock or services.clock
        owner = owner or default_owner()
        reader = ApplicationReader(services.transactions)
        links = StatusLinks(bot)
        self.limiter = RateLimiter(
            settings.outbox_per_chat_per_second,
            settings.outbox_per_group_per_minute,
            settings.outbox_global_per_second,
            margin_s=RATE_MARGIN_S,
            now=monotonic,
            sleep=sleep,
        )
        self.telegram = OutboxDispatcher(
            store=self.store,
            sender=TelegramSender(
                bot,
                self.store,
                reader,
                i18n,
                links,
                staff_locale=settings.staff_locale,
                deadline_hours=settings.work_order_deadline_hours,
                throttle=self.limiter.slot,
            ),
            channel=TELEGRAM,
            owner=f"{owner}/tg",
            clock=clock,
            limiter=self.limiter,
            lease=lease,
            batch_size=TELEGRAM_IN_FLIGHT,
            concurrency=TELEGRAM_IN_FLIGHT,
            sleep=sleep,
            rng=rng or random.Random(),
        )
        self.email = OutboxDispatcher(
            store=self.store,
            sender=EmailSender(mailer or services.mailer, reader, i18n, links),
            channel=EMAIL,
            owner=f"{owner}/mail",
            clock=clock,
            lease=lease,
            concurrency=2,
            sleep=sleep,
            rng=rng or random.Random(),
        )
        self.lanes = (self.telegram, self.email)
        self._stop = asyncio.Event()
        self._wakes = {lane.channel: asyncio.Event() for lane in self.lanes}
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        """Look at the outbox now (call it after a commit that enqueued messages)."""
        for event in self._wakes.values():
            event.set()

    async def start(self) -> None:
        if self._tasks:
            return
        self._stop.clear()
        for lane in self.lanes:
            task = asyncio.create_task(
                lane.run(self._stop, self._wakes[lane.channel], poll_interval=self.poll_interval),
                name=f"outbox-{lane.channel}",
            )
            self._tasks.append(task)
        self._tasks.append(asyncio.create_task(self._reminders(), name="outbox-reminders"))
        logger.info("outbox started")

    async def stop(self, timeout: float = 15.0) -> None:
        """Stop after the sends in hand; cancel what is still running after ``timeout``."""
        if not self._tasks:
            return
        self._stop.set()
        self.wake()
        done, pending = await asyncio.wait(self._tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                logger.error("outbox task %s ended with %r", task.get_name(), task.exception())
        self._tasks.clear()
        logger.info("outbox stopped")

    async def flush(self, *, rounds: int = 100) -> int:
        """Deliver everything due now, in this task (tests, tools); returns rows handled."""
        total = 0
        for _round in range(rounds):
            handled = 0
            for lane in self.lanes:
                handled += await lane.run_once()
            total += handled
            if not handled:
                break
        return total

    async def remind_overdue(self) -> list[int]:
        """Queue the reminders that are due now; returns the application numbers."""
        numbers = await self.services.work_orders.remind_overdue(
            timedelta(hours=self.settings.work_order_deadline_hours),
            timedelta(hours=self.settings.reminder_interval_hours),
        )
        if numbers:
            logger.info("reminding %d overdue work orders", len(numbers))
            self.wake()
        return numbers

    async def _reminders(self) -> None:
        while not self._stop.is_set():
            try:
                await self.remind_overdue()
            except Exception:
                logger.exception("overdue reminders failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.reminder_every_s)
