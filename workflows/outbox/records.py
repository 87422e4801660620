"""The outbox's names and records: its channels, kinds and statuses, the row a dispatcher
holds, what a send produced, and the typed errors a sender raises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Channel(StrEnum):
    """How a row travels; each channel has its own lane (and sender)."""

    TELEGRAM = "telegram"
    EMAIL = "email"


class OutboxKind(StrEnum):
    """What a row is: it names the renderer its channel's sender uses."""

    STAFF_CARD = "staff_card"
    STAFF_CARD_EDIT = "staff_card_edit"
    REMINDER = "reminder"
    NOTICE = "notice"
    EMAIL = "email"
    PROBE_WARNING = "probe_warning"
    EGOV_VERIFIED = "egov_verified"  # the account's FIN is confirmed through the e-gov login
    CONFIRM_ASK = "confirm_ask"  # after Done: was the work really done? (the subscriber)
    STAFF_REOPENED = "staff_reopened"  # the subscriber said No: the staff group is told
    RESTORE_OFFER = "restore_offer"  # before a suspension's "until" date (the subscriber)


class OutboxStatus(StrEnum):
    """Where a row's sending got: waiting (or being tried again), sent, or given up."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# --- the records --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """An outbox row leased to one dispatcher; ``lease`` is the claim's unique token."""

    id: int
    kind: str
    channel: str
    recipient: str
    dedupe_key: str
    application_number: int | None
    payload: Mapping[str, Any]
    attempts: int
    created_at: datetime
    lease: str


@dataclass(frozen=True, slots=True)
class Delivered:
    """What a successful send produced; ``card`` marks the application's staff card."""

    chat_id: int | None = None
    message_id: int | None = None
    card: bool = False

    def as_result(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.chat_id is not None:
            result["chat_id"] = self.chat_id
        if self.message_id is not None:
            result["message_id"] = self.message_id
        if self.card:
            result["card"] = True
        return result


@dataclass(frozen=True, slots=True)
class Lead:
    """Who leads a lane (sends its rows) until when; ``previous``: who led it before the
    call that returned this (None: nobody had yet)."""

    holder: str
    until: datetime
    previous: str | None = None


@dataclass(frozen=True, slots=True)
class CardRef:
    """Where an application's staff card was posted."""

    chat_id: int
    message_id: int


# --- the errors a sender raises -------------------------------------------------------------


class DeliveryError(Exception):
    """A send did not happen; the subclass says what to do next."""


class RetryLater(DeliveryError):
    """Temporary: try again after ``after_s`` seconds (None: after the usual backoff).

    ``flood_control``: the server asked to wait (Telegram's 429 ``retry_after``), so nothing
    else goes to that chat before the time is up either.
    """

    def __init__(
        self, reason: str, after_s: float | None = None, *, flood_control: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after_s = after_s
        self.flood_control = flood_control


class PermanentFailure(DeliveryError):
    """A retry cannot help (blocked by the user, refused address, malformed message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatMigrated(DeliveryError):
    """The group became a supergroup with ``new_chat_id``; send there from now on."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id
