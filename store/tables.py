"""The read model: what reports and the API query. The workflow writes it and never reads it back."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Table, UniqueConstraint
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UtcDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on every dialect.

    SQLite keeps no offset, so a value is normalised to UTC before it is written and UTC is attached
    again when it is read; PostgreSQL's timestamptz round-trips as is.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the store keeps instants, give a UTC offset")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _instant(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UtcDateTime, nullable=nullable, index=index)


class HandoffRow(SQLModel, table=True):
    __tablename__ = "handoffs"

    workflow_id: str = Field(primary_key=True, max_length=200)
    crm: str = Field(max_length=32)
    deal_id: str = Field(max_length=128)
    # As long as domain.deal.MAX_NAME: the store keeps every name the Deal accepts (migration 0002).
    account: str = Field(default="", max_length=500, index=True)
    ae: str | None = Field(default=None, max_length=500)
    sales_manager: str | None = Field(default=None, max_length=500)
    csm: str | None = Field(default=None, max_length=200, index=True)
    cs_team: str | None = Field(default=None, max_length=200)
    approach: str | None = Field(default=None, max_length=32)
    segment: str | None = Field(default=None, max_length=32)
    phase: str = Field(max_length=32)
    outcome: str = Field(max_length=32, index=True)
    score: float | None = None
    tier: str | None = Field(default=None, max_length=16)
    completeness: float | None = None
    specific_share: float | None = None
    returned_to_sales: bool = False
    rework: bool = False
    amount_band: str | None = Field(default=None, max_length=32)
    acv: float | None = None
    closed_at: datetime | None = _instant(index=True)
    won_at: datetime | None = _instant()
    submitted_at: datetime | None = _instant()
    briefed_at: datetime | None = _instant()
    intake_reviewed_at: datetime | None = _instant()
    first_touch_at: datetime | None = _instant()
    intro_scheduled_at: datetime | None = _instant()
    intro_held_at: datetime | None = _instant()
    kickoff_at: datetime | None = _instant()
    transitioned_at: datetime | None = _instant()
    ended_at: datetime | None = _instant()
    csm_rating: int | None = None
    sla_breached: bool = False
    # The queue's two instants, kept with the row (migration 0005) so a page reads no SLA rows to
    # order the open handoffs: the oldest breach, and the soonest due of an SLA still open.
    first_breach_at: datetime | None = _instant()
    next_due_at: datetime | None = _instant()
    updated_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    last_seq: int = 0


class TimelineRow(SQLModel, table=True):
    __tablename__ = "timeline"
    __table_args__ = (UniqueConstraint("workflow_id", "seq", name="uq_timeline_workflow_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(max_length=200)
    seq: int
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    kind: str = Field(max_length=64, index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class SlaRow(SQLModel, table=True):
    __tablename__ = "slas"
    __table_args__ = (UniqueConstraint("workflow_id", "sla", name="uq_slas_workflow_sla"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(max_length=200)
    sla: str = Field(max_length=64)
    due: datetime = Field(sa_type=UtcDateTime, nullable=False)
    status: str = Field(max_length=16)
    met_at: datetime | None = _instant()
    breached_at: datetime | None = _instant()
    extended: bool = False
    extensions: int = 0
    escalations: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)


class RatingRow(SQLModel, table=True):
    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("workflow_id", "kind", name="uq_ratings_workflow_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(max_length=200)
    kind: str = Field(max_length=32)
    value: int
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class SurveyAnswerRow(SQLModel, table=True):
    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("workflow_id", "question", name="uq_survey_workflow_question"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(max_length=200)
    question: str = Field(max_length=200)
    answer: str
    at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class ChurnRow(SQLModel, table=True):
    __tablename__ = "churn"
    __table_args__ = (UniqueConstraint("account", "churned_on", name="uq_churn_account_day"),)

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=500)
    churned_on: date
    reason: str = ""
    source: str = Field(default="", max_length=64)
    recorded_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class CsmAssignmentRow(SQLModel, table=True):
    __tablename__ = "csm_assignments"

    workflow_id: str = Field(primary_key=True, max_length=200)
    csm_id: str = Field(max_length=200, index=True)
    team: str = Field(max_length=200)
    assigned_at: datetime = Field(sa_type=UtcDateTime, nullable=False)


class HandoffFactsRow(SQLModel, table=True):
    """What a backtest replays a handoff from, beside its timeline: the deal's facts without contact
    data (domain.backtest.recorded.DealRecord) and its 30-day check's answers and usage, not their text."""

    __tablename__ = "handoff_facts"

    workflow_id: str = Field(primary_key=True, max_length=200)
    deal: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    post_check: dict[str, Any] | None = Field(default=None, sa_type=JSON, nullable=True)


class RoundRobinRow(SQLModel, table=True):
    __tablename__ = "round_robin"

    team: str = Field(primary_key=True, max_length=200)
    position: int = 0


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model (its `__table__`, which SQLModel does not declare to type checkers)."""
    table = sa_inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


class PageSessionRow(SQLModel, table=True):
    """A person signed in to the pages: the server-side record a session cookie points at (api.pages).

    Only digests are kept, so a copied table opens no session and replays no sign-in link; no name or
    e-mail either, just the directory's person id."""

    __tablename__ = "page_sessions"
    # A sign-in link's nonce opens one session at most, however often the link is clicked.
    __table_args__ = (UniqueConstraint("link_nonce", name="uq_page_sessions_link_nonce"),)

    id: str = Field(primary_key=True, max_length=64, description="sha256 hex of the cookie's random token")
    person_id: str = Field(max_length=64, index=True)
    link_nonce: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UtcDateTime, nullable=False)
    ended_at: datetime | None = _instant()
