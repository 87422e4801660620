"""Ports: what the use cases need from the outside world, as Protocols, one per role.

The roles, and where the use cases meet them:

- the time: :class:`Clock`;
- the subscriber registry (billing): :class:`SubscriberRegistry` looks a subscriber up,
  outside any unit of work; :class:`RegistryWriteBack` records the service state a finished
  work order leaves, inside one;
- subscriber profiles: :class:`Profiles`;
- proofs of identity and the audit log: :class:`Verifications`, :class:`AuditLog`;
- erasure and retention of personal data: :class:`PersonalData`;
- the reason catalogue: :class:`ReasonCatalogue`;
- applications and their history: :class:`Applications`;
- the outbox, on the writing side: :class:`OutboxQueue` (the dispatcher's side,
  ``OutboxStore`` and ``Sender``, is in :mod:`workflows.outbox`);
- the support agents' reads: :class:`SupportQueries`, and the trace they leave:
  :class:`AccessLog`;
- e-mail: :class:`Mailer`.

A :class:`UnitOfWork` exposes the roles that change together and makes their changes
durable at once::

    async with transactions() as uow:
        number = await uow.applications.add(app)
        await uow.outbox.enqueue(item, now)
        await uow.commit()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from workflows.identity import AuditEvent, Verification
from workflows.models import (
    Application,
    ApplicationStatus,
    Event,
    Reason,
    ServiceState,
    Subscriber,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC now."""


# --- the subscriber registry ----------------------------------------------------------------
class SubscriberRegistry(Protocol):
    async def lookup(self, code: str) -> Subscriber | None:
        """The subscriber with this code, None if unknown; RegistryUnavailable if down."""


class RegistryWriteBack(Protocol):
    async def set_service_state(self, subscriber_code: str, state: ServiceState) -> None:
        """Record the new service state in the embedded registry (no-op elsewhere)."""


# --- subscriber profiles --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UserProfile:
    telegram_user_id: int
    locale: str | None = None
    fin: str | None = None
    # The account's own phone as Telegram verified it (E.164), from a contact it shared.
    verified_phone: str | None = None


class Profiles(Protocol):
    async def get(self, telegram_user_id: int) -> UserProfile | None:
        """The stored profile of a Telegram user."""

    async def save(self, profile: UserProfile, now: datetime) -> None:
        """Insert or update a profile."""


# --- proofs of identity and the audit log --------------------------------------------------
class Verifications(Protocol):
    async def of_account(self, telegram_user_id: int) -> Sequence[Verification]:
        """The FINs this account proved, oldest first."""

    async def of_fin(self, fin: str) -> Sequence[Verification]:
        """The accounts that proved this FIN, oldest first (for the agents)."""

    async def add(self, verification: Verification) -> None:
        """Store a proof (a second one of the same account and FIN replaces the first)."""

    async def drop(self, telegram_user_id: int) -> int:
        """Forget every proof of this account; returns how many there were."""


class AuditLog(Protocol):
    async def record(self, event: AuditEvent) -> None:
        """Append an event (it holds no personal values)."""


# --- erasure and retention of personal data ----------------------------------------------
class PersonalData(Protocol):
    """What erasing an account (``/forget``) and the retention job need beyond the other roles
    (``workflows.privacy``)."""

    async def filed_by(self, telegram_user_id: int) -> Sequence[Application]:
        """Every application this account filed, newest first (no events)."""

    async def closed_before(self, moment: datetime, *, limit: int) -> Sequence[Application]:
        """Applications closed before ``moment`` and not anonymised yet, oldest first (no
        events)."""

    async def anonymise(self, apps: Sequence[Application], now: datetime) -> None:
        """Store the fields of ``apps`` that can hold personal data as they are given
        (``workflows.privacy.anonymised``): FIN, phone, e-mail, address, description, notes,
        result note, account and chat, ``anonymised_at``. Their events lose their notes, and
        an account named as actor (``tg:<id>``) becomes the given account; their outbox rows
        to the applicant (notices, e-mails) lose recipient, result and error, and a row still
        pending gives up."""

    async def erase_account(self, telegram_user_id: int) -> None:
        """Delete the account's profile and its pending e-gov logins."""

    async def purge_expired(self, now: datetime, *, probes_before: str) -> int:
        """Delete e-gov logins expired at ``now`` and probe counters of days before
        ``probes_before`` (an ISO date); returns how many rows went."""


# --- the reason catalogue -------------------------------------------------------------------
class ReasonCatalogue(Protocol):
    async def active(self) -> Sequence[Reason]:
        """The reasons a new application may give, in their display order."""


# --- applications and their events ---------------------------------------------------------
class Applications(Protocol):
    async def open_number(self, subscriber_code: str) -> int | None:
        """The number of an open application for this subscriber, if any."""

    async def add(self, app: Application) -> int:
        """Insert (number is assigned); OpenApplicationExists on a concurrent duplicate."""

    async def get(self, number: int, *, lock: bool = False) -> Application | None:
        """One application with its events; ``lock`` for an update in this unit of work."""

    async def of_fin(self, fin: str, *, limit: int) -> Sequence[Application]:
        """The applications of a FIN, newest first (no events)."""

    async def visible_to(
        self, telegram_user_id: int, fins: Sequence[str], *, limit: int
    ) -> Sequence[Application]:
        """The applications this account filed and those of ``fins``, newest first (no
        events)."""

    async def open_created_before(
        self,
        moment: datetime,
        *,
        limit: int,
        reminded_before: datetime | None = None,
        due_before: datetime | None = None,
    ) -> Sequence[Application]:
        """Open applications registered before ``moment``, oldest first (no events); with
        ``reminded_before``, only those never reminded or last reminded at or before it.
        With ``due_before``, an application with a due time is taken when it is due before
        ``due_before`` (``moment`` then applies only to those without one)."""

    async def restoration_due(self, last_day: str, *, limit: int) -> Sequence[Application]:
        """Suspensions due a restoration offer (``workflows.restoration``), by ``until`` date
        then number (no events): done, ``suspend_until`` on or before ``last_day`` (an ISO
        date), not offered yet, not anonymised; no application open on the code, and none
        done on it after this one (a restoration, a new suspension)."""

    async def claim_restoration_offer(self, number: int, now: datetime) -> bool:
        """Set ``restoration_offered_at`` to ``now`` unless it is set: one conditional
        UPDATE, so of two units of work at once only one gets True."""

    async def update(self, app: Application) -> None:
        """Store the status and work-order fields of an application."""

    async def add_event(self, number: int, event: Event) -> None:
        """Append to the application's history."""


