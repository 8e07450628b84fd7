"""Writes and lookups on the read model. Callers own the transaction (see `store.engine.session_scope`).

Every write is idempotent: an activity may run more than once for one call (a retry after a lost
response) and an older state may arrive after a newer one, and neither may double or regress a row.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col

from domain.roles import SlaName
from domain.state import DeadlineStatus, HandoffState, Outcome
from store.engine import SQLITE_IMMEDIATE
from store.tables import (
    ChurnRow,
    HandoffRow,
    RatingRow,
    SlaRow,
    SurveyAnswerRow,
    TimelineRow,
    table_of,
)

CSM_RATING = "csm_rating"
FIRST_TOUCH_NPS = "first_touch_nps"

# Reporting bands of the ACV in the policy's base currency. Fixed here rather than taken from the
# policy's approach bands, so a report compares like with like across policy changes.
AMOUNT_BANDS: list[tuple[float, str]] = [
    (10_000, "<10k"),
    (25_000, "10k-25k"),
    (50_000, "25k-50k"),
    (100_000, "50k-100k"),
    (250_000, "100k-250k"),
]
TOP_BAND = "250k+"


def amount_band(acv: float) -> str:
    return next((label for below, label in AMOUNT_BANDS if acv < below), TOP_BAND)


def insert_ignoring_conflicts(session: Session, model: type[SQLModel]) -> Any:
    """INSERT with ON CONFLICT support: both dialects have it, SQLAlchemy's core insert does not."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise ValueError(f"the store supports SQLite and PostgreSQL, not {dialect}")


def begin_write(session: Session) -> None:
    """On SQLite, open the transaction with the write lock (see `store.engine.session_scope`).

    Only possible before the session's first statement; a transaction already under way is left as
    it is, and its caller should have asked for `session_scope(engine, write=True)`.
    """
    if session.get_bind().dialect.name == "sqlite" and not session.in_transaction():
        session.connection(execution_options={SQLITE_IMMEDIATE: True})


def _upsert(session: Session, model: type[SQLModel], rows: list[dict], keys: list[str]) -> None:
    if not rows:
        return
    stmt = insert_ignoring_conflicts(session, model).values(rows)
    updated = {name: stmt.excluded[name] for name in rows[0] if name not in keys}
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updated))


# --- the workflow's state ---------------------------------------------------------------------


def handoff_values(state: HandoffState) -> dict[str, Any]:
    deal, facts, quality, owners = state.deal, state.facts, state.quality, state.owners
    approach = state.approach.approach.value if state.approach else None
    acv = state.approach.acv_in_base if state.approach else deal.annual_value
    last_seq = max((entry.seq for entry in state.timeline), default=0)
    # The workflow's clock, not the store's: a replayed call writes the same row, and a simulated run
    # (scenario time mapped onto server time) reports its own instants.
    updated_at = max((entry.at for entry in state.timeline), default=None) or datetime.now(UTC)
    return {
        "workflow_id": state.workflow_id,
        "crm": deal.crm,
        "deal_id": deal.deal_id,
        "account": deal.account,
        "ae": owners.ae or deal.ae or None,
        "sales_manager": owners.sales_manager or deal.sales_manager or None,
        "csm": owners.csm or None,
        "cs_team": owners.cs_team or None,
        "approach": approach,
        "segment": approach,
        "phase": state.phase.value,
        "outcome": state.outcome.value,
        "score": quality.score if quality else None,
        "tier": quality.tier.value if quality else None,
        "completeness": quality.completeness if quality else None,
        "specific_share": quality.specific_share if quality else None,
        "returned_to_sales": state.returned_to_sales,
        # DECISIONS.md "Completeness": re-work is a handoff sent back (blocked) or one needing an AE
        # follow-up on gaps, whether or not that follow-up was later met.
        "rework": state.returned_to_sales or SlaName.AE_FOLLOW_UP in state.deadlines,
        "amount_band": amount_band(acv),
        "acv": acv,
        "closed_at": deal.closed_at,
        "won_at": facts.won_at,
        "submitted_at": facts.submitted_at,
        "briefed_at": facts.briefed_at,
        "intake_reviewed_at": state.intake.at if state.intake else None,
        "first_touch_at": facts.first_touch_at,
        "intro_scheduled_at": facts.intro_scheduled_at,
        "intro_held_at": facts.intro_held_at,
        "kickoff_at": facts.kickoff_at,
        "transitioned_at": facts.transitioned_at,
        "ended_at": facts.ended_at,
        "csm_rating": state.intake.rating if state.intake else None,
        "sla_breached": state.sla_breached,
        "first_breach_at": min(
            (d.breached_at or d.due for d in state.deadlines.values() if d.status is DeadlineStatus.BREACHED),
            default=None,
        ),
        "next_due_at": min((d.due for d in state.deadlines.values() if d.open), default=None),
        "updated_at": updated_at,
        "last_seq": last_seq,
    }


