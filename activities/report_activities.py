"""Report activities: the monthly governance review read from the store. Sync, on the worker's thread pool."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session
from temporalio import activity

from store import governance as gov
from store.governance import GovernanceReport


class GovernanceRequest(BaseModel):
    month: date
    threshold: float = gov.ROOT_CAUSE_THRESHOLD


class GovernanceReview(BaseModel):
    """This month's and last month's reports; `root_cause` lists the groups (`overall` or a CS team)
    under the threshold both months, which call for a root-cause analysis."""

    current: GovernanceReport
    previous: GovernanceReport
    threshold: float
    root_cause: list[str]


class ReportActivities:
    """Owns a read-only use of the store's engine; the worker builds one instance from its settings."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="report_governance")
    def governance(self, request: GovernanceRequest) -> GovernanceReview:
        with Session(self.engine) as session:
            current = gov.governance(session, request.month)
            previous = gov.governance(session, gov.previous_month(request.month))
        return GovernanceReview(
            current=current,
            previous=previous,
            threshold=request.threshold,
            root_cause=gov.root_cause_groups(current, previous, request.threshold),
        )


def _rate(value: float | None) -> str:
    return "no handoffs" if value is None else f"{value:.1f}%"


def governance_text(review: GovernanceReview) -> str:
    """The message RevOps reads: completion and quality per team, this month against last."""
    lines = [f"Handoff governance for {review.current.month} (previous: {review.previous.month})"]
    for row in [review.current.overall, *review.current.teams]:
        before = review.previous.completion_of(row.group)
        quality = "n/a" if row.quality_score is None else f"{row.quality_score:.1f}"
        lines.append(
            f"- {row.group}: {row.handoffs} handoffs, completion {_rate(row.completion_rate)} "
            f"(was {_rate(before)}), mean quality score {quality}"
        )
    if review.root_cause:
        lines.append(
            f"Completion under {review.threshold:g}% two months running for: {', '.join(review.root_cause)}. "
            "Run a root-cause analysis with 3-5 AEs and 3-5 CSMs before taking action."
        )
    return "\n".join(lines)
