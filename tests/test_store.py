"""The read model: idempotent writes of the workflow's state and the round-robin CSM assignment."""

from __future__ import annotations

import argparse
import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlmodel import Session
from temporalio.testing import ActivityEnvironment

from activities.store_activities import AssignCsm, CsmChoice, StoreActivities
from cli import db_cmd
from domain.approach import ApproachDecision
from domain.approach_kinds import Approach
from domain.deal import Deal
from domain.policy import Csm, CsTeam
from domain.roles import Role, SlaName
from domain.state import (
    Deadline,
    DeadlineStatus,
    EscalationStep,
    Extension,
    Facts,
    HandoffState,
    IntakeReview,
    Outcome,
    Owners,
    Phase,
)
from domain.timeline import Kind, TimelineEntry
from store import assignment, migrate, repository
from store.engine import make_engine, session_scope
from store.tables import (
    ChurnRow,
    CsmAssignmentRow,
    HandoffRow,
    RatingRow,
    RoundRobinRow,
    SlaRow,
    SQLModel,
    SurveyAnswerRow,
    TimelineRow,
)
from tests.conftest_store import Store

CLOSED = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
DAY = date(2026, 3, 9)


def entry(seq: int, kind: Kind = Kind.PHASE_CHANGED, **details) -> TimelineEntry:
    return TimelineEntry(seq=seq, at=CLOSED + timedelta(hours=seq), kind=kind, details=details or {"seq": seq})


def make_state(
    entries: int = 3,
    *,
    deal_id: str = "1",
    phase: Phase = Phase.DOCUMENTING,
    outcome: Outcome = Outcome.OPEN,
    won: bool = True,
    ended: bool = False,
    returned_to_sales: bool = False,
    deadlines: dict[SlaName, Deadline] | None = None,
    intake: IntakeReview | None = None,
    csm: str = "",
) -> HandoffState:
    deal = Deal(crm="hubspot", deal_id=deal_id, account="Acme", amount=60_000, ae="ada", closed_at=CLOSED)
    return HandoffState(
        workflow_id=f"baton-hubspot-{deal_id}",
        deal=deal,
        policy_name="default",
        phase=phase,
        outcome=outcome,
        approach=ApproachDecision(approach=Approach.STRUCTURED, reason="ACV", acv_in_base=60_000),
        returned_to_sales=returned_to_sales,
        intake=intake,
        owners=Owners(ae="ada", csm=csm, cs_team="mid-market" if csm else ""),
        facts=Facts(won_at=CLOSED if won else None, ended_at=CLOSED + timedelta(days=40) if ended else None),
        deadlines=deadlines or {},
        timeline=[entry(seq) for seq in range(1, entries + 1)],
    )


def briefed_deadline(**changes) -> Deadline:
    values = dict(
        sla=SlaName.CSM_BRIEFED,
        due=CLOSED + timedelta(hours=48),
        set_at=CLOSED,
        on_breach=Role.CS_MANAGER,
        escalations=[EscalationStep(at=CLOSED + timedelta(hours=72), to=Role.SALES_MANAGER)],
    )
    return Deadline(**(values | changes))


def record(store: Store, state: HandoffState) -> int:
    with session_scope(store.engine) as session:
        return repository.record_state(session, state)


def rows(store: Store, model, *where):
    with Session(store.engine) as session:
        return list(session.scalars(select(model).where(*where)))


def seqs(store: Store, workflow_id: str = "baton-hubspot-1") -> list[int]:
    return sorted(row.seq for row in rows(store, TimelineRow, TimelineRow.workflow_id == workflow_id))


# --- migrations ---------------------------------------------------------------------------------


def test_migration_creates_the_models_tables(store):
    tables = set(inspect(store.engine).get_table_names())
    assert tables == {table.name for table in SQLModel.metadata.sorted_tables} | {"alembic_version"}
    assert migrate.current_revision(store.url) == migrate.head_revision() == "0005"
    with store.engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert drift == [], "store/tables.py and the migrations disagree; add a migration"
    migrate.upgrade(store.url)  # a second run is a no-op


