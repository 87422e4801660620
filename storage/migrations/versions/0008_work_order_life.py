"""the whole life of a work order: a reason's deadline, the planned date, the due time, the
withdrawal, the citizen's confirmation and rating, the "until" date of a suspension and its
restoration offer, a photo with an event

Revision ID: 0008_work_order_life
Revises: 0007_identity
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_work_order_life"
down_revision: str | None = "0007_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPLICATION_COLUMNS = (
    ("planned_date", sa.String(length=10)),  # "2026-12-12", a Baku date
    ("planned_window", sa.String(length=16)),  # "morning" | "afternoon"
    ("due_at", sa.DateTime(timezone=True)),  # registration + the reason's deadline
    ("withdraw_requested_at", sa.DateTime(timezone=True)),
    ("confirm_asked_at", sa.DateTime(timezone=True)),
    ("citizen_answer", sa.String(length=8)),  # "yes" | "no"
    ("rating", sa.Integer()),
    ("rating_comment", sa.Text()),
    ("reopened_count", sa.Integer()),
    ("suspend_until", sa.String(length=10)),  # a Baku date
    ("restoration_offered_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    with op.batch_alter_table("reasons") as batch:
        batch.add_column(sa.Column("deadline_hours", sa.Integer(), nullable=True))
    with op.batch_alter_table("applications") as batch:
        for name, type_ in APPLICATION_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("photo_file_id", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("photo_file_id")
    with op.batch_alter_table("applications") as batch:
        for name, _ in reversed(APPLICATION_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("reasons") as batch:
        batch.drop_column("deadline_hours")
