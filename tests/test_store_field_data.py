"""The read model keeps every name a Deal accepts, on SQLite and PostgreSQL alike, and a write the
database refuses fails its activity for good instead of retrying for ever (issue 12, "Odd data")."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.store_activities import STORE_REFUSED, StoreActivities
from domain.deal import MAX_NAME, Deal
from domain.state import HandoffState, Phase
from store.engine import make_engine, session_scope
from store.repository import record_churn, record_state
from store.tables import ChurnRow, HandoffRow
from tests.conftest_store import require_postgres

pytest_plugins = ["tests.conftest_store"]

# The longest name a Deal accepts, in 4-byte characters: 2,000 bytes, which PostgreSQL's VARCHAR(300)
# refused while SQLite (which ignores lengths) stored it.
LONGEST = "\U0001f3e2" * MAX_NAME


def state_for(account: str) -> HandoffState:
    deal = Deal(crm="hubspot", deal_id="9876543210", account=account, ae=LONGEST, sales_manager=LONGEST)
    return HandoffState(
        workflow_id="baton-hubspot-9876543210", deal=deal, policy_name="default", phase=Phase.DOCUMENTING
    )


def test_the_longest_names_a_deal_accepts_are_stored(store):
    with session_scope(store.engine, write=True) as session:
        record_state(session, state_for(LONGEST))
        record_churn(session, LONGEST, date(2026, 11, 30), "moved", "hubspot")
    with session_scope(store.engine) as session:
        assert session.scalar(select(HandoffRow.account)) == LONGEST
        assert session.scalar(select(ChurnRow.account)) == LONGEST


def test_a_value_the_database_refuses_is_a_non_retryable_failure_without_the_value(postgres_database):
    """PostgreSQL only: SQLite stores any length, so there nothing is refused."""
    engine = make_engine(require_postgres(postgres_database))
    too_long = "x" * (MAX_NAME + 1)
    # Built past the Deal's validation, as a state from an older release could be.
    state = state_for("Globex")
    state.deal = state.deal.model_copy(update={"account": too_long})
    with pytest.raises(ApplicationError) as raised:
        ActivityEnvironment().run(StoreActivities(engine).record, state)
    engine.dispose()
    assert raised.value.non_retryable and raised.value.type == STORE_REFUSED
    assert too_long not in str(raised.value)