# --- record_state -------------------------------------------------------------------------------


def test_record_state_writes_row_timeline_slas_and_rating(store):
    intake = IntakeReview(reviewer="cat", rating=4, accepted=True, at=CLOSED + timedelta(hours=20))
    extended = briefed_deadline(
        status=DeadlineStatus.EXTENDED,
        extensions=[Extension(previous_due=CLOSED, new_due=CLOSED + timedelta(hours=48), reason="PTO", at=CLOSED)],
    )
    follow_up = Deadline(sla=SlaName.AE_FOLLOW_UP, due=CLOSED + timedelta(hours=24), set_at=CLOSED)
    state = make_state(3, deadlines={SlaName.CSM_BRIEFED: extended, SlaName.AE_FOLLOW_UP: follow_up}, intake=intake)

    assert record(store, state) == 3

    [row] = rows(store, HandoffRow)
    assert (row.workflow_id, row.crm, row.deal_id, row.account, row.ae) == (
        "baton-hubspot-1",
        "hubspot",
        "1",
        "Acme",
        "ada",
    )
    assert row.approach == row.segment == "structured" and row.amount_band == "50k-100k" and row.acv == 60_000
    assert row.phase == "documenting" and row.outcome == "open" and row.last_seq == 3
    assert row.rework is True and row.returned_to_sales is False and row.sla_breached is False
    assert row.csm_rating == 4 and row.intake_reviewed_at == intake.at
    assert row.won_at == CLOSED and row.won_at.tzinfo is not None
    assert row.updated_at == CLOSED + timedelta(hours=3)
    assert seqs(store) == [1, 2, 3]
    [first] = rows(store, TimelineRow, TimelineRow.seq == 1)
    assert first.kind == "phase_changed" and first.details == {"seq": 1} and first.at == CLOSED + timedelta(hours=1)

    slas = {sla.sla: sla for sla in rows(store, SlaRow)}
    assert set(slas) == {"csm_briefed", "ae_follow_up"}
    briefed = slas["csm_briefed"]
    assert briefed.status == "extended" and briefed.extended and briefed.extensions == 1
    assert briefed.due == CLOSED + timedelta(hours=48)
    assert briefed.escalations == [
        {"to": "sales_manager", "at": (CLOSED + timedelta(hours=72)).isoformat(), "fired": False}
    ]
    [rating] = rows(store, RatingRow)
    assert (rating.kind, rating.value, rating.at) == ("csm_rating", 4, intake.at)


def test_instants_come_back_in_utc(store):
    state = make_state(1)
    state.timeline[0].at = datetime(2026, 3, 6, 10, 0, tzinfo=timezone(timedelta(hours=-5)))
    record(store, state)
    [row] = rows(store, TimelineRow)
    assert row.at == datetime(2026, 3, 6, 15, 0, tzinfo=UTC) and row.at.utcoffset() == timedelta(0)


def test_repeated_and_growing_states_add_only_new_entries(store):
    assert record(store, make_state(3)) == 3
    assert record(store, make_state(3)) == 0
    assert record(store, make_state(5, phase=Phase.INTAKE_REVIEW)) == 2
    assert seqs(store) == [1, 2, 3, 4, 5]
    [row] = rows(store, HandoffRow)
    assert row.last_seq == 5 and row.phase == "intake_review"


def test_a_replayed_older_state_regresses_nothing(store):
    breached = briefed_deadline(status=DeadlineStatus.BREACHED, breached_at=CLOSED + timedelta(hours=48))
    record(store, make_state(6, phase=Phase.INTRO, deadlines={SlaName.CSM_BRIEFED: breached}))
    assert (
        record(store, make_state(4, phase=Phase.DOCUMENTING, deadlines={SlaName.CSM_BRIEFED: briefed_deadline()})) == 0
    )
    [row] = rows(store, HandoffRow)
    assert row.last_seq == 6 and row.phase == "intro" and row.sla_breached is True
    assert seqs(store) == [1, 2, 3, 4, 5, 6]
    [sla] = rows(store, SlaRow)
    assert sla.status == "breached"


