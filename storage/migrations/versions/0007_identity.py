"""identity: who filed an application and how they were identified; verified bindings of an
account to a FIN; the audit and agents' access logs; e-gov login states; probe counters

Revision ID: 0007_identity
Revises: 0006_reason_labels
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_identity"
down_revision: str | None = "0006_reason_labels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The registry's phone of a subscriber: a Telegram-verified contact equal to it proves the
    # owner FIN (NULL: none on record).
    with op.batch_alter_table("subscribers") as batch:
        batch.add_column(sa.Column("phone", sa.String(length=20), nullable=True))
    # The phone Telegram verified for the account (a shared contact of its own), kept to match
    # the registry's phone of the codes it tries.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("verified_phone", sa.String(length=20), nullable=True))
    # How the applicant was identified (NULL on older rows: the FIN was typed) and when the
    # personal fields were anonymised (erasure or retention).
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("identified_by", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(
            batch.f("ix_applications_telegram_user_id"), ["telegram_user_id"], unique=False
        )
        batch.create_index(batch.f("ix_applications_closed_at"), ["closed_at"], unique=False)
    op.create_table(
        "verifications",
        sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("fin", sa.String(length=7), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("telegram_user_id", "fin", name=op.f("pk_verifications")),
    )
    op.create_index(op.f("ix_verifications_fin"), "verifications", ["fin"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index(op.f("ix_audit_log_subject"), "audit_log", ["subject"])
    op.create_table(
        "agent_access",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("command", sa.String(length=16), nullable=False),
        sa.Column("query", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_access")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_agent_access_at"), "agent_access", ["at"])
    op.create_index(op.f("ix_agent_access_agent_id"), "agent_access", ["agent_id"])
    op.create_table(
        "oidc_states",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("code_verifier", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_oidc_states")),
    )
    op.create_index(op.f("ix_oidc_states_expires_at"), "oidc_states", ["expires_at"])
    op.create_table(
        "probes",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("account", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day", "account", "kind", "value_hash", name=op.f("pk_probes")),
    )
    op.create_index(op.f("ix_probes_value_hash"), "probes", ["day", "kind", "value_hash"])


def downgrade() -> None:
    op.drop_index(op.f("ix_probes_value_hash"), table_name="probes")
    op.drop_table("probes")
    op.drop_index(op.f("ix_oidc_states_expires_at"), table_name="oidc_states")
    op.drop_table("oidc_states")
    op.drop_index(op.f("ix_agent_access_agent_id"), table_name="agent_access")
    op.drop_index(op.f("ix_agent_access_at"), table_name="agent_access")
    op.drop_table("agent_access")
    op.drop_index(op.f("ix_audit_log_subject"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_verifications_fin"), table_name="verifications")
    op.drop_table("verifications")
    with op.batch_alter_table("applications") as batch:
        batch.drop_index(batch.f("ix_applications_closed_at"))
        batch.drop_index(batch.f("ix_applications_telegram_user_id"))
        batch.drop_column("anonymised_at")
        batch.drop_column("identified_by")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("verified_phone")
    with op.batch_alter_table("subscribers") as batch:
        batch.drop_column("phone")
