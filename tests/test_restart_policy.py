"""`baton run`'s restart policy: backoff from 1 s doubling to 30 s, a fresh streak after a stable run,
and giving up at the fifth crash of one child within a minute."""

from __future__ import annotations

import pytest

from cli.restart_policy import CrashRecord, GiveUp, Restart, RestartPolicy

pytestmark = pytest.mark.unit


def test_waits_double_from_one_second_up_to_thirty():
    record = CrashRecord()
    # A child that runs 20 s each time: never 5 crashes within 60 s, so the waits climb to the cap.
    now, waits = 0.0, []
    for _ in range(8):
        answer = record.exited(started_at=now, exited_at=now + 20)
        assert isinstance(answer, Restart)
        waits.append(answer.wait)
        now += 20 + answer.wait
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30]


def test_the_fifth_crash_within_a_minute_gives_up():
    record = CrashRecord()
    now = 0.0
    for expected in (1, 2, 4, 8):  # 15 s of waits plus 1 s runs: all four inside the window
        answer = record.exited(started_at=now, exited_at=now + 1)
        assert answer == Restart(wait=expected)
        now += 1 + expected
    assert record.exited(started_at=now, exited_at=now + 1) == GiveUp(crashes=5, window=60)


def test_crashes_older_than_the_window_do_not_count():
    record = CrashRecord(RestartPolicy(crash_limit=3, crash_window=60))
    assert isinstance(record.exited(0, 1), Restart)
    assert isinstance(record.exited(2, 30), Restart)
    # 61 s: the crash at 1 s has left the window, so this is the second within it, not the third.
    assert isinstance(record.exited(32, 61), Restart)
    assert record.exited(62, 62.5) == GiveUp(crashes=3, window=60)


def test_a_child_that_ran_a_whole_window_starts_a_new_streak():
    record = CrashRecord()
    assert record.exited(0, 1) == Restart(wait=1)
    assert record.exited(2, 3) == Restart(wait=2)
    assert record.exited(5, 5 + 3600) == Restart(wait=1)  # up for an hour: the OOM killer, not a loop
    assert record.exited(3606, 3607) == Restart(wait=2)


def test_each_child_has_its_own_record():
    worker, api = CrashRecord(), CrashRecord()
    for at in range(4):
        assert isinstance(worker.exited(at * 10, at * 10 + 1), Restart)
    assert api.exited(0, 1) == Restart(wait=1)
