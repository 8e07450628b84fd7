"""Times as CRMs write them, read one way for webhooks and CRM fetches alike.

Epoch numbers (seconds from Pipedrive, milliseconds from HubSpot and Salesforce), ISO 8601 with or
without an offset (without one is UTC, as Pipedrive v1 and Salesforce document theirs), and for a
close, a bare date or days since the epoch (a `date` in Salesforce's Pub/Sub Avro).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.close_date import CloseValue, date_only
from domain.deal import EARLIEST, LATEST

# Below this an epoch number is seconds (Pipedrive), above it milliseconds (HubSpot, Salesforce):
# 1e11 seconds is the year 5138, 1e11 milliseconds is 1973, so no real timestamp is ambiguous.
_EPOCH_SECONDS_BELOW = 1e11
# Days since the epoch stay below this (the year 2243); epoch seconds and milliseconds never do.
_EPOCH_DAYS_BELOW = 100_000


def _in_range(moment: datetime) -> datetime:
    # The business calendar overflows near year 1 and 9999; no real deal is dated outside this range.
    if not EARLIEST <= moment <= LATEST:
        raise ValueError(f"{moment.isoformat()} is outside 1970-2200")
    return moment


def parse_instant(value: Any) -> datetime:
    """ValueError (with a short reason, never the whole value) for anything that is not a time."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value if abs(value) < _EPOCH_SECONDS_BELOW else value / 1000
        try:
            parsed = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("timestamp out of range") from None
        return _in_range(parsed)
    if not isinstance(value, str):
        raise TypeError("expected a timestamp")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 date or time: {value[:40]!r}") from None
    return _in_range(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def parse_close(value: Any, *, midnight_utc_is_date: bool = False) -> CloseValue | None:
    """A close as the CRM stored it; a date stays a date for domain.close_date to place.
    `midnight_utc_is_date` for HubSpot, whose date picker stores midnight UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value.strip()) == 10 and value.strip()[4:5] == "-":
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO 8601 date: {value[:40]!r}") from None
    elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value < _EPOCH_DAYS_BELOW:
        day = date(1970, 1, 1) + timedelta(days=value)
    else:
        moment = parse_instant(value)
        return date_only(moment) if midnight_utc_is_date else moment
    if not EARLIEST.year <= day.year <= LATEST.year:
        raise ValueError(f"{day.isoformat()} is outside 1970-2200")
    return day