def test_a_missing_entry_below_last_seq_is_not_backfilled(store):
    # The spec keys idempotency on last_seq: what is at or below it counts as recorded.
    record(store, make_state(3))
    state = make_state(4)
    state.timeline = [entry(2), entry(4)]
    assert record(store, state) == 1
    assert seqs(store) == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, True),
        ({"won": False, "phase": Phase.PRE_CLOSE}, False),
        ({"outcome": Outcome.LOST, "phase": Phase.CLOSED}, False),
        ({"outcome": Outcome.HANDED_OFF, "phase": Phase.CLOSED, "ended": True}, True),
    ],
    ids=["won-open", "pre-close", "lost", "handed-off"],
)
def test_was_handed_off(store, changes, expected):
    with Session(store.engine) as session:
        assert repository.was_handed_off(session, "baton-hubspot-1") is False
    record(store, make_state(2, **changes))
    with Session(store.engine) as session:
        assert repository.was_handed_off(session, "baton-hubspot-1") is expected


# --- what people and other systems report -------------------------------------------------------


def test_nps_churn_and_survey_answers(store):
    at = CLOSED + timedelta(days=3)
    with session_scope(store.engine) as session:
        repository.record_nps(session, "baton-hubspot-1", 6, at)
        repository.record_nps(session, "baton-hubspot-1", 9, at + timedelta(hours=1))
        assert repository.record_churn(session, "Acme", date(2026, 9, 1), "budget", "crm") is True
        assert repository.record_churn(session, "Acme", date(2026, 9, 1), "other", "api") is False
        assert repository.record_survey_answers(session, "baton-hubspot-1", {"clear": "yes", "owner": "cat"}, at) == 2
        repository.record_survey_answers(session, "baton-hubspot-1", {"clear": "mostly"}, at)
        with pytest.raises(ValueError, match="0 to 10"):
            repository.record_nps(session, "baton-hubspot-1", 11, at)
    [nps] = rows(store, RatingRow)
    assert (nps.kind, nps.value) == ("first_touch_nps", 9)
    [churn] = rows(store, ChurnRow)
    assert (churn.reason, churn.source, churn.churned_on) == ("budget", "crm", date(2026, 9, 1))
    answers = {row.question: row.answer for row in rows(store, SurveyAnswerRow)}
    assert answers == {"clear": "mostly", "owner": "cat"}


# --- CSM assignment -----------------------------------------------------------------------------


def team(*csms: Csm, name: str = "mid-market") -> CsTeam:
    return CsTeam(name=name, approaches=[Approach.STRUCTURED], csms=list(csms))


TRIO = team(Csm(id="a"), Csm(id="b"), Csm(id="c"))


def assign(store: Store, workflow_id: str, cs_team: CsTeam = TRIO, day: date = DAY) -> str | None:
    with session_scope(store.engine, write=True) as session:
        return assignment.assign_csm(session, workflow_id, cs_team, day)


def test_round_robin_order_across_calls(store):
    picks = [assign(store, f"wf-{n}") for n in range(7)]
    assert picks == ["a", "b", "c", "a", "b", "c", "a"]
    [rotation] = rows(store, RoundRobinRow)
    assert (rotation.team, rotation.position) == ("mid-market", 1)


def test_skips_a_csm_out_of_office(store):
    away = team(Csm(id="a"), Csm(id="b", out_of_office=[(DAY, DAY + timedelta(days=4))]), Csm(id="c"))
    assert [assign(store, f"wf-{n}", away) for n in range(4)] == ["a", "c", "a", "c"]
    back = DAY + timedelta(days=5)
    assert [assign(store, f"wf-back-{n}", away, back) for n in range(2)] == ["a", "b"]


