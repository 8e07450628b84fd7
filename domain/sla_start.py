"""When SLA clocks start: at the close, when Baton learned of the win, or the later of the two.

Reps often mark a deal won days after its close date. Measured from the close, every SLA would already
be past when the handoff starts, and the sales manager and the VP would be escalated to within seconds.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class SlaStart(StrEnum):
    CLOSE = "close"
    LEARNED = "learned"
    LATER_OF = "later_of"


# What a policy file or the defaults get when they leave the key out. A policy snapshot already in a
# workflow's history has no key at all, which means CLOSE: the rule those runs were started under.
DEFAULT_FOR_NEW_POLICIES = SlaStart.LATER_OF


def sla_anchor(rule: SlaStart | None, close: datetime, learned_at: datetime | None) -> tuple[datetime, SlaStart]:
    """The instant close-anchored deadlines count from, and the rule that chose it. Without a learned
    instant (a run started before Baton carried one) only the close is known."""
    if rule is None or rule is SlaStart.CLOSE or learned_at is None:
        return close, SlaStart.CLOSE
    if rule is SlaStart.LEARNED or learned_at > close:
        return learned_at, SlaStart.LEARNED
    return close, SlaStart.CLOSE
