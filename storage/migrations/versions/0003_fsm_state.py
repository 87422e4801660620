"""fsm state

Revision ID: 0003_fsm_state
Revises: 0002
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_fsm_state"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # aiogram's FSM and aiogram-dialog's stacks without Redis (storage.fsm).
    op.create_table(
        "fsm_state",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=255), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_fsm_state")),
    )
    # the purge of expired rows
    op.create_index(op.f("ix_fsm_state_updated_at"), "fsm_state", ["updated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_fsm_state_updated_at"), table_name="fsm_state")
    op.drop_table("fsm_state")
