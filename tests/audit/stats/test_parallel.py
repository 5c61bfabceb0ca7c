"""The pool the forecast's simulations run on: results in order, started before they are asked."""

from __future__ import annotations

import threading

import pytest

from voronka.audit.stats.parallel import run_all, start_all


def test_results_come_in_the_jobs_order() -> None:
    jobs = [lambda i=i: i * i for i in range(7)]
    assert run_all(jobs) == [i * i for i in range(7)]
    assert start_all(jobs)() == [i * i for i in range(7)]


def test_the_caller_goes_on_while_the_jobs_run() -> None:
    """A job waiting for what the caller does after ``start_all`` returns finishes: the jobs did
    not run inside ``start_all`` (they would have waited for nothing and timed out)."""
    go = threading.Event()
    results = start_all([lambda: go.wait(10), lambda: go.wait(10)])
    go.set()
    assert results() == [True, True]


def test_a_failed_job_raises_where_the_results_are_asked() -> None:
    def boom() -> int:
        raise RuntimeError("job failed")

    results = start_all([lambda: 1, boom])
    with pytest.raises(RuntimeError, match="job failed"):
        results()
