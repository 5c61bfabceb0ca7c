"""The server's store: one DuckDB file under ``--data`` holding datasets, column mappings, funnels
and plans.

API (small on purpose; the live sync adds its own tables to the same file):

* ``Store.open(data_dir)`` — open (create) ``data_dir/voronka.duckdb`` and its tables;
* ``add_dataset(name, folder)`` → :class:`Dataset`; ``datasets()``; ``dataset(id)``;
  ``delete_dataset(id)``;
* ``save_mapping(shape, mapping)`` / ``mapping_for(shape)`` — a column mapping (canonical field →
  header) remembered for files of the same *shape* (:func:`shape_key` of their headers);
* ``save_funnel(dataset_id, toml_text)`` / ``funnel_text(dataset_id)`` / ``delete_funnel``;
* ``save_plan(dataset_id, plan)`` / ``plan_for(dataset_id)``;
* ``connection()`` — a cursor on the same file for other modules' own tables (their names must
  start with their module's prefix, e.g. ``live_``).

A :class:`Store` serialises its own writes with a lock; DuckDB allows one process to hold the
file, so one server owns one ``--data`` folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

FILE_NAME = "voronka.duckdb"
"""The store's file inside the data folder."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS datasets (
        id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, folder VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS mappings (
        shape VARCHAR PRIMARY KEY, mapping VARCHAR NOT NULL, saved_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS funnels (
        dataset_id VARCHAR PRIMARY KEY, toml VARCHAR NOT NULL, saved_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS plans (
        dataset_id VARCHAR PRIMARY KEY, plan DOUBLE, plan_revenue DOUBLE,
        plan_from DATE, plan_until DATE, saved_at TIMESTAMP NOT NULL)""",
)


def shape_key(headers: Iterable[str]) -> str:
    """The key of a file's shape: its headers (trimmed, lower-case, sorted), hashed."""
    normal = sorted({h.strip().lower() for h in headers})
    return hashlib.sha256("\x1f".join(normal).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Dataset:
    """An uploaded dataset.

    Attributes:
        id: its id (random hex, safe in a URL and a path).
        name: the name the user gave (the uploaded file's name).
        folder: where its files are, inside the data folder.
        created_at: when it was uploaded (UTC).
    """

    id: str
    name: str
    folder: Path
    created_at: dt.datetime


@dataclass(frozen=True)
class Plan:
    """A dataset's plan: won deals or revenue wanted in a period (None: not given).

    Attributes:
        plan: won deals wanted.
        plan_revenue: revenue wanted.
        plan_from: first day of the period.
        plan_until: last day of the period.
    """

    plan: float | None = None
    plan_revenue: float | None = None
    plan_from: dt.date | None = None
    plan_until: dt.date | None = None


class Store:
    """The DuckDB file of one data folder (see the module docstring)."""

    def __init__(self, data_dir: Path, con: duckdb.DuckDBPyConnection) -> None:
        """Use :meth:`open`."""
        self.data_dir = data_dir
        self._con = con
        self._closed = False
        self._lock = threading.Lock()

    @classmethod
    def open(cls, data_dir: str | Path) -> Store:
        """The store of ``data_dir`` (created with its tables when new)."""
        folder = Path(data_dir).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(folder / FILE_NAME))
        for statement in _SCHEMA:
            con.execute(statement)
        return cls(folder, con)

    def close(self) -> None:
        """Release the file (when the server stops); the next call opens it again."""
        with self._lock:
            self._con.close()
            self._closed = True

    def _live(self) -> duckdb.DuckDBPyConnection:
        if self._closed:
            self._con = duckdb.connect(str(self.data_dir / FILE_NAME))
            self._closed = False
        return self._con

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the store's file, for another module's own tables."""
        with self._lock:
            return self._live().cursor()

    def _run(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            cursor = self._live().cursor()
            try:
                return cursor.execute(sql, list(params)).fetchall()
            finally:
                cursor.close()

    # -- datasets ---------------------------------------------------------------------------
    def new_dataset_folder(self) -> tuple[str, Path]:
        """A fresh dataset id and its (created) folder ``data_dir/datasets/<id>``."""
        dataset_id = uuid.uuid4().hex[:16]
        folder = self.data_dir / "datasets" / dataset_id
        folder.mkdir(parents=True)
        return dataset_id, folder

    def add_dataset(self, dataset_id: str, name: str, folder: Path) -> Dataset:
        """Record a dataset whose files are in ``folder``."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self._run(
            "INSERT INTO datasets VALUES (?, ?, ?, ?)", (dataset_id, name, str(folder), now)
        )
        return Dataset(dataset_id, name, folder, now)

    def datasets(self) -> list[Dataset]:
        """Every dataset, newest first."""
        rows = self._run("SELECT id, name, folder, created_at FROM datasets ORDER BY created_at DESC")
        return [Dataset(r[0], r[1], Path(r[2]), r[3]) for r in rows]

    def dataset(self, dataset_id: str) -> Dataset | None:
        """The dataset ``dataset_id``, or None."""
        rows = self._run(
            "SELECT id, name, folder, created_at FROM datasets WHERE id = ?", (dataset_id,)
        )
        return Dataset(rows[0][0], rows[0][1], Path(rows[0][2]), rows[0][3]) if rows else None

    def delete_dataset(self, dataset_id: str) -> None:
        """Forget a dataset (its files stay until the folder is cleaned)."""
        for table in ("datasets", "funnels", "plans"):
            column = "id" if table == "datasets" else "dataset_id"
            self._run(f"DELETE FROM {table} WHERE {column} = ?", (dataset_id,))  # noqa: S608

    # -- mappings, funnels, plans -----------------------------------------------------------
    def save_mapping(self, shape: str, mapping: Mapping[str, str]) -> None:
        """Remember ``mapping`` (canonical field → header) for files of ``shape``."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self._run(
            "INSERT OR REPLACE INTO mappings VALUES (?, ?, ?)",
            (shape, json.dumps(dict(mapping), ensure_ascii=False), now),
        )

    def mapping_for(self, shape: str) -> dict[str, str] | None:
        """The mapping saved for ``shape``, or None."""
        rows = self._run("SELECT mapping FROM mappings WHERE shape = ?", (shape,))
        return {str(k): str(v) for k, v in json.loads(rows[0][0]).items()} if rows else None

    def save_funnel(self, dataset_id: str, toml_text: str) -> None:
        """Keep the funnel file (TOML text) edited for a dataset."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self._run("INSERT OR REPLACE INTO funnels VALUES (?, ?, ?)", (dataset_id, toml_text, now))

    def funnel_text(self, dataset_id: str) -> str | None:
        """The funnel saved for a dataset, or None."""
        rows = self._run("SELECT toml FROM funnels WHERE dataset_id = ?", (dataset_id,))
        return str(rows[0][0]) if rows else None

    def delete_funnel(self, dataset_id: str) -> None:
        """Forget a dataset's edited funnel (its own file, if any, applies again)."""
        self._run("DELETE FROM funnels WHERE dataset_id = ?", (dataset_id,))

    def save_plan(self, dataset_id: str, plan: Plan) -> None:
        """Keep a dataset's plan."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self._run(
            "INSERT OR REPLACE INTO plans VALUES (?, ?, ?, ?, ?, ?)",
            (dataset_id, plan.plan, plan.plan_revenue, plan.plan_from, plan.plan_until, now),
        )

    def plan_for(self, dataset_id: str) -> Plan:
        """A dataset's plan (empty when none was saved)."""
        rows = self._run(
            "SELECT plan, plan_revenue, plan_from, plan_until FROM plans WHERE dataset_id = ?",
            (dataset_id,),
        )
        return Plan(*rows[0]) if rows else Plan()
