"""In-memory fakes of the role ports of :mod:`workflows.ports`: real behaviour on dicts.

:class:`FakeDatabase` is the committed state. A unit of work sees it through its own
changes and writes only into them; ``commit`` applies them at once, leaving without a commit
discards them, and a read-only unit of work refuses every write. Numbers come from a counter
that never hands a number out twice (a rolled-back insert burns its number, as a database
sequence does), and the one-open-application rule is a constraint checked on insert and on
commit, like the database's unique index; the columns the schema declares NOT NULL refuse
``None``. ``get(number, lock=True)`` holds the row until the unit of work ends, as ``SELECT
... FOR UPDATE`` does, and every call yields to the event loop once, as a round trip would, so
use cases run with ``asyncio.gather`` interleave as they do against a server. No mocks: a use case that forgets to commit, writes
through a read, or writes the wrong service state gets the same answer it would get from SQL
(``tests/storage/test_role_ports_contract.py`` runs one contract against both).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from tests.workflows.fake_identity import FakeAuditLog, FakeVerifications
from tests.workflows.fake_privacy import FakePersonalData
from workflows.errors import OpenApplicationExists, RegistryUnavailable
from workflows.identity import AuditEvent, Verification
from workflows.models import (
    Application,
    ApplicationKind,
    ApplicationStatus,
    Event,
    Reason,
    ServiceState,
)
from workflows.models import Subscriber as SubscriberRecord
from workflows.ports import ApplicationFile, Completion, Delivery, OutboxItem, UserProfile

K = TypeVar("K")
V = TypeVar("V")


class ReadOnlyWrite(AssertionError):
    """A unit of work opened with ``read()`` tried to write or to commit."""


class NotNullViolation(ValueError):
    """A value the schema declares NOT NULL was None."""


def _not_null(**values: object) -> None:
    missing = sorted(name for name, value in values.items() if value is None)
    if missing:
        raise NotNullViolation(", ".join(missing))


async def _round_trip() -> None:
    await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    item: OutboxItem
    created_at: datetime
    # Given up before it was sent (``OutboxQueue.drop_pending``), with the reason.
    dropped: str | None = None


@dataclass(slots=True)
class FakeDatabase:
    """The committed state of every role; tests arrange and inspect it directly."""

    subscribers: dict[str, SubscriberRecord] = field(default_factory=dict)
    profiles: dict[int, UserProfile] = field(default_factory=dict)
    # (reason, active) in display order; inactive ones are kept for old applications
    reasons: list[tuple[Reason, bool]] = field(default_factory=list)
    applications: dict[int, Application] = field(default_factory=dict)
    events: dict[int, tuple[Event, ...]] = field(default_factory=dict)
    outbox: dict[str, OutboxRow] = field(default_factory=dict)
    # (account, FIN) -> Verification, or None once dropped; the audit log by position
    verifications: dict[tuple[int, str], Verification | None] = field(default_factory=dict)
    audit: dict[int, AuditEvent] = field(default_factory=dict)
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    commits: int = 0
    row_locks: dict[int, asyncio.Lock] = field(default_factory=dict)

    def add_subscribers(self, *subscribers: SubscriberRecord) -> None:
        self.subscribers.update((s.code, s) for s in subscribers)

    def add_reasons(self, reasons: Iterable[Reason], *, active: bool = True) -> None:
        self.reasons.extend((reason, active) for reason in reasons)

    def application(self, number: int) -> Application:
        """The committed application with its history."""
        return replace(self.applications[number], events=self.events.get(number, ()))

    def outbox_of(self, number: int) -> list[OutboxItem]:
        return [row.item for row in self.outbox.values() if row.item.application_number == number]


class _Changes(Generic[K, V]):
    """One table as a unit of work sees it: the committed rows under its own changes."""

    def __init__(self, committed: dict[K, V], *, read_only: bool) -> None:
        self.committed = committed
        self.changed: dict[K, V] = {}
        self.read_only = read_only

    def get(self, key: K) -> V | None:
        return self.changed[key] if key in self.changed else self.committed.get(key)

    def rows(self) -> list[V]:
        return list({**self.committed, **self.changed}.values())

    def put(self, key: K, value: V) -> None:
        if self.read_only:
            raise ReadOnlyWrite("a unit of work opened with read() must not write")
        self.changed[key] = value

    def apply(self) -> None:
        self.committed.update(self.changed)
        self.changed.clear()


# The NOT NULL columns of ``applications`` (storage/models.py); ``notes`` may be empty.
_REQUIRED_APPLICATION_FIELDS = (
    "kind",
    "status",
    "fin",
    "subscriber_code",
    "address",
    "reason_code",
    "phone",
    "email",
    "description",
    "locale",
    "telegram_user_id",
    "chat_id",
    "created_at",
    "updated_at",
)


def _two_open_for_one_subscriber(apps: Iterable[Application]) -> bool:
    """Whether these rows break the unique index on the open application's subscriber."""
    codes = [app.subscriber_code for app in apps if app.status.is_open]
    return len(codes) != len(set(codes))


