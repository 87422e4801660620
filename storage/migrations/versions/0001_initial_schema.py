"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_migrations",
        sa.Column("old_chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("new_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("old_chat_id", name=op.f("pk_chat_migrations")),
    )
    op.create_table(
        "reasons",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("label_az", sa.String(length=200), nullable=False),
        sa.Column("label_ru", sa.String(length=200), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_reasons")),
    )
    op.create_table(
        "subscribers",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("owner_fin", sa.String(length=7), nullable=True),
        sa.Column("meterless", sa.Boolean(), nullable=False),
        sa.Column("debt_azn", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("service_state", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_subscribers")),
    )
    op.create_table(
        "users",
        sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=True),
        sa.Column("fin", sa.String(length=7), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("telegram_user_id", name=op.f("pk_users")),
    )
    op.create_table(
        "applications",
        sa.Column(
            "number",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("fin", sa.String(length=7), nullable=False),
        sa.Column("subscriber_code", sa.String(length=32), nullable=False),
        sa.Column("open_lock", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_by_id", sa.BigInteger(), nullable=True),
        sa.Column("taken_by_name", sa.String(length=200), nullable=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_note", sa.Text(), nullable=True),
        sa.Column("staff_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("staff_message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["reason_code"], ["reasons.code"], name=op.f("fk_applications_reason_code_reasons")
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_applications")),
        sa.UniqueConstraint("open_lock", name=op.f("uq_applications_open_lock")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_applications_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_applications_fin"), ["fin"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_applications_subscriber_code"), ["subscriber_code"], unique=False
        )

    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "application_number",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_number"],
            ["applications.number"],
            name=op.f("fk_events_application_number_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_events_application_number"), ["application_number"], unique=False
        )

    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column(
            "application_number",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_number"],
            ["applications.number"],
            name=op.f("fk_outbox_application_number_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_dedupe_key")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_application_number"), ["application_number"], unique=False
        )
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)

    reasons = sa.table(
        "reasons",
        sa.column("code", sa.String),
        sa.column("kind", sa.String),
        sa.column("position", sa.Integer),
        sa.column("label_az", sa.String),
        sa.column("label_ru", sa.String),
        sa.column("label_en", sa.String),
        sa.column("active", sa.Boolean),
    )
    op.bulk_insert(
        reasons,
        [
            {
                "code": code,
                "kind": kind,
                "position": pos,
                "label_az": az,
                "label_ru": ru,
                "label_en": en,
                "active": True,
            }
            for pos, (code, kind, az, ru, en) in enumerate(REASONS, start=1)
        ],
    )


# The reason catalogue is data: operators may add rows or deactivate them in SQL.
REASONS = [
    (
        "absence",
        "suspend",
        "Müvəqqəti olmama (səfər, ezamiyyət)",
        "Временное отсутствие (поездка, командировка)",
        "Temporary absence (travel, posting)",
    ),
    (
        "renovation",
        "suspend",
        "Mənzildə təmir işləri",
        "Ремонт в квартире",
        "Renovation of the property",
    ),
    (
        "vacant",
        "suspend",
        "Əmlak boşdur və ya satışdadır",
        "Жильё пустует или продаётся",
        "Property vacant or for sale",
    ),
    (
        "seasonal",
        "suspend",
        "Mövsümi istifadə (bağ evi)",
        "Сезонное пользование (дача)",
        "Seasonal use (summer house)",
    ),
    ("suspend_other", "suspend", "Digər səbəb", "Другая причина", "Other reason"),
    ("returned", "restore", "Geri qayıtmışam", "Я вернулся(-ась)", "I have returned"),
    (
        "renovation_done",
        "restore",
        "Təmir işləri başa çatıb",
        "Ремонт завершён",
        "Renovation finished",
    ),
    (
        "new_occupant",
        "restore",
        "Əmlakda yeni sakin var",
        "В жильё въехал новый жилец",
        "A new occupant has moved in",
    ),
    ("restore_other", "restore", "Digər səbəb", "Другая причина", "Other reason"),
]


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.drop_index(batch_op.f("ix_outbox_application_number"))

    op.drop_table("outbox")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_events_application_number"))

    op.drop_table("events")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_subscriber_code"))
        batch_op.drop_index(batch_op.f("ix_applications_status"))
        batch_op.drop_index(batch_op.f("ix_applications_fin"))
        batch_op.drop_index(batch_op.f("ix_applications_created_at"))

    op.drop_table("applications")
    op.drop_table("users")
    op.drop_table("subscribers")
    op.drop_table("reasons")
    op.drop_table("chat_migrations")
