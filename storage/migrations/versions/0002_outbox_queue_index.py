"""outbox queue index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The outbox claim reads each recipient's oldest pending row.
    op.create_index("ix_outbox_queue", "outbox", ["status", "channel", "recipient", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_queue", table_name="outbox")
