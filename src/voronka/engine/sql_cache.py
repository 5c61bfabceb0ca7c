"""Compiled SQL kept on disk between runs, as Python keeps its bytecode.

Ibis compiles an expression to SQL in Python, through many graph rewrites: about 0.4 s of every
audit, whatever the size of the log, is compiling the few dozen query shapes the engine asks
(:func:`voronka.engine.backend.compiled_sql` keeps them for the rest of a process). A shape is an
Ibis operation whose tables are placeholders, so most shapes recur from run to run and from one
export to the next (28 of the 35 of a 1,000-deal log are shapes of a 10,000-deal log too); this
module keeps their SQL in files, one per shape, named by a digest of the pickled shape.

The digest identifies the shape exactly (equal bytes unpickle to equal operations, so a hit is
the SQL Ibis would compile); a shape that does not pickle, or pickles differently in another
process, is merely compiled again. The folder's name carries what else the SQL depends on: the
versions of Ibis and sqlglot, and the backend's compiler (only DuckDB's queries go through
:func:`~voronka.engine.backend.compiled_sql`), so an upgrade starts a fresh folder. Nothing but
SQL text is read back (no unpickling).

Where: ``VORONKA_CACHE_DIR`` if set, else the user's cache folder (``~/.cache/voronka`` on
Linux); ``VORONKA_NO_CACHE=1`` turns it off. A folder that cannot be written is skipped silently:
the cache only saves time.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

MAX_FILES = 2000
"""Shapes kept per folder; past this, the oldest-used half is removed."""


def cache_root() -> Path | None:
    """The folder of voronka's caches, or None when caching is turned off."""
    if os.environ.get("VORONKA_NO_CACHE", "").strip() not in ("", "0"):
        return None
    given = os.environ.get("VORONKA_CACHE_DIR", "").strip()
    if given:
        return Path(given)
    import platformdirs

    return Path(platformdirs.user_cache_dir("voronka", appauthor=False))


@cache
def _versions(compiler: str) -> str:
    """A short digest of everything the compiled SQL depends on besides the shape."""
    import ibis
    import sqlglot

    parts = [ibis.__version__, sqlglot.__version__, compiler]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _folder(con: Any) -> Path | None:
    root = cache_root()
    if root is None:
        return None
    compiler = type(getattr(con, "compiler", None))
    return root / f"sql-{con.name}-{_versions(f'{compiler.__module__}.{compiler.__qualname__}')}"


def digest(shape: Any) -> str | None:
    """The file name of ``shape``'s SQL, or None when the shape cannot be pickled."""
    try:
        return hashlib.sha256(pickle.dumps(shape, protocol=5)).hexdigest()
    except Exception:  # an operation holding a function or a connection: not cacheable
        return None


def load(con: Any, key: str) -> str | None:
    """The SQL kept for ``key`` on ``con``'s backend, or None."""
    folder = _folder(con)
    if folder is None:
        return None
    path = folder / f"{key}.sql"
    try:
        sql = path.read_text(encoding="utf-8")
        os.utime(path)  # marks it used, for pruning
    except OSError:
        return None
    return sql or None


def store(con: Any, key: str, sql: str) -> None:
    """Keep ``sql`` for ``key``: written to a temporary file and renamed, so a reader in another
    process sees the whole text or none."""
    folder = _folder(con)
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(sql)
        os.replace(tmp, folder / f"{key}.sql")
        _prune(folder)
    except OSError:
        return


def _prune(folder: Path) -> None:
    """Remove the oldest-used half of the files once there are more than :data:`MAX_FILES`."""
    files = list(folder.glob("*.sql"))
    if len(files) <= MAX_FILES:
        return
    def used(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0
    for path in sorted(files, key=used)[: len(files) - MAX_FILES // 2]:
        path.unlink(missing_ok=True)
