"""The close-date and SLA-start rules, and how ingestion places a CRM's close (issue 12, items 2-3)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from api.crm import parse_cdc, parse_hubspot_workflow, parse_pipedrive
from api.ingest_plan import plan
from domain.calendar import BusinessCalendar
from domain.close_date import close_instant, date_only, order_created
from domain.policy import Policy, parse_policy
from domain.sla_start import SlaStart, sla_anchor

pytestmark = pytest.mark.unit

NEW_YORK = BusinessCalendar(holidays=[date(2026, 2, 16)])  # America/New_York, mon-fri, 09:00-17:00
# Friday 6 March 2026: 17:00 in New York is 22:00 UTC (EST, before the 8 March DST change).
FRIDAY = date(2026, 3, 6)
FRIDAY_END = datetime(2026, 3, 6, 22, tzinfo=UTC)


def test_a_date_is_the_end_of_that_working_day_in_the_calendars_timezone():
    # Midnight UTC would be 19:00 on Thursday in New York: a day early.
    assert close_instant(FRIDAY, NEW_YORK) == FRIDAY_END


def test_a_date_on_a_weekend_or_holiday_is_the_next_working_days_end():
    saturday = date(2026, 3, 7)
    assert close_instant(saturday, NEW_YORK) == datetime(2026, 3, 9, 21, tzinfo=UTC)  # Monday, EDT
    presidents_day = date(2026, 2, 16)
    assert close_instant(presidents_day, NEW_YORK) == datetime(2026, 2, 17, 22, tzinfo=UTC)


def test_learning_of_the_win_earlier_that_local_day_wins():
    learned = datetime(2026, 3, 6, 15, 30, tzinfo=UTC)  # 10:30 in New York
    assert close_instant(FRIDAY, NEW_YORK, learned) == learned
    # Learned the evening before (local Thursday) or after day_end: the date's end stands.
    assert close_instant(FRIDAY, NEW_YORK, datetime(2026, 3, 6, 3, tzinfo=UTC)) == FRIDAY_END
    assert close_instant(FRIDAY, NEW_YORK, datetime(2026, 3, 6, 23, tzinfo=UTC)) == FRIDAY_END


def test_an_instant_stays_an_instant():
    won = datetime(2026, 3, 6, 14, 2, 11, tzinfo=UTC)
    assert close_instant(won, NEW_YORK, datetime(2026, 3, 6, 12, tzinfo=UTC)) == won


def test_hubspot_midnight_utc_is_a_date():
    assert date_only(datetime(2026, 3, 6, tzinfo=UTC)) == FRIDAY
    precise = datetime(2026, 3, 6, 0, 0, 1, tzinfo=UTC)
    assert date_only(precise) == precise


def test_a_creation_after_a_date_only_close_on_that_day_is_a_zero_cycle_and_later_is_unknown():
    created_same_day = datetime(2026, 3, 6, 23, tzinfo=UTC)  # 18:00 in New York, after 17:00
    assert order_created(created_same_day, FRIDAY_END, True, NEW_YORK) == FRIDAY_END
    entered_days_later = datetime(2026, 3, 10, 15, tzinfo=UTC)
    assert order_created(entered_days_later, FRIDAY_END, True, NEW_YORK) is None
    assert order_created(created_same_day, FRIDAY_END - timedelta(hours=3), False, NEW_YORK) is None
    earlier = datetime(2026, 1, 5, 15, tzinfo=UTC)
    assert order_created(earlier, FRIDAY_END, True, NEW_YORK) == earlier


@pytest.mark.parametrize(
    ("rule", "learned", "expected"),
    [
        (None, datetime(2026, 3, 12, tzinfo=UTC), (FRIDAY_END, SlaStart.CLOSE)),
        (SlaStart.CLOSE, datetime(2026, 3, 12, tzinfo=UTC), (FRIDAY_END, SlaStart.CLOSE)),
        (
            SlaStart.LEARNED,
            datetime(2026, 3, 6, 15, tzinfo=UTC),
            (datetime(2026, 3, 6, 15, tzinfo=UTC), SlaStart.LEARNED),
        ),
        (SlaStart.LATER_OF, datetime(2026, 3, 12, tzinfo=UTC), (datetime(2026, 3, 12, tzinfo=UTC), SlaStart.LEARNED)),
        (SlaStart.LATER_OF, datetime(2026, 3, 6, 15, tzinfo=UTC), (FRIDAY_END, SlaStart.CLOSE)),
        (SlaStart.LATER_OF, None, (FRIDAY_END, SlaStart.CLOSE)),
    ],
)
def test_sla_anchor(rule, learned, expected):
    assert sla_anchor(rule, FRIDAY_END, learned) == expected


def test_new_policies_start_slas_at_the_later_of_and_snapshots_without_the_key_at_the_close():
    assert parse_policy(None).sla_start is SlaStart.LATER_OF
    assert parse_policy({"sla_start": "close"}).sla_start is SlaStart.CLOSE
    # A snapshot written before the key existed is validated without it.
    old_snapshot = parse_policy(None).model_dump(mode="json")
    del old_snapshot["sla_start"]
    assert Policy.model_validate(old_snapshot).sla_start is None


# ---- every parser's close reaches plan() the same way ------------------------------------------

LEARNED = datetime(2026, 3, 9, 14, tzinfo=UTC)  # Monday 10:00 in New York: the rep marked it won late


def _placed(events):
    [planned] = plan(events, parse_policy(None), learned_at=LEARNED)
    return planned.deal


def test_salesforce_close_date_is_placed_in_the_policy_timezone_not_midnight_utc():
    body = {
        "ChangeEventHeader": {
            "entityName": "Opportunity", "changeType": "UPDATE", "recordIds": ["0065g00000XyZabAAF"],
            "transactionKey": "0001a2b3-c4d5", "sequenceNumber": 1, "commitTimestamp": 1741279320000,
            "commitUser": "0055g00000AbCdEAAV", "changedFields": ["StageName", "CloseDate"],
        },
        "StageName": "Closed Won", "CloseDate": "2026-03-06", "CreatedDate": "2026-03-06T23:30:00.000Z",
    }  # fmt: skip
    deal = _placed(parse_cdc(json.dumps(body).encode()))
    assert deal.closed_at == FRIDAY_END
    # Created that evening after 17:00 local: created and won the same day, a zero-length cycle.
    assert deal.created_at == FRIDAY_END


def test_hubspot_date_picker_close_is_a_date_and_a_precise_one_an_instant():
    def workflow_body(closedate: int) -> bytes:
        return json.dumps(
            {
                "objectId": 9876543210,
                "properties": {"dealstage": {"value": "closedwon"}, "closedate": {"value": closedate}},
            }
        ).encode()

    midnight = int(datetime(2026, 3, 6, tzinfo=UTC).timestamp() * 1000)
    assert _placed(parse_hubspot_workflow(workflow_body(midnight))).closed_at == FRIDAY_END
    precise = int(datetime(2026, 3, 6, 16, 45, tzinfo=UTC).timestamp() * 1000)
    assert _placed(parse_hubspot_workflow(workflow_body(precise))).closed_at == datetime(2026, 3, 6, 16, 45, tzinfo=UTC)


def test_pipedrive_won_time_is_an_instant():
    body = {
        "meta": {"version": "2.0", "entity": "deal", "action": "change", "id": "7b6e", "timestamp": "2026-03-06T14:02:11Z"},
        "data": {"id": 4211, "status": "won", "won_time": "2026-03-06T14:02:11Z", "add_time": "2026-01-10T09:00:00Z"},
        "previous": {"status": "open"},
    }  # fmt: skip
    assert _placed(parse_pipedrive(json.dumps(body).encode())).closed_at == datetime(2026, 3, 6, 14, 2, 11, tzinfo=UTC)