class FakeProfiles:
    def __init__(self, table: _Changes[int, UserProfile]) -> None:
        self._table = table

    async def get(self, telegram_user_id: int) -> UserProfile | None:
        await _round_trip()
        return self._table.get(telegram_user_id)

    async def save(self, profile: UserProfile, now: datetime) -> None:
        await _round_trip()
        _not_null(telegram_user_id=profile.telegram_user_id, updated_at=now)
        stored = self._table.get(profile.telegram_user_id)
        if profile.verified_phone is None and stored is not None:  # as the upsert keeps it
            profile = replace(profile, verified_phone=stored.verified_phone)
        self._table.put(profile.telegram_user_id, profile)


class FakeReasonCatalogue:
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    async def active(self) -> Sequence[Reason]:
        await _round_trip()
        return [reason for reason, active in self._db.reasons if active]


class FakeApplications:
    def __init__(
        self,
        db: FakeDatabase,
        apps: _Changes[int, Application],
        events: _Changes[int, tuple[Event, ...]],
    ) -> None:
        self._db = db
        self._apps = apps
        self._events = events
        self.locked: set[int] = set()

    async def open_number(self, subscriber_code: str) -> int | None:
        await _round_trip()
        for app in self._apps.rows():
            if app.status.is_open and app.subscriber_code == subscriber_code:
                return app.number
        return None

    async def add(self, app: Application) -> int:
        await _round_trip()
        _not_null(**{name: getattr(app, name) for name in _REQUIRED_APPLICATION_FIELDS})
        number = next(self._db.numbers)
        stored = replace(app, number=number, events=())
        if _two_open_for_one_subscriber([*self._apps.rows(), stored]):
            raise OpenApplicationExists(0)
        self._apps.put(number, stored)
        return number

    async def get(self, number: int, *, lock: bool = False) -> Application | None:
        await _round_trip()
        if lock and number not in self.locked:
            await self._db.row_locks.setdefault(number, asyncio.Lock()).acquire()
            self.locked.add(number)
        app = self._apps.get(number)
        if app is None:
            return None
        return replace(app, events=self._events.get(number) or ())

    async def of_fin(self, fin: str, *, limit: int) -> Sequence[Application]:
        await _round_trip()
        mine = [app for app in self._apps.rows() if app.fin == fin]
        return sorted(mine, key=lambda app: app.number, reverse=True)[:limit]

    async def visible_to(
        self, telegram_user_id: int, fins: Sequence[str], *, limit: int
    ) -> Sequence[Application]:
        await _round_trip()
        seen = [
            a for a in self._apps.rows() if a.telegram_user_id == telegram_user_id or a.fin in fins
        ]
        return sorted(seen, key=lambda app: app.number, reverse=True)[:limit]

    async def open_created_before(
        self,
        moment: datetime,
        *,
        limit: int,
        reminded_before: datetime | None = None,
        due_before: datetime | None = None,
    ) -> Sequence[Application]:
        await _round_trip()
        found = [
            a
            for a in self._apps.rows()
            if a.status.is_open
            and (
                a.due_at < due_before
                if due_before is not None and a.due_at is not None
                else a.created_at < moment
            )
            and (
                reminded_before is None
                or a.last_reminder_at is None
                or a.last_reminder_at <= reminded_before
            )
        ]
        return sorted(found, key=lambda app: app.number)[:limit]

    async def restoration_due(self, last_day: str, *, limit: int) -> Sequence[Application]:
        await _round_trip()
        rows = self._apps.rows()
        busy = {a.subscriber_code for a in rows if a.status.is_open}

        def superseded(app: Application) -> bool:
            return any(
                later.subscriber_code == app.subscriber_code
                and later.number > app.number
                and later.status is ApplicationStatus.DONE
                for later in rows
            )

        found = [
            a
            for a in rows
            if a.kind is ApplicationKind.SUSPEND
            and a.status is ApplicationStatus.DONE
            and a.suspend_until is not None
            and a.suspend_until <= last_day
            and a.restoration_offered_at is None
            and a.anonymised_at is None
            and a.subscriber_code not in busy
            and not superseded(a)
        ]
        return sorted(found, key=lambda a: (a.suspend_until or "", a.number))[:limit]

    async def claim_restoration_offer(self, number: int, now: datetime) -> bool:
        # An UPDATE takes the row's lock until the end of the unit of work, then reads the
        # row as committed by then.
        await _round_trip()
        if number not in self.locked:
            await self._db.row_locks.setdefault(number, asyncio.Lock()).acquire()
            self.locked.add(number)
        app = self._apps.get(number)
        if app is None or app.restoration_offered_at is not None:
            return False
        self._apps.put(number, replace(app, restoration_offered_at=now, events=()))
        return True

    async def update(self, app: Application) -> None:
        await _round_trip()
        _not_null(status=app.status, updated_at=app.updated_at)
        if self._apps.get(app.number) is not None:
            self._apps.put(app.number, replace(app, events=()))

    async def add_event(self, number: int, event: Event) -> None:
        await _round_trip()
        _not_null(at=event.at, kind=event.kind, actor=event.actor)
        self._events.put(number, (*(self._events.get(number) or ()), event))


