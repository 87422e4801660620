"""Limits against probing: how many subscriber codes and FINs one account may try a day.

Someone guessing codes (to learn who lives where, or which code has no owner FIN on
record) types many different codes; someone guessing FINs, many different FINs. So each
Telegram account may try at most ``codes_per_day`` distinct subscriber codes and
``fins_per_day`` distinct FINs a day (the Baku day, from the clock); past that a new value
is refused with :class:`~workflows.errors.ProbeLimitReached` until tomorrow. A value this
account already tried today is always allowed again: typing one's own code twice, or
"I have paid, check again", is not probing. A code tried by more than
``accounts_per_code`` accounts in a day is reported once that day (:class:`ProbeAlarm`).

The counters hold hashes only (:func:`value_hash`), never a code or a FIN in clear. They
live behind :class:`ProbeCounters`: in the bot's database (``storage.probes``) or in Redis
(``bot.adapters.redis_probes``), shared by every worker. Two updates of one account are
never handled at once (aiogram's event isolation), so the check-then-add below does not
race with itself; two accounts racing for the same code's warning are settled by
``first_warning``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from workflows.clock import BAKU
from workflows.errors import ProbeLimitReached
from workflows.outbox.records import Channel, OutboxKind
from workflows.ports import Clock, OutboxItem, TransactionFactory

logger = logging.getLogger(__name__)

# The hex digits of sha256 kept: 128 bits, no collision among a day's values.
HASH_LENGTH = 32
# How many days the counters keep: today and yesterday (a day's limits need only today).
KEEP_DAYS = 2


class ProbeKind(StrEnum):
    CODE = "code"
    FIN = "fin"


def value_hash(value: str) -> str:
    """What the counters store instead of ``value``: sha256 hex, truncated."""
    return hashlib.sha256(value.encode()).hexdigest()[:HASH_LENGTH]


def baku_day(moment: datetime) -> str:
    """The utility's day of ``moment``, ``YYYY-MM-DD``: the limits start again at midnight."""
    return moment.astimezone(BAKU).date().isoformat()


class ProbeCounters(Protocol):
    """Who tried what on which day; the values are :func:`value_hash` hashes."""

    async def tried(self, day: str, account: int, kind: ProbeKind) -> frozenset[str]:
        """The values of ``kind`` the account tried on ``day``."""

    async def add(self, day: str, account: int, kind: ProbeKind, value: str) -> None:
        """Record that the account tried ``value`` (nothing changes if it had)."""

    async def accounts(self, day: str, code: str) -> int:
        """How many distinct accounts tried the subscriber code ``code`` on ``day``."""

    async def first_warning(self, day: str, code: str) -> bool:
        """Mark the code's warning as given on ``day``; True only for the first mark."""

    async def purge(self, before_day: str) -> None:
        """Forget the days before ``before_day`` (a no-op where the records expire)."""


class ProbeAlarm(Protocol):
    async def code_probed(self, code: str, accounts: int, account: int) -> None:
        """Tell support that ``accounts`` accounts tried ``code`` today, ``account`` last."""


@dataclass(frozen=True, slots=True)
class ProbeLimits:
    codes_per_day: int = 10
    fins_per_day: int = 3
    accounts_per_code: int = 3

    def __post_init__(self) -> None:
        if min(self.codes_per_day, self.fins_per_day, self.accounts_per_code) < 1:
            raise ValueError("every probing limit must be at least 1")


@dataclass(frozen=True, slots=True)
class Verdict:
    """An allowed value: ``new`` if the account had not tried it today; ``warn`` if this
    attempt made the code one that too many accounts tried (reported once a day)."""

    new: bool
    warn: bool = False


class Probing:
    """The per-account daily limits; every call is allowed or raises ProbeLimitReached."""

    def __init__(
        self,
        counters: ProbeCounters,
        clock: Clock,
        limits: ProbeLimits | None = None,
        alarm: ProbeAlarm | None = None,
    ) -> None:
        self.counters = counters
        self.clock = clock
        self.limits = limits or ProbeLimits()
        self.alarm = alarm
        self._purged: str | None = None

    async def try_code(self, account: int, code: str) -> Verdict:
        day = await self._today()
        hashed = value_hash(code)
        verdict = await self._try(day, account, ProbeKind.CODE, hashed)
        if not verdict.new:
            return verdict
        accounts = await self.counters.accounts(day, hashed)
        if accounts <= self.limits.accounts_per_code:
            return verdict
        if not await self.counters.first_warning(day, hashed):
            return verdict
        logger.warning(
            "probing: code #%s tried by %d accounts today, the last %s", hashed, accounts, account
        )
        if self.alarm is not None:
            await self.alarm.code_probed(code, accounts, account)
        return Verdict(new=True, warn=True)

    async def try_fin(self, account: int, fin: str) -> Verdict:
        day = await self._today()
        return await self._try(day, account, ProbeKind.FIN, value_hash(fin))

    async def _try(self, day: str, account: int, kind: ProbeKind, hashed: str) -> Verdict:
        tried = await self.counters.tried(day, account, kind)
        if hashed in tried:
            return Verdict(new=False)
        limit = self.limits.codes_per_day if kind is ProbeKind.CODE else self.limits.fins_per_day
        if len(tried) >= limit:
            logger.info("probing: account %s refused a new %s (%d today)", account, kind, limit)
            raise ProbeLimitReached(kind.value)
        await self.counters.add(day, account, kind, hashed)
        return Verdict(new=True)

    async def _today(self) -> str:
        """Today's Baku day; the first call of each day in this process purges old days."""
        now = self.clock.now()
        day = baku_day(now)
        if self._purged != day:
            self._purged = day
            await self.counters.purge(baku_day(now - timedelta(days=KEEP_DAYS - 1)))
        return day


class OutboxProbeAlarm:
    """The warning as a ``probe_warning`` outbox row for the support chat, at most one per
    code and Baku day (its dedupe key), sent by the outbox like every other message."""

    def __init__(self, transactions: TransactionFactory, clock: Clock, chat_id: int) -> None:
        self.transactions = transactions
        self.clock = clock
        self.chat_id = chat_id

    async def code_probed(self, code: str, accounts: int, account: int) -> None:
        now = self.clock.now()
        item = OutboxItem(
            kind=OutboxKind.PROBE_WARNING,
            channel=Channel.TELEGRAM,
            recipient=str(self.chat_id),
            dedupe_key=f"probe:{baku_day(now)}:{value_hash(code)}",
            payload={"code": code, "accounts": accounts, "account": account},
        )
        async with self.transactions() as uow:
            await uow.outbox.enqueue(item, now)
            await uow.commit()