def test_skips_a_csm_at_capacity_until_a_handoff_ends(store):
    small = team(Csm(id="a", capacity=1), Csm(id="b"))
    record(store, make_state(1, deal_id="1"))
    assert assign(store, "baton-hubspot-1", small) == "a"
    assert [assign(store, f"wf-{n}", small) for n in range(3)] == ["b", "b", "b"]
    record(store, make_state(2, deal_id="1", phase=Phase.CLOSED, outcome=Outcome.HANDED_OFF, ended=True))
    assert assign(store, "wf-next", small) == "a"


def test_assignment_is_idempotent_per_workflow(store):
    assert assign(store, "wf-1") == "a"
    assert assign(store, "wf-1") == "a"
    assert assign(store, "wf-2") == "b"
    assert len(rows(store, CsmAssignmentRow)) == 2


def test_nobody_available_gives_none_and_keeps_the_position(store):
    nobody = team(Csm(id="a", capacity=0), Csm(id="b", out_of_office=[(DAY, DAY)]))
    with session_scope(store.engine, write=True) as session:
        pick = assignment.choose_csm(session, "wf-1", nobody, DAY)
    assert pick.csm is None and "a at capacity (0/0)" in pick.reason and "b out of office" in pick.reason
    assert rows(store, CsmAssignmentRow) == []
    [rotation] = rows(store, RoundRobinRow)
    assert rotation.position == 0


def test_position_survives_a_restart(store):
    assert assign(store, "wf-1") == "a"
    store.engine.dispose()
    fresh = Store(url=store.url, engine=make_engine(store.url))
    try:
        assert assign(fresh, "wf-2") == "b"
    finally:
        fresh.engine.dispose()


def test_concurrent_assignments_take_distinct_turns(store):
    workers = 6
    crew = team(*(Csm(id=f"csm-{n}") for n in range(workers)))
    start = threading.Barrier(workers)
    picks: dict[int, str | None] = {}
    errors: list[BaseException] = []

    def pick(n: int) -> None:
        try:
            start.wait()
            picks[n] = assign(store, f"wf-{n}", crew)
        except BaseException as err:  # surfaced by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=pick, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(picks.values()) == sorted(csm.id for csm in crew.csms)
    [rotation] = rows(store, RoundRobinRow)
    assert rotation.position == 0


# --- activities and the command -----------------------------------------------------------------


@pytest.mark.parametrize(("entries", "expected"), [(1, 1), (4, 4)])
def test_record_activity(store, entries, expected):
    acts = StoreActivities(store.engine)
    env = ActivityEnvironment()
    assert env.run(acts.record, make_state(entries)) == expected
    assert env.run(acts.record, make_state(entries)) == 0


@pytest.mark.parametrize(
    ("cs_team", "expected"),
    [
        (TRIO, CsmChoice(csm="a", team="mid-market", reason="round robin in team mid-market: a")),
        (
            team(Csm(id="a", out_of_office=[(DAY, DAY)]), Csm(id="b")),
            CsmChoice(csm="b", team="mid-market", reason="round robin in team mid-market: b (skipped a out of office)"),
        ),
        (team(name="empty"), CsmChoice(csm=None, team="empty", reason="team empty has no CSMs")),
    ],
    ids=["first-turn", "skips-away", "empty-team"],
)
def test_assign_csm_activity(store, cs_team, expected):
    acts = StoreActivities(store.engine)
    env = ActivityEnvironment()
    assert env.run(acts.assign_csm, AssignCsm(workflow_id="wf-1", team=cs_team, day=DAY)) == expected


def test_assign_csm_activity_repeats_its_answer(store):
    acts = StoreActivities(store.engine)
    request = AssignCsm(workflow_id="wf-1", team=TRIO, day=DAY)
    first = ActivityEnvironment().run(acts.assign_csm, request)
    again = ActivityEnvironment().run(acts.assign_csm, request)
    assert first.csm == again.csm == "a" and again.reason.startswith("already assigned to a")


