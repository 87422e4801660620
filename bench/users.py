"""Simulated subscribers: real Telegram updates fed to a dispatcher, one chat each.

A :class:`SimUser` does what a person does in the Telegram app: it types text, shares its
own contact and presses inline buttons. It reads the bot's current window of its chat from
the fake session and finds a button by its aiogram-dialog *widget id* in ``callback_data``
(``"{intent_id}\\x1d{widget_id}"``, ``...:{item_id}`` for a Select), never by its label, so
translations do not matter. Every step checks that the window it needs is on screen; a user
whose journey goes anywhere else fails with the window it saw.

The journey (:data:`JOURNEY`, identical for the product and the floor):

    /start -> FIN -> [new_app] -> code -> [reason:*] -> contact -> e-mail -> description
    -> [skip_notes] -> [confirm] -> the window with [to_status] and the number

Each ``dp.feed_update`` call is timed (wall clock) into the run's :class:`Meter`.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NoReturn

from aiogram import Bot, Dispatcher
from aiogram.types import (
    CallbackQuery,
    Chat,
    Contact,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    Update,
    User,
)

from bench.fakes import FakeTelegram

CB_SEP = "\x1d"
_NUMBER = re.compile(r"(\d+)\D*$")
_FIN_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

# The steps of the whole journey, in order, and the prefix a parked user stops after.
JOURNEY = (
    "start",
    "fin",
    "new_app",
    "code",
    "reason",
    "phone",
    "email",
    "description",
    "skip_notes",
    "confirm",
)
PARK_AT_EMAIL = JOURNEY[: JOURNEY.index("email")]


class JourneyFailed(Exception):
    """A simulated user did not see the window its next step needs."""

    def __init__(self, user_id: int, step: str, seen: str) -> None:
        super().__init__(f"user {user_id} at {step!r}: {seen[:200]!r}")
        self.user_id = user_id
        self.step = step
        self.seen = seen


def fin_of(index: int) -> str:
    """A distinct valid FIN (``[0-9A-HJ-NP-Z]{7}``) for every index below 34**6."""
    digits = []
    n = index
    for _ in range(6):
        n, r = divmod(n, len(_FIN_ALPHABET))
        digits.append(_FIN_ALPHABET[r])
    return "5" + "".join(reversed(digits))


def code_of(index: int) -> str:
    """The subscriber code reserved for user ``index`` (10 digits, passes ``^\\d{6,15}$``)."""
    return str(5_000_000_000 + index)


def phone_of(index: int) -> str:
    return f"+99450{1_000_000 + index % 9_000_000:07d}"


@dataclass
class Meter:
    """What the users of one run measured: one latency per update (seconds) if asked."""

    keep_latencies: bool = True
    updates: int = 0
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)

    def record(self, seconds: float) -> None:
        self.updates += 1
        if self.keep_latencies:
            self.latencies.append(seconds)


class SimUser:
    """One Telegram user in a private chat with the bot."""

    _update_ids = itertools.count(1)
    _message_ids = itertools.count(1)

    def __init__(
        self, dp: Dispatcher, bot: Bot, session: FakeTelegram, index: int, meter: Meter
    ) -> None:
        self.dp, self.bot, self.session, self.meter = dp, bot, session, meter
        self.index = index
        self.user_id = 10_000_000 + index
        self.user = User(id=self.user_id, is_bot=False, first_name="Bench", language_code="az")
        self.chat = Chat(id=self.user_id, type="private")
        self.number: int | None = None

    # --- what a person does -------------------------------------------------------------------
    async def _feed(self, update: Update) -> None:
        started = time.perf_counter()
        await self.dp.feed_update(self.bot, update)
        self.meter.record(time.perf_counter() - started)

    def _message(self, **kwargs: Any) -> Message:
        return Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=self.chat,
            from_user=self.user,
            **kwargs,
        )

    async def send(self, text: str) -> None:
        await self._feed(
            Update(update_id=next(self._update_ids), message=self._message(text=text))
        )

    async def share_contact(self, phone: str) -> None:
        markup = self._markup()
        if not isinstance(markup, ReplyKeyboardMarkup) or not any(
            button.request_contact for row in markup.keyboard for button in row
        ):
            self._fail("phone")
        contact = Contact(phone_number=phone, first_name="Bench", user_id=self.user_id)
        message = self._message(contact=contact)
        await self._feed(Update(update_id=next(self._update_ids), message=message))

    async def press(self, widget_id: str, step: str | None = None) -> None:
        """Press the first inline button of ``widget_id`` (``"reason:"``: any Select item)."""
        shown = self.session.shown.get(self.user_id)
        data = self._find(widget_id)
        if shown is None or data is None:
            self._fail(step or widget_id)
        callback = CallbackQuery(
            id=str(next(self._update_ids)),
            from_user=self.user,
            chat_instance=str(self.user_id),
            message=shown.message,
            data=data,
        )
        await self._feed(Update(update_id=next(self._update_ids), callback_query=callback))

    # --- reading the screen -------------------------------------------------------------------
    def _markup(self) -> Any:
        shown = self.session.shown.get(self.user_id)
        return shown.markup if shown is not None else None

    def _find(self, widget_id: str) -> str | None:
        markup = self._markup()
        if not isinstance(markup, InlineKeyboardMarkup):
            return None
        for row in markup.inline_keyboard:
            for button in row:
                data = button.callback_data or ""
                widget = data.split(CB_SEP, 1)[-1]
                if widget == widget_id or (
                    widget_id.endswith(":") and widget.startswith(widget_id)
                ):
                    return data
        return None

    def has(self, widget_id: str) -> bool:
        return self._find(widget_id) is not None

    def at_email(self) -> bool:
        """The window after the phone: inline "Back", no reason list, no reply keyboard."""
        return self.has("back") and not self.has("reason:") and not self.has("skip_notes")

    def _fail(self, step: str) -> NoReturn:
        shown = self.session.shown.get(self.user_id)
        raise JourneyFailed(self.user_id, step, shown.message.text or "" if shown else "<none>")

    def _expect(self, widget_id: str, step: str) -> None:
        if not self.has(widget_id):
            self._fail(step)

    # --- the journey ---------------------------------------------------------------------------
    async def step(self, name: str) -> None:
        """One step of :data:`JOURNEY` (exactly one update)."""
        if name == "start":
            await self.send("/start")
        elif name == "fin":
            self._expect("to_lang", name)  # the FIN window (language switch, no menu yet)
            if self.has("new_app"):
                self._fail(name)
            await self.send(fin_of(self.index))
        elif name == "new_app":
            await self.press("new_app", name)
        elif name == "code":
            self._expect("back", name)
            await self.send(code_of(self.index))
        elif name == "reason":
            await self.press("reason:", name)
        elif name == "phone":
            await self.share_contact(phone_of(self.index))
        elif name == "email":
            self._expect("back", name)
            await self.send(f"user{self.index}@example.com")
        elif name == "description":
            self._expect("back", name)
            await self.send("Leaving for the summer; please suspend from the 1st of June.")
        elif name == "skip_notes":
            await self.press("skip_notes", name)
        elif name == "confirm":
            await self.press("confirm", name)
            self.number = self._registered_number()
        else:  # pragma: no cover - JOURNEY lists every name
            raise ValueError(name)

    def _registered_number(self) -> int:
        shown = self.session.shown.get(self.user_id)
        if shown is None or not self.has("to_status"):
            self._fail("registered")
        found = _NUMBER.search(shown.message.text or "")
        if found is None:
            self._fail("registered")
        return int(found.group(1))

    async def run(self, steps: tuple[str, ...] = JOURNEY) -> None:
        try:
            for name in steps:
                await self.step(name)
        except JourneyFailed as exc:
            self.meter.failures.append(str(exc))
            return
        except Exception as exc:  # a crash in the bot is a failed user, with its reason
            self.meter.failures.append(f"user {self.user_id}: {type(exc).__name__}: {exc}")
            return
        if self.number is not None:
            self.meter.numbers.append(self.number)
