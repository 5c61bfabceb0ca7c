"""Independent statistical jobs on a pool of threads, one per core."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def run_all(jobs: Sequence[Callable[[], T]], name: str = "voronka") -> list[T]:
    """Each job's result, in order. The jobs must be independent — each its own seeded generator,
    so the numbers are the same whatever runs first; numpy leaves the interpreter lock while it
    draws and computes, so the cores share the work. One job, or one core: run here, in order."""
    return start_all(jobs, name)()


def start_all(jobs: Sequence[Callable[[], T]], name: str = "voronka") -> Callable[[], list[T]]:
    """Start the jobs (see :func:`run_all`) on a pool of threads and return at once a function
    that waits for their results, in order: the caller goes on with other work (the engine's
    queries, which leave the interpreter lock too) while they run. One job, or one core: they run
    when the results are asked for, here, in order. A job's exception is raised by that function."""
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        return lambda: [job() for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
    futures = [pool.submit(job) for job in jobs]
    pool.shutdown(wait=False)  # the submitted jobs still run; the threads end after them
    return lambda: [future.result() for future in futures]