# --- the outbox, writing side ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A message the system owes; the dispatcher renders and sends it after the commit.

    ``kind`` names the renderer (``staff_card``, ``staff_card_edit``, ``notice``,
    ``email``, ``reminder``); ``channel`` is ``telegram`` or ``email``;
    ``dedupe_key`` makes a second enqueue of the same message a no-op.
    """

    kind: str
    channel: str
    recipient: str
    dedupe_key: str
    application_number: int | None = None
    payload: dict[str, Any] | None = None


class OutboxQueue(Protocol):
    async def enqueue(self, item: OutboxItem, now: datetime) -> None:
        """Add a message to the outbox (ignored if its dedupe_key exists)."""

    async def drop_pending(
        self, application_number: int, *, keep: frozenset[str], note: str, now: datetime
    ) -> int:
        """Give up the application's rows not sent yet, but those of the ``keep`` kinds
        (they end as failed with ``note``); returns how many."""


# --- the unit of work -----------------------------------------------------------------------
class UnitOfWork(Protocol):
    """The roles that change together; nothing is stored until ``commit``."""

    profiles: Profiles
    verifications: Verifications
    audit: AuditLog
    personal: PersonalData
    reasons: ReasonCatalogue
    applications: Applications
    registry: RegistryWriteBack
    outbox: OutboxQueue

    async def commit(self) -> None:
        """Make everything done through the roles above durable at once."""


class TransactionFactory(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Open a unit of work; leaving it without ``commit`` discards its changes."""

    def read(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Open a unit of work that only reads; it may run outside a database transaction,
        so it must not write, and two of its reads need not see the same snapshot."""


# --- the support agents' reads --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row of an application: what was owed and how far its sending got."""

    kind: str
    channel: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = None
    event: str | None = None


@dataclass(frozen=True, slots=True)
class ApplicationFile:
    """An application with its events and its deliveries (oldest first), and the accounts
    verified for its FIN (oldest first)."""

    application: Application
    deliveries: tuple[Delivery, ...] = ()
    verifications: tuple[Verification, ...] = ()


@dataclass(frozen=True, slots=True)
class Completion:
    """A done order as ``/stats`` counts it: its reason, when it was registered, due (None:
    the global deadline) and done."""

    reason_code: str
    created_at: datetime
    due_at: datetime | None
    closed_at: datetime


class SupportQueries(Protocol):
    """Read-only queries for the agents; each call is its own short read."""

    async def get_application_file(self, number: int) -> ApplicationFile | None:
        """The application with its events and outbox deliveries, None if there is none."""

    async def find_applications(
        self, *, subscriber_code: str | None, fin: str | None, limit: int
    ) -> Sequence[Application]:
        """Applications of this subscriber code or this FIN, newest first (no events)."""

    async def count_applications(self, *, subscriber_code: str | None, fin: str | None) -> int:
        """How many applications ``find_applications`` would return without a limit."""

    async def open_applications(self, *, limit: int) -> Sequence[Application]:
        """Registered or taken applications, oldest first (no events)."""

    async def count_by_status(self) -> Mapping[ApplicationStatus, int]:
        """The number of applications in each status (absent statuses may be missing)."""

    async def count_events_by_kind(self) -> Mapping[str, int]:
        """The number of events of each kind in every timeline (absent kinds may be missing)."""

    async def count_registered_since(self, since: datetime) -> int:
        """How many applications were registered at or after ``since``."""

    async def completion_durations(self, closed_since: datetime) -> Sequence[timedelta]:
        """Registration-to-done times of the applications completed since ``closed_since``."""

    async def completions(self, closed_since: datetime) -> Sequence[Completion]:
        """The applications done since ``closed_since``, with their reason and due time."""

    async def ratings_since(self, closed_since: datetime) -> Sequence[tuple[str, str, int]]:
        """(reason code, staff member's name, rating) of the done applications the
        subscriber rated, completed since ``closed_since``."""

    async def reasons(self) -> Sequence[Reason]:
        """The whole reason catalogue, inactive entries included (old applications use them)."""


@dataclass(frozen=True, slots=True)
class AgentLookup:
    """One look-up of a support agent: who, which command, what was looked up, when.

    ``query`` is an application number, a subscriber code, a FIN as
    ``workflows.support.fin_lookup`` writes it (never the FIN itself), or empty."""

    at: datetime
    agent_id: int
    command: str
    query: str


class AccessLog(Protocol):
    async def record(self, lookup: AgentLookup) -> None:
        """Append one look-up, durably, before its answer is shown (an error: no answer)."""


# --- e-mail ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EmailMessage:
    """A rendered e-mail; ``message_id`` is stable per outbox row, so a resend is recognisable.
    ``language`` (``az``, ``ru``, ...) is the one the e-mail is written in, if known."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str
    language: str | None = None


class MailError(Exception):
    """Sending failed; ``permanent`` says whether a retry can help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver one e-mail or raise MailError."""
