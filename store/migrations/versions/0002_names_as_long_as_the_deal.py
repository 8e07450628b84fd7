"""Name columns as long as a Deal's names (500 characters).

PostgreSQL refused an account over 300 characters that the Deal accepted, and the store activity then
retried for ever; SQLite, which ignores VARCHAR lengths, took it. Both dialects now hold what the
Deal accepts (domain.deal.MAX_NAME).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_WIDENED = (
    ("handoffs", "account", 300, False),
    ("handoffs", "ae", 200, True),
    ("handoffs", "sales_manager", 200, True),
    ("churn", "account", 300, False),
)


def upgrade() -> None:
    for table, column, before, nullable in _WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, type_=sa.String(500), existing_type=sa.String(before), existing_nullable=nullable
            )


def downgrade() -> None:
    for table, column, before, nullable in _WIDENED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, type_=sa.String(before), existing_type=sa.String(500), existing_nullable=nullable
            )
