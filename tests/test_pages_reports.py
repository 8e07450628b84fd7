"""The queue and the scorecard pages over the hand-worked read model (no Temporal server): order,
filters, links, who may open them, the charts and the CSV export."""

from __future__ import annotations

import csv
import io
import re

from store.engine import make_engine, session_scope
from tests.pages_rig import sign_in
from tests.test_pages_signin import app_without_temporal
from tests.test_reports import NOW, record_examples


def load_examples(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'baton.db'}")
    with session_scope(engine) as session:
        record_examples(session)
    engine.dispose()


async def test_the_queue_lists_at_risk_handoffs_most_urgent_first(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, clock):
        load_examples(tmp_path)
        clock.now = NOW
        await sign_in(http, sender, "lena")
        page = await http.get("/queue")
        assert page.status_code == 200
        order = [wid.removeprefix("baton-hubspot-") for wid in re.findall(r'data-workflow-id="([^"]+)"', page.text)]
        assert order == ["h2", "h5", "h9", "h3", "h12", "h10"]
        assert "6 at risk." in page.text
        assert 'href="http://127.0.0.1:8233/namespaces/default/workflows/baton-hubspot-h2"' in page.text
        assert 'href="/h/hubspot/h2"' in page.text
        filtered = await http.get("/queue", params={"csm": "csm-enterprise", "team": "", "phase": ""})
        assert 'data-workflow-id="baton-hubspot-h3"' in filtered.text and 'baton-hubspot-h2"' not in filtered.text
        odd = await http.get("/queue", params={"team": "ünïcödé ' \" <script>", "page": "2"})
        assert odd.status_code == 200 and "0 at risk." in odd.text and "<script>" not in odd.text
        assert (await http.get("/queue", params={"page": "0"})).status_code == 422


async def test_the_queue_is_for_cs_people(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, clock):
        load_examples(tmp_path)
        clock.now = NOW
        await sign_in(http, sender, "maria")
        assert (await http.get("/queue")).status_code == 403
        http.cookies.clear()
        await sign_in(http, sender, "priya")
        own = await http.get("/queue", params={"csm": "csm-enterprise"})
        assert own.status_code == 200 and "0 at risk." in own.text  # a CSM sees their own handoffs only


async def test_the_scorecard_renders_tables_charts_and_csv(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, clock):
        load_examples(tmp_path)
        clock.now = NOW
        await sign_in(http, sender, "vera")
        page = await http.get("/scorecard", params={"by": "ae", "from": "2026-03-01", "to": "2026-05-01"})
        assert page.status_code == 200
        for title in (
            "Days from close to intro held",
            "Days from close to kickoff",
            "SLA compliance",
            "Tier mix per month",
        ):
            assert title in page.text
        assert page.text.count("<svg") == 4 and page.text.count("<rect") > 20
        assert "target 5 days" in page.text and "target 10 days" in page.text
        assert (await http.get("/scorecard", params={"by": "nonsense"})).status_code == 422
        assert (await http.get("/scorecard", params={"from": "2026-05-01", "to": "2026-03-01"})).status_code == 422
        exported = await http.get("/scorecard.csv", params={"by": "cs_team", "from": "2026-03-01", "to": "2026-05-01"})
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert rows[-1]["group"] == "overall" and int(rows[-1]["handoffs"]) == sum(
            int(r["handoffs"]) for r in rows[:-1]
        )
        assert "sla_kickoff_pct" in rows[0]


async def test_the_scorecard_is_for_leaders(tmp_path):
    async with app_without_temporal(tmp_path) as (http, sender, _):
        await sign_in(http, sender, "maria")
        assert (await http.get("/scorecard")).status_code == 403
        assert (await http.get("/scorecard.csv")).status_code == 403
        empty = http
        empty.cookies.clear()
        assert (await empty.get("/scorecard")).status_code == 303


def test_csv_cells_are_never_formulas():
    from api.pages.scorecard_page import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("-1") == "'-1" and _cell("Ada") == "Ada"


def test_histogram_buckets_and_axis():
    from api.pages.charts import histogram

    chart = histogram("Days", [0.2, 0.9, 4.5, 30.0], target=5.0, bucket=1.0, buckets=20)
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == max(heights) and heights[4] == heights[19] == heights[0] / 2  # 2, 1 and the open last bucket
    assert [label for _, label in chart.marks] == ["0", "1", "2"]
    assert chart.bars[19].label == "19+ days: 1" and chart.target[1] == "target 5 days"
    assert histogram("Days", [], target=5.0).empty
