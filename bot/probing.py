"""The limits against probing, wired: the counters in Redis when dialog state is there,
else in the bot's database; the warning to the support chat when there is one."""

from __future__ import annotations

from typing import Protocol

from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.adapters.redis_probes import RedisProbeCounters
from bot.config import Settings
from storage.probes import SqlProbeCounters
from workflows.ports import Clock, TransactionFactory
from workflows.probing import OutboxProbeAlarm, ProbeCounters, ProbeLimits, Probing


def redis_prefix(storage: BaseStorage) -> str:
    """The prefix of the dialog state's keys (``fsm``): the probing counters and the
    throttle's windows go under it too, one prefix per deployment (and per test run)."""
    return getattr(getattr(storage, "key_builder", None), "prefix", "fsm")


class Wiring(Protocol):
    """What the probing needs of the process's services (``bot.app.Services``)."""

    engine: AsyncEngine
    transactions: TransactionFactory
    clock: Clock


def build_probing(settings: Settings, storage: BaseStorage, services: Wiring) -> Probing:
    counters: ProbeCounters
    if isinstance(storage, RedisStorage):
        counters = RedisProbeCounters(storage.redis, prefix=f"{redis_prefix(storage)}:probe")
    else:
        counters = SqlProbeCounters(services.engine)
    alarm = None
    if settings.support_chat_id:
        alarm = OutboxProbeAlarm(services.transactions, services.clock, settings.support_chat_id)
    limits = ProbeLimits(
        codes_per_day=settings.probe_codes_per_day,
        fins_per_day=settings.probe_fins_per_day,
        accounts_per_code=settings.probe_accounts_per_code,
    )
    return Probing(counters, services.clock, limits, alarm)
