"""The pulled folder on disk: the state file, the staging of pages, atomic merges of the CSVs.

A pull stages every page it fetches (``.voronka-pull.partial/<phase>.jsonl``) and checkpoints the
phase's cursor in ``.voronka-pull.json`` after it; only when every phase is done are ``deals.csv``,
``events.csv`` and the funnel files merged and replaced, each atomically. A pull killed anywhere
resumes from the last cursor, and a page fetched twice replaces its first copy, so the folder ends
the same as after an uninterrupted pull.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from voronka.io.crm.errors import CrmRequestError

STATE_FILE = ".voronka-pull.json"
"""The state of the pulls into a folder: the last finished pull and any unfinished one."""

STAGING_DIR = ".voronka-pull.partial"
"""Pages of an unfinished pull."""

STATE_VERSION = 1

DEAL_COLUMNS = (
    "deal_id", "created_at", "source", "utm_source", "utm_medium", "utm_campaign", "manager",
    "amount", "status", "closed_at", "lost_reason", "pipeline",
)
"""Columns of ``deals.csv`` (the canonical deal columns of docs/internals.md, plus UTM and
``pipeline``)."""

EVENT_COLUMNS = ("deal_id", "stage", "entered_at")
"""Columns of ``events.csv``: the canonical event columns."""


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(out_dir: Path) -> dict[str, Any]:
    """The folder's pull state (an empty one when there is none)."""
    path = out_dir / STATE_FILE
    if not path.is_file():
        return {"version": STATE_VERSION, "crm": None, "last_pull": None, "run": None}
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CrmRequestError.make("state_invalid", path=str(path), detail=str(exc)) from None
    return data


def save_state(out_dir: Path, state: Mapping[str, Any]) -> None:
    """Write the pull state atomically."""
    atomic_write_text(out_dir / STATE_FILE, json.dumps(state, ensure_ascii=False, indent=2) + "\n")


class Staging:
    """The pages an unfinished pull has fetched, on disk and in memory.

    Pages are keyed by the cursor they were fetched with: a page fetched again (the pull died
    after staging it but before saving its cursor) replaces the first copy.
    """

    def __init__(self, out_dir: Path) -> None:
        self.folder = out_dir / STAGING_DIR
        self._pages: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def load(self) -> None:
        """Read the pages staged by an earlier, interrupted run."""
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.jsonl")):
            pages = self._pages.setdefault(path.stem, {})
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError:
                    # A line cut short by a kill: its cursor was never saved, so it is re-fetched.
                    continue
                pages[item["cursor"]] = item["records"]

    def add(self, phase: str, cursor: Any, records: list[dict[str, Any]]) -> None:
        """Stage one page of ``phase`` fetched with ``cursor`` (flushed to disk before return)."""
        key = json.dumps(cursor, sort_keys=True)
        self._pages.setdefault(phase, {})[key] = records
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"{phase}.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"cursor": key, "records": records}, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def records(self, phase: str) -> list[dict[str, Any]]:
        """Every record staged for ``phase``, in the order the pages were first fetched."""
        return [r for page in self._pages.get(phase, {}).values() for r in page]

    def count(self, phase: str) -> int:
        """Records staged for ``phase``."""
        return sum(len(p) for p in self._pages.get(phase, {}).values())

    def clear(self) -> None:
        """Remove the staging folder (after the pages are merged into the folder's files)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._pages.clear()


def format_datetime(value: datetime | None) -> str:
    """ISO 8601 in UTC without an offset (``2024-04-25T14:59:11``), empty for None."""
    if value is None:
        return ""
    return value.replace(tzinfo=None).isoformat(timespec="seconds")


def format_amount(value: float | None) -> str:
    """An amount without a spurious ``.0`` (``111``, ``19999.99``), empty for None."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV written by :func:`write_csv_rows` (empty when there is no file)."""
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return [dict(row) for row in csv.DictReader(fh)]


def write_csv_rows(path: Path, columns: Iterable[str], rows: Iterable[Mapping[str, str]]) -> None:
    """Write ``rows`` as a UTF-8 CSV with a header, atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    atomic_write_text(path, buf.getvalue())


def natural_key(text: str) -> tuple[Any, ...]:
    """Sort key putting ``"9"`` before ``"10"`` (numeric ids) and text after numbers."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", text)
        if part
    )


def merge_deals(path: Path, new_rows: Iterable[Mapping[str, str]]) -> tuple[int, int]:
    """Merge deal rows into ``path`` (a deal's newer row replaces its older one).

    Returns (rows written, rows that were new or changed).
    """
    by_id = {row["deal_id"]: row for row in read_csv_rows(path)}
    changed = 0
    for row in new_rows:
        clean = {c: row.get(c, "") or "" for c in DEAL_COLUMNS}
        if by_id.get(clean["deal_id"]) != clean:
            changed += 1
        by_id[clean["deal_id"]] = clean
    rows = [by_id[k] for k in sorted(by_id, key=natural_key)]
    write_csv_rows(path, DEAL_COLUMNS, rows)
    return len(rows), changed


def merge_events(path: Path, new_rows: Iterable[Mapping[str, str]]) -> tuple[int, int]:
    """Merge event rows into ``path`` without duplicates (a deal entering a stage at an instant
    is one event however often it is fetched). Returns (rows written, rows added)."""
    seen = {(r["deal_id"], r["stage"], r["entered_at"]) for r in read_csv_rows(path)}
    before = len(seen)
    for row in new_rows:
        seen.add((row["deal_id"], row["stage"], row["entered_at"]))
    rows = sorted(seen, key=lambda r: (natural_key(r[0]), r[2], r[1]))
    write_csv_rows(
        path, EVENT_COLUMNS, ({"deal_id": d, "stage": s, "entered_at": e} for d, s, e in rows)
    )
    return len(rows), len(rows) - before
