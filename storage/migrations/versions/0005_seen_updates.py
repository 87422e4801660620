"""seen updates

Revision ID: 0005_seen_updates
Revises: 0004_outbox_leader
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_seen_updates"
# Written beside 0004 (the outbox's); chained after it when both are on main.
down_revision: str | None = "0004_outbox_leader"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # update_id de-duplication without Redis (storage.seen_updates).
    op.create_table(
        "seen_updates",
        sa.Column("bot_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("bot_id", "update_id", name=op.f("pk_seen_updates")),
    )
    # the purge of expired rows
    op.create_index(op.f("ix_seen_updates_expires_at"), "seen_updates", ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_seen_updates_expires_at"), table_name="seen_updates")
    op.drop_table("seen_updates")
