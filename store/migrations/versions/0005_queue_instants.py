"""The queue's instants on the handoff row: its oldest breach and the soonest due of an open SLA.

A page of the CS leads' queue then orders the open handoffs without reading their SLA rows; rows
written before are filled from their SLAs here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("first_breach_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        """
        UPDATE handoffs SET
          first_breach_at = (SELECT min(coalesce(s.breached_at, s.due)) FROM slas s
                             WHERE s.workflow_id = handoffs.workflow_id AND s.status = 'breached'),
          next_due_at = (SELECT min(s.due) FROM slas s
                         WHERE s.workflow_id = handoffs.workflow_id AND s.status IN ('pending', 'extended'))
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("next_due_at")
        batch.drop_column("first_breach_at")
