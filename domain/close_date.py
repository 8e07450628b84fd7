"""When a deal closed, from what a CRM stores: the one rule every parser and CRM fetch shares.

A CRM close date is often a date without a time (Salesforce `CloseDate`, a HubSpot `closedate` set
with the date picker, which arrives as midnight UTC). Read as midnight UTC it lands on the evening
before in the Americas, and every SLA measured from it starts a day early. A date says "some time that
working day", so the close is taken as the end of that working day in the policy calendar's timezone,
unless Baton learned of the win earlier that same local day, which is then the better estimate.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from domain.calendar import BusinessCalendar

CloseValue = date | datetime


def date_only(value: datetime) -> CloseValue:
    """HubSpot's date picker stores midnight UTC: that is a date, not an instant someone chose."""
    utc = value.astimezone(UTC)
    return utc.date() if utc.time() == time(0) else value


def close_instant(value: CloseValue, calendar: BusinessCalendar, learned_at: datetime | None = None) -> datetime:
    """An instant stays as it is (Pipedrive `won_time`). A date becomes that date's `day_end` in the
    calendar's timezone, or the next working day's if it is not a working day; `learned_at` (when Baton
    first received the win) wins if it falls earlier on that same local day."""
    if isinstance(value, datetime):
        return value
    day = value
    while not calendar.is_working_day(day):
        day += timedelta(days=1)
    # Through UTC, so a wall time in a DST gap resolves to a real instant (as the calendar does).
    end = datetime.combine(day, calendar.day_end, tzinfo=calendar.tz).astimezone(UTC).astimezone(calendar.tz)
    if learned_at is not None:
        learned = learned_at.astimezone(calendar.tz)
        if learned.date() == day and learned < end:
            return learned
    return end


def order_created(
    created_at: datetime | None, closed_at: datetime, close_was_date: bool, calendar: BusinessCalendar
) -> datetime | None:
    """A creation after the close, made consistent. Created the same local day as a date-only close: the
    deal was created and won that day (a date cannot say which came first), so the sales cycle is zero
    and the creation moves back to the close. Created on a later day, or after a close given as an
    instant: the record was entered after the fact, so the creation says nothing about the sales cycle
    and is dropped (unknown), as the CRM fetch always did."""
    if created_at is None or created_at <= closed_at:
        return created_at
    same_day = created_at.astimezone(calendar.tz).date() == closed_at.astimezone(calendar.tz).date()
    return closed_at if close_was_date and same_day else None
