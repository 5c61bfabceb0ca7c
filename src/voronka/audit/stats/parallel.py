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
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        return [job() for job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers, thread_name_prefix=name) as pool:
        return list(pool.map(lambda job: job(), jobs))