class FakeRegistryWriteBack:
    def __init__(self, table: _Changes[str, SubscriberRecord]) -> None:
        self._table = table

    async def set_service_state(self, subscriber_code: str, state: ServiceState) -> None:
        await _round_trip()
        _not_null(service_state=state)
        found = self._table.get(subscriber_code)
        if found is not None:  # like an UPDATE that matches no row
            self._table.put(subscriber_code, replace(found, state=state))


class FakeOutboxQueue:
    def __init__(self, table: _Changes[str, OutboxRow]) -> None:
        self._table = table

    async def enqueue(self, item: OutboxItem, now: datetime) -> None:
        await _round_trip()
        _not_null(
            created_at=now,
            kind=item.kind,
            channel=item.channel,
            recipient=item.recipient,
            dedupe_key=item.dedupe_key,
        )
        if self._table.get(item.dedupe_key) is None:
            self._table.put(item.dedupe_key, OutboxRow(item, now))

    async def drop_pending(
        self, application_number: int, *, keep: frozenset[str], note: str, now: datetime
    ) -> int:
        await _round_trip()
        dropped = 0
        for row in self._table.rows():
            item = row.item
            if (
                item.application_number == application_number
                and item.kind not in keep
                and row.dropped is None
            ):
                self._table.put(item.dedupe_key, replace(row, dropped=note))
                dropped += 1
        return dropped


class FakeUnitOfWork:
    def __init__(self, db: FakeDatabase, *, read_only: bool = False) -> None:
        self._db = db
        self._read_only = read_only
        self._subscribers = _Changes(db.subscribers, read_only=read_only)
        self._profiles = _Changes(db.profiles, read_only=read_only)
        self._apps = _Changes(db.applications, read_only=read_only)
        self._events = _Changes(db.events, read_only=read_only)
        self._outbox = _Changes(db.outbox, read_only=read_only)
        self._verifications = _Changes(db.verifications, read_only=read_only)
        self._audit = _Changes(db.audit, read_only=read_only)
        self.verifications = FakeVerifications(self._verifications)
        self.audit = FakeAuditLog(self._audit)
        self.personal = FakePersonalData(self._profiles, self._apps, self._events, self._outbox)
        self.profiles = FakeProfiles(self._profiles)
        self.reasons = FakeReasonCatalogue(db)
        self.applications = FakeApplications(db, self._apps, self._events)
        self.registry = FakeRegistryWriteBack(self._subscribers)
        self.outbox = FakeOutboxQueue(self._outbox)

    def release(self) -> None:
        """The end of the unit of work: its row locks go, its uncommitted changes with it."""
        for number in self.applications.locked:
            self._db.row_locks[number].release()
        self.applications.locked.clear()

    async def commit(self) -> None:
        await _round_trip()
        if self._read_only:
            raise ReadOnlyWrite("a unit of work opened with read() must not commit")
        if _two_open_for_one_subscriber(self._apps.rows()):
            raise OpenApplicationExists(0)
        for table in (
            self._subscribers,
            self._profiles,
            self._apps,
            self._events,
            self._outbox,
            self._verifications,
            self._audit,
        ):
            table.apply()
        self._db.commits += 1


