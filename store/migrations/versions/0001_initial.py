"""The read model's first tables.

Revision ID: 0001
Revises:
Create Date: 2026-03-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Spelled out rather than imported from store.tables: a migration must keep creating what it created
# the day it was written, whatever the models become.
_WF = 200


def _instant(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("workflow_id", sa.String(_WF), primary_key=True),
        sa.Column("crm", sa.String(32), nullable=False),
        sa.Column("deal_id", sa.String(128), nullable=False),
        sa.Column("account", sa.String(300), nullable=False),
        sa.Column("ae", sa.String(200), nullable=True),
        sa.Column("sales_manager", sa.String(200), nullable=True),
        sa.Column("csm", sa.String(200), nullable=True),
        sa.Column("cs_team", sa.String(200), nullable=True),
        sa.Column("approach", sa.String(32), nullable=True),
        sa.Column("segment", sa.String(32), nullable=True),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("tier", sa.String(16), nullable=True),
        sa.Column("completeness", sa.Float(), nullable=True),
        sa.Column("specific_share", sa.Float(), nullable=True),
        sa.Column("returned_to_sales", sa.Boolean(), nullable=False),
        sa.Column("rework", sa.Boolean(), nullable=False),
        sa.Column("amount_band", sa.String(32), nullable=True),
        sa.Column("acv", sa.Float(), nullable=True),
        _instant("closed_at"),
        _instant("won_at"),
        _instant("submitted_at"),
        _instant("briefed_at"),
        _instant("intake_reviewed_at"),
        _instant("first_touch_at"),
        _instant("intro_scheduled_at"),
        _instant("intro_held_at"),
        _instant("kickoff_at"),
        _instant("transitioned_at"),
        _instant("ended_at"),
        sa.Column("csm_rating", sa.Integer(), nullable=True),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        _instant("updated_at", nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
    )
    op.create_index("ix_handoffs_account", "handoffs", ["account"])
    op.create_index("ix_handoffs_csm", "handoffs", ["csm"])
    op.create_index("ix_handoffs_outcome", "handoffs", ["outcome"])
    op.create_index("ix_handoffs_closed_at", "handoffs", ["closed_at"])

    op.create_table(
        "timeline",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(_WF), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _instant("at", nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.UniqueConstraint("workflow_id", "seq", name="uq_timeline_workflow_seq"),
    )
    op.create_index("ix_timeline_kind", "timeline", ["kind"])

    op.create_table(
        "slas",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(_WF), nullable=False),
        sa.Column("sla", sa.String(64), nullable=False),
        _instant("due", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _instant("met_at"),
        _instant("breached_at"),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.Column("escalations", sa.JSON(), nullable=False),
        sa.UniqueConstraint("workflow_id", "sla", name="uq_slas_workflow_sla"),
    )

    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(_WF), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        _instant("at", nullable=False),
        sa.UniqueConstraint("workflow_id", "kind", name="uq_ratings_workflow_kind"),
    )

    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("workflow_id", sa.String(_WF), nullable=False),
        sa.Column("question", sa.String(200), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        _instant("at", nullable=False),
        sa.UniqueConstraint("workflow_id", "question", name="uq_survey_workflow_question"),
    )

    op.create_table(
        "churn",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(300), nullable=False),
        sa.Column("churned_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        _instant("recorded_at", nullable=False),
        sa.UniqueConstraint("account", "churned_on", name="uq_churn_account_day"),
    )

    op.create_table(
        "csm_assignments",
        sa.Column("workflow_id", sa.String(_WF), primary_key=True),
        sa.Column("csm_id", sa.String(200), nullable=False),
        sa.Column("team", sa.String(200), nullable=False),
        _instant("assigned_at", nullable=False),
    )
    op.create_index("ix_csm_assignments_csm_id", "csm_assignments", ["csm_id"])

    op.create_table(
        "round_robin",
        sa.Column("team", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "round_robin",
        "csm_assignments",
        "churn",
        "survey_answers",
        "ratings",
        "slas",
        "timeline",
        "handoffs",
    ):
        op.drop_table(table)