def _sla_values(state: HandoffState) -> list[dict[str, Any]]:
    rows = []
    for name, deadline in state.deadlines.items():
        rows.append(
            {
                "workflow_id": state.workflow_id,
                "sla": name.value,
                "due": deadline.due,
                "status": deadline.status.value,
                "met_at": deadline.met_at,
                "breached_at": deadline.breached_at,
                "extended": bool(deadline.extensions) or deadline.status is DeadlineStatus.EXTENDED,
                "extensions": len(deadline.extensions),
                "escalations": [
                    {"to": step.to.value, "at": step.at.astimezone(UTC).isoformat(), "fired": step.fired}
                    for step in deadline.escalations
                ],
            }
        )
    return rows


def record_state(session: Session, state: HandoffState) -> int:
    """Write the handoff's row, its new timeline entries, SLAs and intake rating; return new entries.

    A state older than what is stored (fewer timeline entries) changes nothing: the row is only
    overwritten when the incoming state has come at least as far.
    """
    begin_write(session)
    values = handoff_values(state)
    previous_seq = session.scalar(
        select(col(HandoffRow.last_seq)).where(col(HandoffRow.workflow_id) == state.workflow_id)
    )

    stmt = insert_ignoring_conflicts(session, HandoffRow).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["workflow_id"],
        set_={name: stmt.excluded[name] for name in values if name != "workflow_id"},
        where=table_of(HandoffRow).c.last_seq <= stmt.excluded.last_seq,
    ).returning(table_of(HandoffRow).c.workflow_id)
    fresh = session.execute(stmt).first() is not None

    new_entries = [entry for entry in state.timeline if entry.seq > (previous_seq or 0)]
    added = 0
    if new_entries:
        rows = [
            {
                "workflow_id": state.workflow_id,
                "seq": entry.seq,
                "at": entry.at,
                "kind": entry.kind.value,
                "details": entry.model_dump(mode="json")["details"],
            }
            for entry in new_entries
        ]
        inserted = (
            insert_ignoring_conflicts(session, TimelineRow)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["workflow_id", "seq"])
        )
        added = len(session.execute(inserted.returning(table_of(TimelineRow).c.id)).all())

    if fresh:
        # What a backtest replays (store/handoff_facts.py); imported here, as it imports this module.
        from store.handoff_facts import record_facts

        record_facts(session, state)
        _upsert(session, SlaRow, _sla_values(state), ["workflow_id", "sla"])
        if state.intake is not None:
            rating = {
                "workflow_id": state.workflow_id,
                "kind": CSM_RATING,
                "value": state.intake.rating,
                "at": state.intake.at,
            }
            _upsert(session, RatingRow, [rating], ["workflow_id", "kind"])
    return added


def was_handed_off(session: Session, workflow_id: str) -> bool:
    """Whether this deal was won and handed off, so a repeated won event must start nothing.

    A deal whose run ended lost may be won later (DECISIONS.md "Messages"), hence the outcome check.
    """
    found = session.scalar(
        select(col(HandoffRow.workflow_id)).where(
            col(HandoffRow.workflow_id) == workflow_id,
            col(HandoffRow.won_at).is_not(None),
            col(HandoffRow.outcome) != Outcome.LOST.value,
        )
    )
    return found is not None


# --- what people and other systems report -------------------------------------------------------


def record_nps(session: Session, workflow_id: str, nps: int, at: datetime) -> None:
    """The first-touch NPS of a deal; a corrected answer replaces the earlier one."""
    if not 0 <= nps <= 10:
        raise ValueError(f"NPS is 0 to 10 (got {nps})")
    begin_write(session)
    row = {"workflow_id": workflow_id, "kind": FIRST_TOUCH_NPS, "value": nps, "at": at}
    _upsert(session, RatingRow, [row], ["workflow_id", "kind"])


def record_churn(session: Session, account: str, churned_on: date, reason: str, source: str) -> bool:
    """Record that an account churned; False when that churn was already known (the first report stays)."""
    begin_write(session)
    row = {
        "account": account,
        "churned_on": churned_on,
        "reason": reason,
        "source": source,
        "recorded_at": datetime.now(UTC),
    }
    stmt = (
        insert_ignoring_conflicts(session, ChurnRow)
        .values(row)
        .on_conflict_do_nothing(index_elements=["account", "churned_on"])
    )
    return session.execute(stmt.returning(table_of(ChurnRow).c.id)).first() is not None


def record_survey_answers(session: Session, workflow_id: str, answers: dict[str, str], at: datetime) -> int:
    """Post-handoff survey answers; answering a question again replaces the earlier answer."""
    begin_write(session)
    rows = [
        {"workflow_id": workflow_id, "question": question, "answer": answer, "at": at}
        for question, answer in answers.items()
    ]
    _upsert(session, SurveyAnswerRow, rows, ["workflow_id", "question"])
    return len(rows)
