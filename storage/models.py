"""Database rows. Portable types only: the same migrations serve SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from workflows.values import ADDRESS_MAX_LENGTH

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an "INTEGER PRIMARY KEY"; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UserRow(Base):
    __tablename__ = "users"

    telegram_user_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False
    )
    locale: Mapped[str | None] = mapped_column(String(8))
    fin: Mapped[str | None] = mapped_column(String(7))
    # The account's own phone as Telegram verified it (a contact it shared of itself).
    verified_phone: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SubscriberRow(Base):
    __tablename__ = "subscribers"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_fin: Mapped[str | None] = mapped_column(String(7))
    meterless: Mapped[bool] = mapped_column(Boolean)
    debt_azn: Mapped[Decimal] = mapped_column(Numeric(14, 2, asdecimal=True))
    service_state: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX_LENGTH))
    # The phone on record: a Telegram-verified contact equal to it proves the owner FIN.
    phone: Mapped[str | None] = mapped_column(String(20))


class ReasonRow(Base):
    """An entry of the reason catalogue; ``storage/seed/reasons.csv`` is its source."""

    __tablename__ = "reasons"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Hours from registration to the due time (NULL: WORK_ORDER_DEADLINE_HOURS).
    deadline_hours: Mapped[int | None] = mapped_column(Integer)


class ReasonLabelRow(Base):
    """A reason's label in one language (``storage/seed/reason_labels.csv``): a new language
    is new rows, not a migration."""

    __tablename__ = "reason_labels"

    reason_code: Mapped[str] = mapped_column(ForeignKey("reasons.code"), primary_key=True)
    locale: Mapped[str] = mapped_column(String(8), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))


class ApplicationRow(Base):
    __tablename__ = "applications"
    __table_args__ = ({"sqlite_autoincrement": True},)

    number: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    fin: Mapped[str] = mapped_column(String(7), index=True)
    subscriber_code: Mapped[str] = mapped_column(String(32), index=True)
    # Equals subscriber_code while the application is open, NULL once closed: the unique
    # constraint makes "one open application per subscriber" hold under concurrency.
    open_lock: Mapped[str | None] = mapped_column(String(32), unique=True)
    address: Mapped[str] = mapped_column(String(ADDRESS_MAX_LENGTH))
    reason_code: Mapped[str] = mapped_column(ForeignKey("reasons.code"))
    phone: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    description: Mapped[str] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(8))
    # The account that filed it: the one that sees it, besides accounts verified for its FIN.
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    taken_by_id: Mapped[int | None] = mapped_column(BigInteger)
    taken_by_name: Mapped[str | None] = mapped_column(String(200))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    result_note: Mapped[str | None] = mapped_column(Text)
    staff_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    staff_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # How the applicant was identified (workflows.identity.IdentityMethod; NULL: typed).
    identified_by: Mapped[str | None] = mapped_column(String(8))
    # When FIN, phone, e-mail, texts and the street were replaced (erasure or retention).
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The whole life of a work order (issue 19): planned date and window (Baku), due time,
    # withdrawal request, the citizen's confirmation and rating, the "until" date of a
    # suspension and the restoration offer made for it.
    planned_date: Mapped[str | None] = mapped_column(String(10))
    planned_window: Mapped[str | None] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdraw_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirm_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    citizen_answer: Mapped[str | None] = mapped_column(String(8))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    reopened_count: Mapped[int | None] = mapped_column(Integer)
    suspend_until: Mapped[str | None] = mapped_column(String(10))
    restoration_offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    application_number: Mapped[int] = mapped_column(ForeignKey("applications.number"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    # A photo sent with the event (Done's proof), by Telegram file id.
    photo_file_id: Mapped[str | None] = mapped_column(String(255))


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # The claim takes each recipient's oldest pending row: without this index it scans
        # every pending row once per candidate (0.9 s per claim at 2,000 pending).
        Index("ix_outbox_queue", "status", "channel", "recipient", "id"),
        # A new leader of the Telegram lane reads the last minute's sends (its windows).
        Index("ix_outbox_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(254))
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    application_number: Mapped[int | None] = mapped_column(
        ForeignKey("applications.number"), index=True
    )
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OutboxLeaderRow(Base):
    """Which dispatcher sends a lane's rows, until when (``storage.outbox``, ``lead``)."""

    __tablename__ = "outbox_leader"

    lane: Mapped[str] = mapped_column(String(16), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    until: Mapped[datetime] = mapped_column(UTCDateTime())


class ChatMigrationRow(Base):
    """A group upgraded to a supergroup: messages for the old id go to the new one."""

    __tablename__ = "chat_migrations"

    old_chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    new_chat_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class FsmStateRow(Base):
    """aiogram's FSM state and data of one storage key (``storage.fsm``), without Redis."""

    __tablename__ = "fsm_state"

    # DefaultKeyBuilder(with_destiny=True) without the part: "fsm:<chat>:<user>:<destiny>"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[str | None] = mapped_column(Text)  # JSON text, as RedisStorage stores it
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SeenUpdateRow(Base):
    """An update a worker has taken (``storage.seen_updates``): a copy delivered again before
    ``expires_at`` is skipped. Keyed per bot: update ids are numbered per bot."""

    __tablename__ = "seen_updates"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class VerificationRow(Base):
    """An account proved to hold a FIN (``workflows.identity``); one FIN may be verified on
    several accounts (a family phone)."""

    __tablename__ = "verifications"

    telegram_user_id: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False
    )
    fin: Mapped[str] = mapped_column(String(7), primary_key=True, index=True)
    method: Mapped[str] = mapped_column(String(8))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditRow(Base):
    """What happened to personal data, without the data: verifications, log-outs, erasures,
    retention runs. ``subject`` names whom it concerns by id (``tg:<user id>``), never by FIN."""

    __tablename__ = "audit_log"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[str | None] = mapped_column(Text)


class AgentAccessRow(Base):
    """A support agent's look-up: who, which command, what was looked up, when."""

    __tablename__ = "agent_access"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    agent_id: Mapped[int] = mapped_column(BigInteger, index=True)
    command: Mapped[str] = mapped_column(String(16))
    query: Mapped[str] = mapped_column(String(64))


class OidcStateRow(Base):
    """A pending e-gov login: single use, bound to the Telegram user, short-lived."""

    __tablename__ = "oidc_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    code_verifier: Mapped[str] = mapped_column(String(128))
    nonce: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProbeRow(Base):
    """A value (a subscriber code or a FIN, hashed) an account tried on a day (Baku): the
    per-account limits against probing the registry count these."""

    __tablename__ = "probes"
    __table_args__ = (Index("ix_probes_value_hash", "day", "kind", "value_hash"),)

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    account: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    value_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
