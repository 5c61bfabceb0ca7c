"""Reading the deals file while the events file is read.

The engine's reader (DuckDB) spends part of each file's time in one thread (sniffing, the
leftover values, handing the table over as Arrow); reading the two large files side by side keeps
both cores busy. The deals read runs in a worker thread, and its progress calls are replayed when
its result is taken, so a progress bar still sees one file after the other. An error of the
deals read is raised where the sequential read would have raised it (when the deals are taken);
when the events read fails first, the deals read is awaited and its result dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from voronka.io.result import ReadResult

Reader = Callable[..., ReadResult]
"""``read(path, kind, progress=…)``: one file read."""


class Prefetch:
    """At most one file (the deals) read ahead in a worker thread."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._pending: dict[tuple[str, str], tuple[Future[ReadResult], list[Any]]] = {}

    def start(self, read: Reader, path: Any, kind: str) -> None:
        """Begin ``read(path, kind)`` in the worker; its progress calls are kept for later."""
        calls: list[Any] = []
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="voronka-read")
        future = self._pool.submit(read, path, kind, lambda *a: calls.append(a))
        self._pending[(str(Path(path)), kind)] = (future, calls)

    def take(self, path: Any, kind: str, progress: Callable[..., None] | None
             ) -> ReadResult | None:
        """The read started for ``path`` (its error raised here, its progress replayed), or None
        when none was started."""
        found = self._pending.pop((str(Path(path)), kind), None)
        if found is None:
            return None
        future, calls = found
        result = future.result()
        if progress is not None:
            for call in calls:
                progress(*call)
        return result

    def close(self) -> None:
        """Wait for a read still running (its result or error dropped) and end the worker."""
        for future, _ in self._pending.values():
            future.exception()
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
