"""The leaders' scorecard (`/scorecard`, `/scorecard.csv`): store.reports' figures by AE, CS team,
segment or month with the seeds' targets, and charts drawn on the server."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlmodel import Session

from api.pages import charts
from api.pages.access import display_name, reads_scorecard
from api.pages.errors import PageError
from api.pages.render import render
from api.pages.viewer import Viewer, clock, require_viewer
from store.handoff_times import days_to_intro_and_kickoff
from store.reports import Scorecard, ScorecardRow, scorecard

router = APIRouter(include_in_schema=False)
GroupBy = Literal["ae", "cs_team", "segment", "month"]
GROUPS = {"ae": "AE", "cs_team": "CS team", "segment": "Segment", "month": "Month"}


def _read(engine, by: GroupBy, start: date | None, end: date | None, now: datetime):
    with Session(engine) as session:
        card = scorecard(session, by, start, end, now)
        months = card if by == "month" else scorecard(session, "month", start, end, now)
        intro, kickoff = days_to_intro_and_kickoff(session, start, end, now)
    return card, months, intro, kickoff


def _viewer_may_read(viewer: Viewer) -> None:
    if not reads_scorecard(viewer.roles):
        raise PageError(403, "The scorecard is for sales managers, VPs, CS leads, CS managers and RevOps.")


def _window(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise PageError(422, "The end date is before the start date.")


Day = Annotated[date | None, Query()]


@router.get("/scorecard")
async def scorecard_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(require_viewer)],
    by: GroupBy = "ae",
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    _viewer_may_read(viewer)
    _window(start, end)
    card, months, intro, kickoff = await asyncio.to_thread(
        _read, request.app.state.engine, by, start, end, clock(request)
    )
    compliance = [(name.replace("_", " "), sla.rate) for name, sla in card.overall.sla_compliance.items()]
    context = {
        "card": card,
        "by": by,
        "groups": GROUPS,
        "start": start,
        "end": end,
        "rows": [(_label(viewer, by, row.group), row) for row in card.rows],
        "intro_chart": charts.histogram("Days from close to intro held", intro, 5.0),
        "kickoff_chart": charts.histogram("Days from close to kickoff", kickoff, 10.0),
        "sla_chart": charts.horizontal_bars("SLA compliance (met of settled)", compliance),
        "tier_chart": charts.stacked_tiers("Tier mix per month", [(r.group, r.tiers) for r in months.rows]),
        "sla_names": sorted(card.overall.sla_compliance),
    }
    return render(request, "scorecard.html", context, viewer)


@router.get("/scorecard.csv")
async def scorecard_csv(
    request: Request,
    viewer: Annotated[Viewer, Depends(require_viewer)],
    by: GroupBy = "ae",
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    _viewer_may_read(viewer)
    _window(start, end)
    card, _, _, _ = await asyncio.to_thread(_read, request.app.state.engine, by, start, end, clock(request))
    return Response(
        to_csv(card, lambda group: _label(viewer, by, group)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="baton-scorecard-{by}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _label(viewer: Viewer, by: GroupBy, group: str) -> str:
    return display_name(viewer.directory, group) if by == "ae" else group


FIGURES = (
    ("completeness", "completeness_pct"),
    ("specific_share", "specific_share_pct"),
    ("quality_score", "quality_score"),
    ("time_to_intro_median", "intro_days_median"),
    ("time_to_intro_p90", "intro_days_p90"),
    ("time_to_kickoff_median", "kickoff_days_median"),
    ("time_to_kickoff_p90", "kickoff_days_p90"),
    ("intake_within_24h", "intake_within_24h_pct"),
    ("csm_rating", "csm_rating"),
    ("first_touch_nps", "first_touch_nps"),
    ("rework_rate", "rework_pct"),
)


def _cell(text: str) -> str:
    # A cell starting with = + - @ is a formula to a spreadsheet; a group name is not one.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(card: Scorecard, label) -> str:
    slas = sorted(card.overall.sla_compliance)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "group",
            "handoffs",
            *(name for _, name in FIGURES),
            "ready",
            "gaps",
            "blocked",
            *(f"sla_{s}_pct" for s in slas),
        ]
    )
    rows: list[tuple[str, ScorecardRow]] = [(label(r.group), r) for r in card.rows] + [("overall", card.overall)]
    for group, row in rows:
        figures = [getattr(row, attr).value for attr, _ in FIGURES]
        tiers = [row.tiers.get(t, 0) for t in ("ready", "gaps", "blocked")]
        compliance = [row.sla_compliance[s].rate if s in row.sla_compliance else None for s in slas]
        writer.writerow(
            [
                _cell(group),
                row.handoffs,
                *("" if v is None else v for v in figures),
                *tiers,
                *("" if v is None else v for v in compliance),
            ]
        )
    return out.getvalue()
