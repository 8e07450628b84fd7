"""The queue's SQL on SQLite and PostgreSQL: the same handoffs in the same order as store.at_risk, then
filtered and paged by the database."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from store.at_risk import at_risk
from store.queue import QueueFilter, queue
from tests.test_reports import NOW, loaded  # noqa: F401 (the hand-worked read model, as a fixture)


def ids(page) -> list[str]:
    return [row.workflow_id.removeprefix("baton-hubspot-") for row in page.rows]


def test_the_queue_orders_as_at_risk_does(loaded):  # noqa: F811
    with Session(loaded.engine) as session:
        for soon in (timedelta(hours=24), timedelta(hours=1)):
            expected = [item.workflow_id.removeprefix("baton-hubspot-") for item in at_risk(session, NOW, soon)]
            page = queue(session, NOW, QueueFilter(), soon=soon)
            assert ids(page) == expected and page.total == len(expected)
        page = queue(session, NOW, QueueFilter())
    by_id = {row.workflow_id.removeprefix("baton-hubspot-"): row for row in page.rows}
    assert by_id["h2"].reasons == ["csm briefed breached", "intro held breached", "kickoff breached", "tier gaps"]
    assert by_id["h3"].reasons == ["csm briefed due soon", "tier blocked"]
    assert by_id["h12"].reasons == ["tier blocked"]


def test_filters_and_pages(loaded):  # noqa: F811
    with Session(loaded.engine) as session:
        everything = ids(queue(session, NOW, QueueFilter()))
        first, second = (
            queue(session, NOW, QueueFilter(), limit=4),
            queue(session, NOW, QueueFilter(), limit=4, offset=4),
        )
        assert ids(first) + ids(second) == everything and first.total == second.total == len(everything)
        h3 = queue(session, NOW, QueueFilter(csm="csm-enterprise"))
        assert "h3" in ids(h3) and all(row.csm == "csm-enterprise" for row in h3.rows)
        rows = queue(session, NOW, QueueFilter()).rows
        for column in ("cs_team", "approach", "phase"):
            value = next(getattr(r, column) for r in rows if getattr(r, column))
            filtered = queue(session, NOW, QueueFilter(**{column.replace("cs_", ""): value}))
            assert filtered.rows and all(getattr(r, column) == value for r in filtered.rows)
        assert queue(session, NOW, QueueFilter(team="no such team")).total == 0


def test_past_the_last_page_the_count_stays(loaded):  # noqa: F811
    with Session(loaded.engine) as session:
        everything = queue(session, NOW, QueueFilter())
        beyond = queue(session, NOW, QueueFilter(), limit=50, offset=50)
    assert beyond.rows == [] and beyond.total == everything.total > 0