class FakeTransactions:
    """The :class:`~workflows.ports.TransactionFactory` over a :class:`FakeDatabase`."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[FakeUnitOfWork]:
        uow = FakeUnitOfWork(self.db)
        try:
            yield uow
        finally:
            uow.release()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[FakeUnitOfWork]:
        uow = FakeUnitOfWork(self.db, read_only=True)
        try:
            yield uow
        finally:
            uow.release()


class FakeSubscriberRegistry:
    """The registry's lookup over the committed subscribers; ``down`` makes it unavailable."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.down = False

    async def lookup(self, code: str) -> SubscriberRecord | None:
        await _round_trip()
        if self.down:
            raise RegistryUnavailable(code)
        return self.db.subscribers.get(code)


class FakeSupportQueries:
    """The agents' reads over the committed state (every delivery is still pending)."""

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    def _matching(self, subscriber_code: str | None, fin: str | None) -> list[Application]:
        if subscriber_code is None and fin is None:
            raise ValueError("a subscriber code or a FIN is required")
        found = [
            app
            for app in self.db.applications.values()
            if app.subscriber_code == subscriber_code or app.fin == fin
        ]
        return sorted(found, key=lambda app: app.number, reverse=True)

    async def get_application_file(self, number: int) -> ApplicationFile | None:
        if number not in self.db.applications:
            return None
        deliveries = tuple(
            Delivery(
                kind=row.item.kind,
                channel=row.item.channel,
                status="pending",
                attempts=0,
                created_at=row.created_at,
                event=(row.item.payload or {}).get("event"),
            )
            for row in self.db.outbox.values()
            if row.item.application_number == number
        )
        app = self.db.application(number)
        verifications = sorted(
            (v for v in self.db.verifications.values() if v is not None and v.fin == app.fin),
            key=lambda v: v.at,
        )
        return ApplicationFile(app, deliveries, tuple(verifications))

    async def find_applications(
        self, *, subscriber_code: str | None, fin: str | None, limit: int
    ) -> Sequence[Application]:
        return self._matching(subscriber_code, fin)[:limit]

    async def count_applications(self, *, subscriber_code: str | None, fin: str | None) -> int:
        return len(self._matching(subscriber_code, fin))

    async def open_applications(self, *, limit: int) -> Sequence[Application]:
        found = [app for app in self.db.applications.values() if app.status.is_open]
        return sorted(found, key=lambda app: app.number)[:limit]

    async def count_by_status(self) -> Mapping[ApplicationStatus, int]:
        counts: dict[ApplicationStatus, int] = {}
        for app in self.db.applications.values():
            counts[app.status] = counts.get(app.status, 0) + 1
        return counts

    async def count_events_by_kind(self) -> Mapping[str, int]:
        counts: dict[str, int] = {}
        for events in self.db.events.values():
            for event in events:
                counts[event.kind.value] = counts.get(event.kind.value, 0) + 1
        return counts

    async def count_registered_since(self, since: datetime) -> int:
        return sum(1 for app in self.db.applications.values() if app.created_at >= since)

    async def completion_durations(self, closed_since: datetime) -> Sequence[timedelta]:
        return [
            app.closed_at - app.created_at
            for app in self.db.applications.values()
            if app.status is ApplicationStatus.DONE
            and app.closed_at is not None
            and app.closed_at >= closed_since
        ]

    async def completions(self, closed_since: datetime) -> Sequence[Completion]:
        return [
            Completion(app.reason_code, app.created_at, app.due_at, app.closed_at)
            for app in self.db.applications.values()
            if app.status is ApplicationStatus.DONE
            and app.closed_at is not None
            and app.closed_at >= closed_since
        ]

    async def ratings_since(self, closed_since: datetime) -> Sequence[tuple[str, str, int]]:
        return [
            (app.reason_code, app.taken_by_name or "?", app.rating)
            for app in self.db.applications.values()
            if app.status is ApplicationStatus.DONE
            and app.rating is not None
            and app.closed_at is not None
            and app.closed_at >= closed_since
        ]

    async def reasons(self) -> Sequence[Reason]:
        return [reason for reason, _ in self.db.reasons]
