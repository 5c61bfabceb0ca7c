"""The checks of the Python readers (:func:`voronka.io.readers._convert`) as SQL over a file DuckDB
has read (:mod:`voronka.engine.read`): table ``parsed`` holds each column's raw text and its
plain-form reading, the leftover values get the readers' verdict, and view ``checked`` gives the
output columns, each row's first required fault and its optional faults."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.errors import InputError
from voronka.io.aliases import REQUIRED, Kind, match_columns
from voronka.io.checks import bad_cell, bad_cell_expected
from voronka.io.dates import _TEMPLATES
from voronka.io.leftovers import blanks, date_values, number_values
from voronka.io.readers import (
    CONTROL,
    DATE_COLUMNS,
    IMPLAUSIBLE,
    MESSAGES,
    TEXT_COLUMNS,
    clean_ids,
    extra_columns,
    no_rows,
)
from voronka.io.result import REJECTS_SCHEMA, ReadResult
from voronka.io.status import normalize_status

MAX_LEFTOVERS = 200_000
"""Distinct values of a column that SQL does not parse, at most, handed to the readers."""

MAX_STATUS_WORDS = 500
"""Distinct words of a status column, at most (each is looked up by the readers)."""

_PLAIN_ID = r"[\x21-\x2d\x2f-\x7e]+"
_SPACES = (9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760, *range(8192, 8204), 8232, 8233,
           8239, 8287, 12288, 65279)
"""Code points of a superset of what the readers take for a space: a text whose first character
is none of them is not blank (one cheap look at the first character, not a scan)."""
_PLAIN_NUMBER = r"-?[0-9]+(\.[0-9]+)?"
class Fallback(Exception):
    """The file cannot be read here with a guarantee of the readers' result."""


@dataclass(frozen=True)
class RawFile:
    """The file as DuckDB reads it: ``source`` (SQL of a subquery) gives ``_row`` and columns
    ``c0`` … in file order, wholly empty rows left out (they keep their numbers, as in
    :func:`voronka.io.shape.finish_table`); ``sample`` the same columns, unnumbered (cheap to
    read the first rows of). With ``keep`` (SQL over the columns: the row is not wholly empty),
    ``source`` gives every row, unnumbered: the table it is read into numbers them by insertion
    order (``rowid``, which DuckDB keeps in file order) and leaves out the rows ``keep`` refuses,
    so the scan runs on every thread."""

    source: str
    sample: str
    headers: list[str]
    types: list[str]
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    keep: str | None = None


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Check:
    """Rows where ``bad`` (SQL over table ``parsed``) holds have ``reason`` in ``header``."""

    bad: str
    header: str
    reason: str
    raw: str
    required: bool


@dataclass
class _Plan:
    """``stage1``: columns of table ``parsed`` (over ``src``); ``verdicts`` update it; ``values``
    (the output columns) and ``checks`` are SQL over ``parsed``."""

    stage1: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    checks: list[_Check] = field(default_factory=list)
    raws: dict[str, str] = field(default_factory=dict)
    later: list[Any] = field(default_factory=list)


