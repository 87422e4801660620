"""Ports: what the use cases need from the outside world, as Protocols."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from workflows.models import (
    Application,
    ApplicationKind,
    Event,
    Reason,
    ServiceState,
    Subscriber,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC now."""


class SubscriberRegistry(Protocol):
    async def lookup(self, code: str) -> Subscriber | None:
        """The subscriber with this code, None if unknown; RegistryUnavailable if down."""


@dataclass(frozen=True, slots=True)
class UserProfile:
    telegram_user_id: int
    locale: str | None = None
    fin: str | None = None


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


class Transaction(Protocol):
    """One unit of work; nothing is stored until ``commit``."""

    async def get_profile(self, telegram_user_id: int) -> UserProfile | None:
        """The stored profile of a Telegram user."""

    async def save_profile(self, profile: UserProfile, now: datetime) -> None:
        """Insert or update a profile."""

    async def list_reasons(self, kind: ApplicationKind | None = None) -> Sequence[Reason]:
        """The reason catalogue, in its display order."""

    async def find_open_application(self, subscriber_code: str) -> int | None:
        """The number of an open application for this subscriber, if any."""

    async def add_application(self, app: Application) -> int:
        """Insert (number is assigned); OpenApplicationExists on a concurrent duplicate."""

    async def get_application(self, number: int, *, lock: bool = False) -> Application | None:
        """One application with its events; ``lock`` for an update in this transaction."""

    async def list_applications(
        self,
        *,
        fin: str | None = None,
        subscriber_code: str | None = None,
        open_only: bool = False,
        oldest_first: bool = False,
        created_before: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Sequence[Application]:
        """Applications filtered by FIN or subscriber code (newest first by default)."""

    async def update_application(self, app: Application) -> None:
        """Store the status and work-order fields of an application."""

    async def add_event(self, number: int, event: Event) -> None:
        """Append to the application's history."""

    async def set_service_state(self, subscriber_code: str, state: ServiceState) -> None:
        """Record the new service state in the embedded registry (no-op elsewhere)."""

    async def enqueue(self, item: OutboxItem, now: datetime) -> None:
        """Add a message to the outbox (ignored if its dedupe_key exists)."""

    async def commit(self) -> None:
        """Make everything above durable at once."""


class TransactionFactory(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a unit of work."""

    def read(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a unit of work that only reads; it may run outside a database transaction,
        so it must not write, and two of its reads need not see the same snapshot."""


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """A rendered e-mail; ``message_id`` is stable per outbox row, so a resend is recognisable."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str


class MailError(Exception):
    """Sending failed; ``permanent`` says whether a retry can help."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver one e-mail or raise MailError."""
