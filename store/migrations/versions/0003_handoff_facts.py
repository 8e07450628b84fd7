"""What a backtest replays a handoff from: the deal's facts without contact data, and its 30-day
check's answers (the timeline, already kept, gives the rest).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoff_facts",
        sa.Column("workflow_id", sa.String(200), primary_key=True),
        sa.Column("deal", sa.JSON(), nullable=False),
        sa.Column("post_check", sa.JSON(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("handoff_facts")
