"""The search attributes operators filter handoffs by in the Temporal UI (plain text: no contact data)."""

from __future__ import annotations

import json
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, SearchAttributeUpdate, TypedSearchAttributes

from domain.state import HandoffState

DEAL_ID = SearchAttributeKey.for_keyword("BatonDealId")
ACCOUNT = SearchAttributeKey.for_keyword("BatonAccount")
CRM = SearchAttributeKey.for_keyword("BatonCrm")
APPROACH = SearchAttributeKey.for_keyword("BatonApproach")
PHASE = SearchAttributeKey.for_keyword("BatonPhase")
TIER = SearchAttributeKey.for_keyword("BatonTier")
SCORE = SearchAttributeKey.for_float("BatonScore")
AE = SearchAttributeKey.for_keyword("BatonAe")
CSM = SearchAttributeKey.for_keyword("BatonCsm")
SLA_BREACHED = SearchAttributeKey.for_bool("BatonSlaBreached")
CLOSED_AT = SearchAttributeKey.for_datetime("BatonClosedAt")

ALL: list[SearchAttributeKey[Any]] = [
    DEAL_ID,
    ACCOUNT,
    CRM,
    APPROACH,
    PHASE,
    TIER,
    SCORE,
    AE,
    CSM,
    SLA_BREACHED,
    CLOSED_AT,
]
# Temporal refuses a keyword value over 2 KB (the dev server and Cloud enforce it; the time-skipping server
# does not) and terminates the run whose upsert carried it. Half of that leaves room for the others.
MAX_KEYWORD_BYTES = 1000


def _encoded_size(value: str) -> int:
    # The limit applies to the payload as sent: the SDK's JSON escapes every non-ASCII character, so a
    # 4-byte emoji costs 12 bytes there (the dev server refused 1,000 UTF-8 bytes of them as 3,002).
    return len(json.dumps(value))


def fit_keyword(value: str) -> str:
    """At most MAX_KEYWORD_BYTES as Temporal counts them (and so as UTF-8), cut between characters.
    Only what operators filter by is shortened: the workflow's own data keeps the whole value."""
    if _encoded_size(value) <= MAX_KEYWORD_BYTES:
        return value
    low, high = 0, len(value)
    while low < high:
        middle = (low + high + 1) // 2
        if _encoded_size(value[:middle]) <= MAX_KEYWORD_BYTES:
            low = middle
        else:
            high = middle - 1
    return value[:low]


def values(state: HandoffState) -> dict[str, object]:
    """Each attribute's value for this state; unknown values are left out rather than blank."""
    deal = state.deal
    found: dict[str, object] = {
        DEAL_ID.name: deal.deal_id,
        CRM.name: deal.crm,
        PHASE.name: state.phase.value,
        SLA_BREACHED.name: state.sla_breached,
        ACCOUNT.name: deal.account or None,
        AE.name: state.owners.ae or None,
        CSM.name: state.owners.csm or None,
        APPROACH.name: state.approach.approach.value if state.approach else None,
        TIER.name: state.quality.tier.value if state.quality else None,
        SCORE.name: state.quality.score if state.quality else None,
        CLOSED_AT.name: deal.closed_at,
    }
    return {
        name: fit_keyword(value) if isinstance(value, str) else value
        for name, value in found.items()
        if value is not None
    }


_BY_NAME: dict[str, SearchAttributeKey[Any]] = {key.name: key for key in ALL}


def pairs(found: dict[str, object]) -> list[SearchAttributeUpdate[Any]]:
    """The updates that set each found value (what `workflow.upsert_search_attributes` takes)."""
    return [_BY_NAME[name].value_set(value) for name, value in found.items()]


def typed(state: HandoffState) -> TypedSearchAttributes:
    return TypedSearchAttributes([SearchAttributePair(_BY_NAME[name], value) for name, value in values(state).items()])
