"""The checks of the Python readers (:func:`voronka.io.readers._convert`) as SQL over a file DuckDB
has read (:mod:`voronka.engine.read`): table ``parsed`` holds each column's raw text and its
plain-form reading, the leftover values get the readers' verdict, and view ``checked`` gives the
output columns, each row's first required fault and its optional faults. How each column is read
and checked is planned by :class:`voronka.engine.read_columns.ColumnRules`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from voronka.engine.read_columns import (
    MAX_LEFTOVERS,
    Check,
    ColumnRules,
    Fallback,
    Plan,
    RawFile,
    ident,
    quote,
)
from voronka.errors import InputError
from voronka.io.aliases import REQUIRED, Kind, match_columns
from voronka.io.checks import bad_cell, bad_cell_expected
from voronka.io.readers import DATE_COLUMNS, MESSAGES, extra_columns, no_rows
from voronka.io.result import REJECTS_SCHEMA, ReadResult

__all__ = ["MAX_LEFTOVERS", "Fallback", "RawFile", "Validation", "ident", "quote"]


class Validation(ColumnRules):
    """The checks of :func:`voronka.io.readers._convert`, as SQL: table ``parsed`` holds each
    column's raw text and its plain-form reading; the leftover values get the readers' verdict
    (an ``UPDATE`` of the few rows holding them); table ``checked`` holds the output columns,
    the first required fault of each row (``_first``), its first fault of any kind (``_any``),
    and the optional faults (``_badN``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, raw: RawFile, file: str, kind: Kind,
                 column_map: Mapping[str, str], strict: bool) -> None:
        self.con, self.raw, self.file, self.kind = con, raw, file, kind
        self.column_map, self.strict = column_map, strict
        self.plan = Plan()
        self.required = set(REQUIRED[kind])
        self.rows, self.kept = "_row", ""  # a row's number in ``parsed``; the rows read
        self.date_columns: list[str] = []
        self.samples = None

    def run(self) -> ReadResult:
        raw = self.raw
        match = match_columns(raw.headers, self.kind, column_map=self.column_map, file=self.file)
        position = {h: i for i, h in enumerate(raw.headers)}
        self.date_columns = [f"src.c{position[h]}" for n, h in match.mapping.items()
                             if n in DATE_COLUMNS]
        for name, header in match.mapping.items():
            i = position[header]
            self._column(name, header, f"src.c{i}", raw.types[i])
        for name, header in extra_columns(match.extras, set(self.plan.values)):
            alias = self._stage1(f"src.c{position[header]}")
            self.plan.values[name] = alias
        columns = [f"{v} AS {a}" for a, v in self.plan.stage1.items()]
        source = raw.source
        if self.plan.inner:
            inner = ", ".join(f"{v} AS {a}" for a, v in self.plan.inner.items())
            source = f"(SELECT src.*, {inner} FROM {raw.source} AS src)"
        if raw.keep is None:
            stage1 = ", ".join(["src._row AS _row", *columns])
            self.con.sql(f"CREATE TABLE parsed AS SELECT {stage1} FROM {source} AS src")
        else:
            self._numbered_by_scan(source, raw.keep, columns)
        rows_read = int(self.con.sql(f"SELECT count(*) FROM parsed {self.kept}"
                                     ).fetchall()[0][0])
        if rows_read == 0:
            raise no_rows(self.file, self.kind)
        for step in self.plan.later:
            step()
        return self._finish(rows_read, dict(match.mapping))

    # -- columns ---------------------------------------------------------------------------
    # -- rows ------------------------------------------------------------------------------
    def _finish(self, rows_read: int, mapping: dict[str, str]) -> ReadResult:
        plan, con = self.plan, self.con
        checks = plan.checks
        required = [i for i, c in enumerate(checks) if c.required]
        optional = [i for i, c in enumerate(checks) if not c.required]

        def first_of(indices: list[int]) -> str:
            if not indices:
                return "NULL::INTEGER"
            return "CASE " + " ".join(f"WHEN {checks[i].bad} THEN {i}" for i in indices) + " END"

        final = ", ".join(f"{v} AS {ident(n)}" for n, v in plan.values.items())
        stage2 = ", ".join(
            [f"{self.rows} AS _row", final, f"{first_of(required)} AS _first",
             f"{first_of(list(range(len(checks))))} AS _any"]
            + list(plan.raws.values())
            + [f"coalesce({checks[i].bad}, false) AS _bad{i}" for i in optional])
        con.sql(f"CREATE VIEW checked AS SELECT {stage2} FROM parsed {self.kept}")
        if self.strict:
            self._raise_first()
        rejects = self._records("_first IS NOT NULL", "_first", [(i, checks[i]) for i in required])
        issues = [self._records(f"_bad{i} AND _first IS NULL", None, [(i, checks[i])])
                  for i in optional]
        names = ", ".join(ident(n) for n in plan.values)
        table = _in_file_order(con.sql(f"SELECT {names}, _row FROM checked WHERE _first IS NULL"
                                       ).to_arrow_table())
        return ReadResult(
            file=self.file, table=table, rows_read=rows_read, rejects=rejects,
            column_mapping=mapping, format=self.raw.format, encoding=self.raw.encoding,
            delimiter=self.raw.delimiter, field_issues=_sorted(issues),
        )

    def _numbered_by_scan(self, source: str, keep: str, columns: list[str]) -> None:
        """Table ``parsed`` of a file whose rows the scan does not number: a row's number is its
        insertion order (``rowid``), which DuckDB keeps in file order only when the plan is a
        batch insert straight over the scan. An ``IN`` list becomes a join, which scrambles
        that order (a 1M-row CSV got wrong row numbers in about half the runs), so the rewrite
        is off on this connection; should the plan still not be a batch insert, the rows are
        first scanned into a table of their own and numbered from it."""
        self.kept = "WHERE _keep"
        checks = ", ".join([*columns, f"({keep}) AS _keep"])
        self.con.sql("SET disabled_optimizers = 'in_clause'")
        create = f"CREATE TABLE parsed AS SELECT {checks} FROM {source} AS src"
        if _is_batch_insert(str(self.con.sql("EXPLAIN " + create).fetchall()[0][1])):
            self.con.sql(create)
            self.rows = "parsed.rowid + 1"
            return
        self.con.sql(f"CREATE TABLE scanned AS SELECT * FROM {source}")
        self.con.sql(f"CREATE TABLE parsed AS SELECT src.rowid + 1 AS _row, {checks} "
                     "FROM scanned AS src")
        self.con.sql("DROP TABLE scanned")

    def _records(self, where: str, which: str | None, checks: list[tuple[int, Check]]
                 ) -> pa.Table:
        """Reject or field-issue records of the rows ``where`` holds (``which``: the column
        telling the check of each row; None for one check)."""
        if not checks:
            return REJECTS_SCHEMA.empty_table()

        def pick(part: Any) -> str:
            if which is None:
                return str(part(checks[0][1]))
            return ("CASE " + which + " " + " ".join(f"WHEN {i} THEN {part(c)}"
                                                     for i, c in checks) + " END")

        header = pick(lambda c: quote(c.header))
        reason = pick(lambda c: quote(c.reason))
        value = pick(lambda c: c.raw)
        message = pick(lambda c: quote(MESSAGES[c.reason]))
        out = self.con.sql(
            f"SELECT _row AS row, {header} AS \"column\", {reason} AS reason, "
            f"{value} AS value, {message} AS message FROM checked WHERE {where} ORDER BY _row"
        ).to_arrow_table()
        return out.cast(REJECTS_SCHEMA)

    def _raise_first(self) -> None:
        found = self.con.sql("SELECT _row, _any FROM checked WHERE _any IS NOT NULL "
                             "ORDER BY _row LIMIT 1").fetchall()
        if not found:
            return
        row, index = int(found[0][0]), int(found[0][1])
        check = self.plan.checks[index]
        cell: Any = self.con.sql(f"SELECT {check.raw} FROM checked WHERE _row = {row}"
                                 ).fetchall()[0][0]
        value = None if cell is None else str(cell)
        raise InputError(bad_cell(check.reason, value), file=self.file, row=row,
                         column=check.header, expected=bad_cell_expected(check.reason),
                         reason=check.reason, value=value)


def _is_batch_insert(plan: str) -> bool:
    """Whether an ``EXPLAIN``ed ``CREATE TABLE … AS`` inserts in the scan's order (DuckDB's
    batch insert; a plain one takes the rows as its threads hand them over)."""
    return "batch create table as" in plan.lower() or "batch_create_table_as" in plan.lower()


def _in_file_order(table: pa.Table) -> pa.Table:
    """``table`` sorted by ``_row`` when a parallel scan handed its rows over out of order (a
    linear check; the sort only when needed)."""
    rows = table.column("_row").to_numpy()
    if len(rows) < 2 or bool((rows[1:] > rows[:-1]).all()):
        return table
    return table.take(pc.sort_indices(table.column("_row")))


def _sorted(parts: list[pa.Table]) -> pa.Table:
    kept = [p for p in parts if p.num_rows]
    return pa.concat_tables(kept).sort_by("row") if kept else REJECTS_SCHEMA.empty_table()