def run_db(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="baton")
    db_cmd.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.run(args)


def test_db_upgrade_command(store, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the migrations are found from any working directory
    fresh = f"sqlite:///{tmp_path / 'nested' / 'fresh.db'}"
    assert run_db("db", "upgrade", "--url", fresh) == 0
    assert "upgraded from an empty database to revision 0005" in capsys.readouterr().out
    engine = make_engine(fresh)
    assert "handoffs" in inspect(engine).get_table_names()
    engine.dispose()
    assert run_db("db", "upgrade", "--url", store.url) == 0
    assert "already at revision 0005" in capsys.readouterr().out


def test_a_sqlite_write_scope_takes_the_lock_at_begin(tmp_path):
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    migrate.upgrade(url)
    engine, other = make_engine(url), sqlite3.connect(tmp_path / "lock.db", timeout=0, isolation_level=None)
    try:
        with session_scope(engine, write=True) as session:
            session.connection()
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


def test_concurrent_records_and_assignments_all_succeed(store):
    # Worker threads write the read model while others assign: on SQLite a deferred transaction that
    # read first would fail at once with "database is locked" instead of waiting its turn.
    workers = 6
    crew = team(*(Csm(id=f"csm-{n}") for n in range(workers)))
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            for size in range(1, 6):
                record(store, make_state(size, deal_id=str(n)))
                if size == 3:
                    assign(store, f"baton-hubspot-{n}", crew)
        except BaseException as err:  # surfaced by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(rows(store, TimelineRow)) == workers * 5
    assert sorted(row.csm_id for row in rows(store, CsmAssignmentRow)) == sorted(csm.id for csm in crew.csms)


def test_migration_0005_fills_the_queue_instants_of_rows_written_before(store):
    """Handoffs recorded before 0005 get their oldest breach and soonest open due from their SLAs, so the
    queue orders them as it did."""
    from alembic import command

    from store.migrate import alembic_config

    def to(revision: str, downgrade: bool = False) -> None:
        with store.engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            (command.downgrade if downgrade else command.upgrade)(config, revision)

    to("0004", downgrade=True)
    try:
        with store.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO handoffs (workflow_id, crm, deal_id, account, phase, outcome, returned_to_sales,"
                    " rework, sla_breached, updated_at, last_seq) VALUES ('baton-hubspot-77', 'hubspot', '77',"
                    " 'Ærø Foods', 'intro', 'open', false, false, true, :at, 3)"
                ),
                {"at": datetime(2026, 3, 1, tzinfo=UTC)},
            )
            for sla, status, due, breached in (
                ("csm_briefed", "breached", datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)),
                ("cs_first_touch", "breached", datetime(2026, 3, 2, tzinfo=UTC), None),
                ("kickoff", "pending", datetime(2026, 3, 9, tzinfo=UTC), None),
                ("intro_held", "extended", datetime(2026, 3, 8, tzinfo=UTC), None),
                ("intro_scheduled", "met", datetime(2026, 3, 4, tzinfo=UTC), None),
            ):
                connection.execute(
                    text(
                        "INSERT INTO slas (workflow_id, sla, due, status, breached_at, extended, extensions,"
                        " escalations) VALUES ('baton-hubspot-77', :sla, :due, :status, :breached, false, 0, '[]')"
                    ),
                    {"sla": sla, "due": due, "status": status, "breached": breached},
                )
    finally:
        to("head")
    with session_scope(store.engine) as session:
        row = session.get(HandoffRow, "baton-hubspot-77")
        assert row is not None
        assert row.first_breach_at == datetime(2026, 3, 2, tzinfo=UTC)  # a breach with no instant: its due
        assert row.next_due_at == datetime(2026, 3, 8, tzinfo=UTC)
