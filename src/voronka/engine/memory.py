"""Giving memory the process no longer uses back to the operating system.

Reading a large export parses every column in Arrow buffers and Python objects that are freed
once the canonical tables exist; the allocators (Arrow's mimalloc or jemalloc pool, glibc's
malloc) keep those pages for reuse, so the process's resident size stays at its high-water mark
while the engine then builds its per-deal tables on top. Releasing them between the two steps
lowers the peak (measured at 1,000,000 deals: about 100 MB after reading and 200 MB after the
log is built, bench/README.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util

import pyarrow as pa


def release_freed_memory() -> None:
    """Return freed memory to the OS: Arrow's pool trimmed and, where the C library has it
    (glibc), ``malloc_trim``. Never raises.

    No garbage collection: the big buffers are Arrow's and DuckDB's, freed by reference counts,
    and a full collection walks every Python object of the process (0.07 s at 1,000,000 deals,
    twice per build, for no resident memory back: bench/README.md, round 9)."""
    with contextlib.suppress(Exception):
        pa.default_memory_pool().release_unused()
    with contextlib.suppress(Exception):
        name = ctypes.util.find_library("c")
        if name:
            libc = ctypes.CDLL(name)
            if hasattr(libc, "malloc_trim"):
                libc.malloc_trim(0)
