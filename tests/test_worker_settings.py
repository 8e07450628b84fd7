"""The worker's own settings: how many runs it keeps cached between events."""

from __future__ import annotations

import pytest

from worker.main import CACHE_ENV, DEFAULT_CACHED_RUNS, cached_runs

pytestmark = pytest.mark.unit


def test_the_cache_holds_busy_runs_by_default_not_every_open_handoff():
    assert cached_runs({}) == DEFAULT_CACHED_RUNS == 250
    assert cached_runs({CACHE_ENV: " 2000 "}) == 2000


@pytest.mark.parametrize("text, says", [("lots", "whole number"), ("2.5", "whole number"), ("10", "at least 100")])
def test_a_bad_cache_size_stops_the_worker_naming_the_variable(text, says):
    with pytest.raises(SystemExit) as stopped:
        cached_runs({CACHE_ENV: text})
    assert CACHE_ENV in str(stopped.value) and says in str(stopped.value)


def test_the_worker_limits_malloc_arenas_unless_the_environment_chose():
    import platform

    from worker.malloc import limit_arenas

    assert limit_arenas({"MALLOC_ARENA_MAX": "4"}) is False  # glibc already read the operator's choice
    # On glibc (Linux, as every Baton image and this suite's machines run), mallopt accepts the limit.
    assert limit_arenas({}) is (platform.libc_ver()[0] == "glibc")
