"""reason labels per locale

The labels of the reason catalogue leave the columns label_az/label_ru/label_en for a table
keyed by reason and locale, so that a language is rows, not a migration. The labels are
copied; the downgrade puts them back into the columns (a language other than az/ru/en is
lost then, and a missing label takes the az one, or the code).

Revision ID: 0006_reason_labels
Revises: 0005_seen_updates
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_reason_labels"
down_revision: str | None = "0005_seen_updates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMN_LOCALES = ("az", "ru", "en")

reasons = sa.table(
    "reasons",
    sa.column("code", sa.String),
    *(sa.column(f"label_{locale}", sa.String) for locale in COLUMN_LOCALES),
)
reason_labels = sa.table(
    "reason_labels",
    sa.column("reason_code", sa.String),
    sa.column("locale", sa.String),
    sa.column("label", sa.String),
)


def upgrade() -> None:
    op.create_table(
        "reason_labels",
        sa.Column("reason_code", sa.String(length=32), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["reason_code"], ["reasons.code"], name=op.f("fk_reason_labels_reason_code_reasons")
        ),
        sa.PrimaryKeyConstraint("reason_code", "locale", name=op.f("pk_reason_labels")),
    )
    for locale in COLUMN_LOCALES:
        column = reasons.c[f"label_{locale}"]
        op.execute(
            reason_labels.insert().from_select(
                ["reason_code", "locale", "label"],
                sa.select(reasons.c.code, sa.literal(locale), column).where(column != ""),
            )
        )
    with op.batch_alter_table("reasons", schema=None) as batch_op:
        for locale in COLUMN_LOCALES:
            batch_op.drop_column(f"label_{locale}")


def _label(locale: str) -> sa.ScalarSelect:
    return (
        sa.select(reason_labels.c.label)
        .where(reason_labels.c.reason_code == reasons.c.code, reason_labels.c.locale == locale)
        .scalar_subquery()
    )


def downgrade() -> None:
    with op.batch_alter_table("reasons", schema=None) as batch_op:
        for locale in COLUMN_LOCALES:
            batch_op.add_column(sa.Column(f"label_{locale}", sa.String(length=200), nullable=True))
    op.execute(
        reasons.update().values(
            {
                f"label_{locale}": sa.func.coalesce(_label(locale), _label("az"), reasons.c.code)
                for locale in COLUMN_LOCALES
            }
        )
    )
    with op.batch_alter_table("reasons", schema=None) as batch_op:
        for locale in COLUMN_LOCALES:
            batch_op.alter_column(
                f"label_{locale}", existing_type=sa.String(length=200), nullable=False
            )
    op.drop_table("reason_labels")