class Validation:
    """The checks of :func:`voronka.io.readers._convert`, as SQL: table ``parsed`` holds each
    column's raw text and its plain-form reading; the leftover values get the readers' verdict
    (an ``UPDATE`` of the few rows holding them); table ``checked`` holds the output columns,
    the first required fault of each row (``_first``), its first fault of any kind (``_any``),
    and the optional faults (``_badN``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, raw: RawFile, file: str, kind: Kind,
                 column_map: Mapping[str, str], strict: bool) -> None:
        self.con, self.raw, self.file, self.kind = con, raw, file, kind
        self.column_map, self.strict = column_map, strict
        self.plan = _Plan()
        self.required = set(REQUIRED[kind])
        self.rows, self.kept = "_row", ""  # a row's number in ``parsed``; the rows read

    def run(self) -> ReadResult:
        raw = self.raw
        match = match_columns(raw.headers, self.kind, column_map=self.column_map, file=self.file)
        position = {h: i for i, h in enumerate(raw.headers)}
        for name, header in match.mapping.items():
            i = position[header]
            self._column(name, header, f"src.c{i}", raw.types[i])
        for name, header in extra_columns(match.extras, set(self.plan.values)):
            alias = self._stage1(f"src.c{position[header]}")
            self.plan.values[name] = alias
        columns = [f"{v} AS {a}" for a, v in self.plan.stage1.items()]
        if raw.keep is None:
            stage1 = ", ".join(["src._row AS _row", *columns])
            self.con.sql(f"CREATE TABLE parsed AS SELECT {stage1} FROM {raw.source} AS src")
        else:
            self._numbered_by_scan(raw, columns)
        rows_read = int(self.con.sql(f"SELECT count(*) FROM parsed {self.kept}"
                                     ).fetchall()[0][0])
        if rows_read == 0:
            raise no_rows(self.file, self.kind)
        for step in self.plan.later:
            step()
        return self._finish(rows_read, dict(match.mapping))

    # -- columns ---------------------------------------------------------------------------
    def _stage1(self, expr: str) -> str:
        alias = f"__s{len(self.plan.stage1)}"
        self.plan.stage1[alias] = expr
        return alias

    def _check(self, name: str, header: str, reason: str, bad: str) -> None:
        self.plan.checks.append(_Check(bad, header, reason, self.plan.raws[header],
                                       name in self.required))

    def _verdict(self, raw: str, pending: str, judge: Any) -> None:
        """After ``parsed`` is made: the distinct values of ``raw`` where ``pending`` holds go to
        ``judge`` (values → table of ``k`` and columns named as the ``parsed`` columns to set)."""

        def step() -> None:
            query = (f"SELECT DISTINCT {raw} AS k FROM parsed WHERE {raw} IS NOT NULL AND "
                     f"{pending} LIMIT {MAX_LEFTOVERS + 1}")
            values = self.con.sql(query).to_arrow_table().column("k")
            if len(values) > MAX_LEFTOVERS:
                raise Fallback
            if not len(values):
                return
            table: pa.Table = judge(values.combine_chunks().cast(pa.string()))
            if not table.num_rows:
                return
            name = f"verdict{id(table)}"
            self.con.register(name, table)
            sets = ", ".join(f"{c} = m.{c}" for c in table.column_names if c != "k")
            self.con.sql(f"UPDATE parsed SET {sets} FROM {name} AS m "
                         f"WHERE parsed.{raw} = m.k AND {pending}")
            self.con.unregister(name)

        self.plan.later.append(step)

    def _column(self, name: str, header: str, col: str, kind: str) -> None:
        if kind != "VARCHAR" and name not in ("amount", "cost"):
            raise Fallback
        raw = self._stage1(col if kind == "VARCHAR" else f"CAST({col} AS VARCHAR)")
        self.plan.raws[header] = raw
        if name == "deal_id":
            self._deal_id(name, header, col, raw)
        elif name in TEXT_COLUMNS:
            self._text(name, header, col, raw)
        elif name in DATE_COLUMNS:
            self._date(name, header, col, raw)
        elif name in ("amount", "cost"):
            self._number(name, header, col, raw, kind)
        elif name == "status":
            self._status(name, header, col, raw)
        elif name in ("date", "month"):
            raise Fallback
        else:
            self.plan.values[name] = raw

    def _deal_id(self, name: str, header: str, col: str, raw: str) -> None:
        value = self._stage1(f"(CASE WHEN regexp_full_match({col}, '{_PLAIN_ID}') THEN {col} "
                             "END)")
        bad = self._stage1("false")
        pending = f"(parsed.{raw} IS NOT NULL AND parsed.{value} IS NULL)"

        def judge(values: pa.Array) -> pa.Table:
            cleaned = clean_ids(values).combine_chunks()
            flags = pc.fill_null(pc.match_substring_regex(cleaned, CONTROL), False)
            return pa.table({"k": values, value: cleaned, bad: flags})

        self._verdict(raw, pending, judge)
        self.plan.values[name] = value
        self._check(name, header, "missing_value", f"({value} IS NULL)")
        self._check(name, header, "bad_id", bad)

    def _text(self, name: str, header: str, col: str, raw: str) -> None:
        blank = self._stage1(f"({col} IS NULL)")
        pending = "parsed." + self._stage1(
            f"coalesce(unicode({col}) IN ({', '.join(map(str, _SPACES))}), false)")

        def judge(values: pa.Array) -> pa.Table:
            spaces = values.filter(pa.array(blanks(values)))
            return pa.table({"k": spaces, blank: pa.array([True] * len(spaces))})

        self._verdict(raw, pending, judge)
        self.plan.values[name] = f"(CASE WHEN {blank} THEN NULL ELSE {raw} END)"
        if name in self.required:
            self._check(name, header, "missing_value", blank)

    def _parsed(self, name: str, header: str, raw: str, value: str, reason: str,
                judge: Any) -> str:
        """A column read by ``value`` (SQL, null when not plain) and ``judge`` for the rest;
        the SQL of its blank cells."""
        blank = self._stage1("false")
        value = self._stage1(value)
        pending = f"(parsed.{raw} IS NOT NULL AND parsed.{value} IS NULL)"

        def verdict(values: pa.Array) -> pa.Table:
            read = judge(values)
            return pa.table({"k": values, value: read,
                             blank: blanks(values) & _mask(pc.is_null(read))})

        self._verdict(raw, pending, verdict)
        empty = f"({raw} IS NULL OR {blank})"
        if name in self.required:
            self._check(name, header, "missing_value", empty)
        self._check(name, header, reason, f"({value} IS NULL AND NOT {empty})")
        return value

    def _date(self, name: str, header: str, col: str, raw: str) -> None:
        template = self._template(col)
        fast = "NULL::TIMESTAMP" if template is None else _template_sql(col, template)[1]

        def judge(values: pa.Array) -> pa.Array:
            if any("/" in v for v in values.to_pylist()):
                raise Fallback
            parsed, exact = date_values(values)
            if not exact:
                raise Fallback
            return parsed

        self.plan.values[name] = self._parsed(name, header, raw, fast, "bad_date", judge)

    def _template(self, col: str) -> str | None:
        """The template most of a sample of ``col`` fits (four-digit year, no zone, no ``/``)."""
        sample = [r[0] for r in self.con.sql(
            f"SELECT {col} FROM {self.raw.sample} AS src WHERE {col} IS NOT NULL LIMIT 2000"
        ).fetchall()]
        best, best_count = None, 0
        for template in _TEMPLATES:
            if "/" in template or "Z" in template or "UTC" in template or "YYYY" not in template:
                continue
            pattern = re.compile(_template_regex(template))
            count = sum(1 for v in sample if pattern.fullmatch(v))
            if count > best_count:
                best, best_count = template, count
        return best

    def _number(self, name: str, header: str, col: str, raw: str, kind: str) -> None:
        if kind != "VARCHAR":
            fast = f"CAST({col} AS DOUBLE)"
        else:
            fast = (f"(CASE WHEN regexp_full_match({col}, '{_PLAIN_NUMBER}') "
                    f"THEN CAST({col} AS DOUBLE) END)")

        def judge(values: pa.Array) -> pa.Array:
            return number_values(values).combine_chunks()

        v = self._parsed(name, header, raw, fast, "bad_number", judge)
        infinite = f"({v} IS NOT NULL AND NOT isfinite({v}))"
        huge = f"({v} IS NOT NULL AND isfinite({v}) AND abs({v}) >= {IMPLAUSIBLE!r})"
        self._check(name, header, "not_finite", infinite)
        self._check(name, header, "implausible_number", huge)
        self.plan.values[name] = f"(CASE WHEN {infinite} OR {huge} THEN NULL ELSE {v} END)"

    def _status(self, name: str, header: str, col: str, raw: str) -> None:
        """Status words are few: each distinct one is looked up by the readers, and the
        answers become ``CASE`` expressions of the output (set once ``parsed`` is made)."""
        del col
        blank = _Check("false", header, "missing_value", raw, name in self.required)
        bad = _Check("false", header, "bad_status", raw, name in self.required)
        if name in self.required:
            self.plan.checks.append(blank)
        self.plan.checks.append(bad)
        self.plan.values[name] = "NULL::VARCHAR"

        def step() -> None:
            words = self.con.sql(f"SELECT DISTINCT {raw} FROM parsed WHERE {raw} IS NOT NULL "
                                 f"LIMIT {MAX_STATUS_WORDS + 1}").to_arrow_table().column(0)
            values = words.combine_chunks().cast(pa.string())
            texts = values.to_pylist()
            if len(texts) > MAX_STATUS_WORDS or any("\x00" in w for w in texts):
                raise Fallback
            status, recognised = normalize_status(values)
            empty = blanks(values) & _mask(pc.is_null(status))
            meaning = dict(zip(texts, status.to_pylist(), strict=True))
            cases = " ".join(f"WHEN {quote(v)} THEN {quote(m)}" for v, m in meaning.items() if m)
            unknown = [v for v, ok in zip(texts, recognised.to_pylist(), strict=True) if not ok]
            spaces = [v for v, e in zip(texts, empty, strict=True) if e]
            if cases:
                self.plan.values[name] = f"(CASE {raw} {cases} END)"
            blank.bad = f"({raw} IS NULL" + (f" OR {raw} IN ({_in(spaces)})" if spaces else
                                             "") + ")"
            if unknown:
                bad.bad = f"(coalesce({raw} IN ({_in(unknown)}), false) AND NOT {blank.bad})"

        self.plan.later.append(step)

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

    def _numbered_by_scan(self, raw: RawFile, columns: list[str]) -> None:
        """Table ``parsed`` of a file whose rows the scan does not number: a row's number is its
        insertion order (``rowid``), which DuckDB keeps in file order only when the plan is a
        batch insert straight over the scan. An ``IN`` list becomes a join, which scrambles
        that order (a 1M-row CSV got wrong row numbers in about half the runs), so the rewrite
        is off on this connection; should the plan still not be a batch insert, the rows are
        first scanned into a table of their own and numbered from it."""
        self.kept = "WHERE _keep"
        checks = ", ".join([*columns, f"({raw.keep}) AS _keep"])
        self.con.sql("SET disabled_optimizers = 'in_clause'")
        create = f"CREATE TABLE parsed AS SELECT {checks} FROM {raw.source} AS src"
        if _is_batch_insert(str(self.con.sql("EXPLAIN " + create).fetchall()[0][1])):
            self.con.sql(create)
            self.rows = "parsed.rowid + 1"
            return
        self.con.sql(f"CREATE TABLE scanned AS SELECT * FROM {raw.source}")
        self.con.sql(f"CREATE TABLE parsed AS SELECT src.rowid + 1 AS _row, {checks} "
                     "FROM scanned AS src")
        self.con.sql("DROP TABLE scanned")

    def _records(self, where: str, which: str | None, checks: list[tuple[int, _Check]]
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


def _in(values: list[str]) -> str:
    return ", ".join(quote(v) for v in values)


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _sorted(parts: list[pa.Table]) -> pa.Table:
    kept = [p for p in parts if p.num_rows]
    return pa.concat_tables(kept).sort_by("row") if kept else REJECTS_SCHEMA.empty_table()


def _template_regex(template: str) -> str:
    return "".join(r"\d" if ch in "YMDhms" else re.escape(ch) for ch in template)


def _template_sql(col: str, template: str) -> tuple[str, str]:
    """``(gate, value)``: SQL that a value has exactly ``template``'s shape (digits where it has
    letters) and names a valid moment, and that moment (as :func:`voronka.io.dates.
    _apply_template`: DuckDB's ``strptime`` rejects a day, hour, minute or second out of range
    as the template does; year 0 is refused as there)."""
    fmt = template
    for letters, code in (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("hh", "%H"),
                          ("mm", "%M"), ("ss", "%S")):
        fmt = fmt.replace(letters, code)
    shape = f"regexp_full_match({col}, {quote(_template_regex(template))})"
    year = f"substr({col}, {template.index('YYYY') + 1}, 4) <> '0000'"
    value = f"(CASE WHEN {shape} AND {year} THEN try_strptime({col}, {quote(fmt)}) END)"
    return f"({value} IS NOT NULL)", value
