"""Domain records shared by every layer.

Money is ``Decimal`` (AZN), time is timezone-aware UTC, ids are integers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class ServiceState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class ApplicationKind(StrEnum):
    """What the subscriber asks for; it follows from the service state."""

    SUSPEND = "suspend"
    RESTORE = "restore"

    @classmethod
    def for_state(cls, state: ServiceState) -> ApplicationKind:
        return cls.SUSPEND if state is ServiceState.ACTIVE else cls.RESTORE


class ApplicationStatus(StrEnum):
    REGISTERED = "registered"
    TAKEN = "taken"
    DONE = "done"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # by the subscriber, before the work was done

    @property
    def is_open(self) -> bool:
        return self in (ApplicationStatus.REGISTERED, ApplicationStatus.TAKEN)


class EventKind(StrEnum):
    REGISTERED = "registered"
    TAKEN = "taken"
    DONE = "done"
    REJECTED = "rejected"
    REMINDED = "reminded"
    PLANNED = "planned"  # the staff member set (or changed) the date of the work
    WITHDRAWN = "withdrawn"
    WITHDRAW_REQUESTED = "withdraw_requested"
    WITHDRAW_DECLINED = "withdraw_declined"
    CONFIRMED = "confirmed"  # the subscriber said the work was done
    REOPENED = "reopened"  # the subscriber said it was not
    RATED = "rated"


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One row of the subscriber registry (billing)."""

    code: str
    meterless: bool
    debt: Decimal
    state: ServiceState
    address: str
    owner_fin: str | None = None
    # The phone on record (E.164), None when the registry has none.
    phone: str | None = None

    @property
    def has_debt(self) -> bool:
        return self.debt > 0


# The utility's own language (its manual's): what a reason says where a language lacks a label.
FALLBACK_LOCALE = "az"


@dataclass(frozen=True, slots=True)
class Reason:
    """An entry of the reason catalogue (data, not code): its labels by locale."""

    code: str
    kind: ApplicationKind
    labels: Mapping[str, str]
    # Hours from registration to the due time; None: the global WORK_ORDER_DEADLINE_HOURS.
    deadline_hours: int | None = None

    def label(self, locale: str) -> str:
        """In ``locale``, else in the fallback language, else the code itself."""
        return self.labels.get(locale) or self.labels.get(FALLBACK_LOCALE) or self.code


@dataclass(frozen=True, slots=True)
class Draft:
    """Everything the subscriber typed, validated, before registration."""

    fin: str
    subscriber_code: str
    reason_code: str
    phone: str
    email: str
    description: str
    notes: str | None
    locale: str
    telegram_user_id: int
    chat_id: int
    # A suspension's optional "until when?" (``workflows.until``): a Baku day, "2027-03-12".
    suspend_until: str | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: EventKind
    actor: str
    note: str | None = None
    photo_file_id: str | None = None  # a photo sent with it (Done's proof), by file id


@dataclass(frozen=True, slots=True)
class Application(Draft):
    """A registered draft: the subscriber's fields, and what registration and the staff added."""

    number: int
    kind: ApplicationKind
    status: ApplicationStatus
    address: str
    created_at: datetime
    updated_at: datetime
    taken_by_id: int | None = None
    taken_by_name: str | None = None
    taken_at: datetime | None = None
    closed_at: datetime | None = None
    result_note: str | None = None
    last_reminder_at: datetime | None = None
    # How the applicant was identified (``workflows.identity.IdentityMethod`` values).
    identified_by: str = "typed"
    anonymised_at: datetime | None = None
    # The whole life of a work order (issue 19); dates of the work are Baku dates.
    planned_date: str | None = None  # "2026-12-12"
    planned_window: str | None = None  # "morning" | "afternoon"
    due_at: datetime | None = None
    withdraw_requested_at: datetime | None = None
    confirm_asked_at: datetime | None = None
    citizen_answer: str | None = None  # "yes" | "no"
    rating: int | None = None
    rating_comment: str | None = None
    reopened_count: int = 0
    # When the restoration was offered (``workflows.restoration``), or found needless.
    restoration_offered_at: datetime | None = None
    events: tuple[Event, ...] = field(default=())

    @classmethod
    def register(
        cls,
        draft: Draft,
        *,
        kind: ApplicationKind,
        address: str,
        at: datetime,
        identified_by: str = "typed",
    ) -> Application:
        """The new application a draft becomes; its ``number`` is given by the store."""
        typed = {f.name: getattr(draft, f.name) for f in fields(Draft)}
        return cls(
            number=0,
            kind=kind,
            status=ApplicationStatus.REGISTERED,
            address=address,
            created_at=at,
            updated_at=at,
            identified_by=identified_by,
            **typed,
        )


@dataclass(frozen=True, slots=True)
class StaffMember:
    """Who pressed a button in the staff group."""

    user_id: int
    name: str
