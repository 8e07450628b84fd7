"""What a notice says to each person: its due time in their own zone, a Slack mention, a safe log form.

Shared by the sinks (activities.notify_sinks); no I/O. A notice carries its due instant (`details.due`,
ISO) and the SLA it is for (`details.sla`); each recipient reads the instant in their directory time
zone, else the notice's `zone` (the policy calendar's), else UTC (notices from runs before `zone`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.notifications import Notification
from domain.recipients import Recipient

# Slack member ids as Slack issues them (U... for users, W... for Enterprise Grid). Anything else is
# written as text: a mention is the one piece of markup Baton builds, so it must be one Slack reads as such.
_SLACK_MEMBER = re.compile(r"[UW][A-Z0-9]{2,31}")
# English names on purpose: a worker's locale must not change what people read.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Due:
    """What is due (an SLA's words, or empty) and the instant it is due."""

    what: str
    at: datetime


def due_of(n: Notification) -> Due | None:
    """The notice's due time; none when it has no instant with a UTC offset (a naive one would be read
    in the wrong zone by someone)."""
    raw = n.details.get("due")
    if not isinstance(raw, str):
        return None
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if at.utcoffset() is None:
        return None
    sla = n.details.get("sla")
    return Due(what=str(sla).replace("_", " ") if sla else "", at=at)


def zone_for(recipient: Recipient | None, default: str) -> tzinfo:
    """The recipient's zone, else the notice's default, else UTC; an unknown name is skipped rather than
    failing the notice (the directory validates zones, an old snapshot may not have)."""
    for name in (recipient.timezone if recipient else None, default):
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return UTC


def local_time(at: datetime, zone: tzinfo) -> str:
    """`Tue 3 Mar 2026, 17:00 EST (America/New_York)`: abbreviations alone are ambiguous (CST), so the
    zone's name follows them."""
    local = at.astimezone(zone)
    name = str(zone) if isinstance(zone, ZoneInfo) else "UTC"
    abbreviation = local.tzname() or name
    clock = f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"
    return f"{clock} {abbreviation}" + ("" if abbreviation == name else f" ({name})")


def due_line(due: Due, recipient: Recipient | None, default_zone: str) -> str:
    when = local_time(due.at, zone_for(recipient, default_zone))
    return f"{due.what} due by {when}" if due.what else f"due by {when}"


def slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions and & as an entity: free text must not ping @channel,
    # mention someone or forge a link, so the three control characters become entities (Slack's rule).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_name(recipient: Recipient) -> str:
    """A mention for someone with a Slack id (it pings them); else their name, as text."""
    if recipient.slack_id and _SLACK_MEMBER.fullmatch(recipient.slack_id):
        who = f"<@{recipient.slack_id}>"
    else:
        who = slack_escape(recipient.name or recipient.id)
    if recipient.covering_for:
        who += f" (covering for {slack_escape(recipient.covering_for)})"
    return who


def slack_link(url: str, label: str) -> str:
    # Inside <url|label> a `|` or `>` in the URL would end it early; page links are quoted, but the base
    # comes from configuration.
    safe_url = slack_escape(url).replace("|", "%7C")
    return f"<{safe_url}|{slack_escape(label)}>"


def single_line(text: str) -> str:
    """For a mail header: CRM data (an account name in a subject) may hold line breaks, which a header
    refuses, and a retried send would fail the same way for ever."""
    return " ".join(text.split())


def log_safe(who: str) -> str:
    """A person id as it is; an address masked to its first character and its domain.

    The domain stays because it is what an operator needs (our people or the customer's side, which
    customer) and names no one; the local part, which does name someone, goes. Person ids never hold
    an `@` (the directory's rule), so anything with one is an address."""
    local, at, domain = who.rpartition("@")
    if not at:
        return who
    return f"{local[:1]}…@{domain}" if local else f"…@{domain}"
