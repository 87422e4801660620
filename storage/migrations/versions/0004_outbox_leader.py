"""outbox leader

Revision ID: 0004_outbox_leader
Revises: 0003_fsm_state
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_outbox_leader"
down_revision: str | None = "0003_fsm_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Which worker's dispatcher sends the Telegram rows (one at a time: the limits are the
    # bot's), leased like a row (storage.outbox).
    op.create_table(
        "outbox_leader",
        sa.Column("lane", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lane", name=op.f("pk_outbox_leader")),
    )
    # A new leader counts the last minute's sends in its limits.
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
    op.drop_table("outbox_leader")
