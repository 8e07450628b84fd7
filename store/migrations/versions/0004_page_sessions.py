"""Sessions of people signed in to the pages (magic-link sign-in).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.String(64), nullable=False),
        sa.Column("link_nonce", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("link_nonce", name="uq_page_sessions_link_nonce"),
    )
    op.create_index("ix_page_sessions_person_id", "page_sessions", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_page_sessions_person_id", table_name="page_sessions")
    op.drop_table("page_sessions")
