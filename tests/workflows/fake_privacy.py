"""In-memory fake of the ``PersonalData`` role, on the tables of
:class:`tests.workflows.fakes.FakeDatabase`, with the same unit-of-work rules (the e-gov logins
and probe counters are not among them: their purge finds nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from workflows.identity import account_subject
from workflows.models import Application
from workflows.outbox.records import OutboxKind

APPLICANT_KINDS = (
    OutboxKind.NOTICE,
    OutboxKind.EMAIL,
    OutboxKind.CONFIRM_ASK,
    OutboxKind.RESTORE_OFFER,
)


class Table(Protocol):
    def get(self, key: Any) -> Any: ...
    def rows(self) -> list[Any]: ...
    def put(self, key: Any, value: Any) -> None: ...


class FakePersonalData:
    def __init__(self, profiles: Table, apps: Table, events: Table, outbox: Table) -> None:
        self._profiles = profiles
        self._apps = apps
        self._events = events
        self._outbox = outbox

    async def filed_by(self, telegram_user_id: int) -> Sequence[Application]:
        await asyncio.sleep(0)
        mine = [a for a in self._apps.rows() if a.telegram_user_id == telegram_user_id]
        return sorted(mine, key=lambda app: app.number, reverse=True)

    async def closed_before(self, moment: datetime, *, limit: int) -> Sequence[Application]:
        await asyncio.sleep(0)
        due = [
            a
            for a in self._apps.rows()
            if a.closed_at is not None
            and a.closed_at < moment
            and not a.status.is_open
            and a.anonymised_at is None
        ]
        return sorted(due, key=lambda app: (app.closed_at, app.number))[:limit]

    async def anonymise(self, apps: Sequence[Application], now: datetime) -> None:
        await asyncio.sleep(0)
        for app in apps:
            stored = self._apps.get(app.number)
            if stored is None:
                continue
            self._apps.put(
                app.number,
                replace(
                    stored,
                    fin=app.fin,
                    phone=app.phone,
                    email=app.email,
                    description=app.description,
                    notes=app.notes,
                    result_note=app.result_note,
                    address=app.address,
                    telegram_user_id=app.telegram_user_id,
                    chat_id=app.chat_id,
                    anonymised_at=app.anonymised_at or now,
                ),
            )
            actor = account_subject(app.telegram_user_id)
            history = self._events.get(app.number) or ()
            self._events.put(
                app.number,
                tuple(
                    replace(e, note=None, actor=actor if e.actor.startswith("tg:") else e.actor)
                    for e in history
                ),
            )
        numbers = {app.number for app in apps}
        for row in self._outbox.rows():
            item = row.item
            if item.application_number in numbers and item.kind in APPLICANT_KINDS:
                self._outbox.put(item.dedupe_key, replace(row, item=replace(item, recipient="")))

    async def erase_account(self, telegram_user_id: int) -> None:
        await asyncio.sleep(0)
        if self._profiles.get(telegram_user_id) is not None:
            self._profiles.put(telegram_user_id, None)

    async def purge_expired(self, now: datetime, *, probes_before: str) -> int:
        await asyncio.sleep(0)
        return 0
