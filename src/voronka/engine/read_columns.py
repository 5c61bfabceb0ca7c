"""How each column of a file DuckDB has read is parsed and checked in SQL (the rules of
:func:`voronka.io.readers._convert`): a plain form read in SQL, the leftover values judged by the
readers' own functions (:mod:`voronka.io.leftovers`) and joined back, and the checks whose reasons
the rejects carry. :class:`ColumnRules` writes the plan; :class:`voronka.engine.read_checks.
Validation` runs it over the file and gives the rows, rejects and field issues."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.io.dates import _TEMPLATES
from voronka.io.leftovers import blanks, date_values, number_values
from voronka.io.readers import CONTROL, DATE_COLUMNS, IMPLAUSIBLE, TEXT_COLUMNS, clean_ids
from voronka.io.status import normalize_status

MAX_LEFTOVERS = 200_000
"""Distinct values of a column that SQL does not parse, at most, handed to the readers."""

MAX_STATUS_WORDS = 500
"""Distinct words of a status column, at most (each is looked up by the readers)."""

SAMPLE = 2000
"""Values of a date column (the first ones that are not empty) its template is chosen from."""

SAMPLE_ROWS = 10_000
"""Rows read once from the start of the file for the samples of all its date columns."""

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
    read the first rows of; a CSV sample may stop at a long line). With ``keep`` (SQL over the
    columns: the row is not wholly empty), ``source`` gives every row, unnumbered: the table it
    is read into numbers them by insertion order (``rowid``, which DuckDB keeps in file order)
    and leaves out the rows ``keep`` refuses, so the scan runs on every thread."""

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
class Check:
    """Rows where ``bad`` (SQL over table ``parsed``) holds have ``reason`` in ``header``."""

    bad: str
    header: str
    reason: str
    raw: str
    required: bool


@dataclass
class Plan:
    """``inner``: columns computed once per row under ``stage1`` (a ``stage1`` column may use one
    several times without computing it twice); ``stage1``: columns of table ``parsed`` (over
    ``src``); ``verdicts`` update it; ``values`` (the output columns) and ``checks`` are SQL over
    ``parsed``."""

    inner: dict[str, str] = field(default_factory=dict)
    stage1: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    raws: dict[str, str] = field(default_factory=dict)
    later: list[Any] = field(default_factory=list)


class ColumnRules:
    """The plan of each column's reading and checks (a part of :class:`voronka.engine.
    read_checks.Validation`, which holds the connection, the file and the plan)."""

    con: duckdb.DuckDBPyConnection
    raw: RawFile
    plan: Plan
    required: set[str]
    date_columns: list[str]  # SQL of the date columns (their samples are read together)
    samples: dict[str, list[str]] | None

    def _stage1(self, expr: str) -> str:
        alias = f"__s{len(self.plan.stage1)}"
        self.plan.stage1[alias] = expr
        return alias

    def _inner(self, expr: str) -> str:
        alias = f"__i{len(self.plan.inner)}"
        self.plan.inner[alias] = expr
        return f"src.{alias}"

    def _check(self, name: str, header: str, reason: str, bad: str) -> None:
        self.plan.checks.append(Check(bad, header, reason, self.plan.raws[header],
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
        fast = "NULL::TIMESTAMP"
        if template is not None:
            # strptime once per row (an inner column), its value kept where the text has the
            # template's exact shape (_template_glob) and a year other than 0.
            moment = self._inner(f"try_strptime({col}, {quote(_strptime_format(template))})")
            fast = (f"(CASE WHEN {col} GLOB {quote(_template_glob(template))} "
                    f"AND year({moment}) <> 0 THEN {moment} END)")

        def judge(values: pa.Array) -> pa.Array:
            if any("/" in v for v in values.to_pylist()):
                raise Fallback
            parsed, exact = date_values(values)
            if not exact:
                raise Fallback
            return parsed

        self.plan.values[name] = self._parsed(name, header, raw, fast, "bad_date", judge)

    def _template(self, col: str) -> str | None:
        """The template most of a sample of ``col`` fits (four-digit year, no zone, no ``/``,
        a shape :func:`_template_glob` checks)."""
        sample = self._sample(col)
        best, best_count = None, 0
        for template in _TEMPLATES:
            if ("/" in template or "Z" in template or "UTC" in template or "YYYY" not in template
                    or not _globbed(template)):
                continue
            pattern = re.compile(_template_regex(template))
            count = sum(1 for v in sample if pattern.fullmatch(v))
            if count > best_count:
                best, best_count = template, count
        return best

    def _sample(self, col: str) -> list[str]:
        """The first :data:`SAMPLE` values of ``col`` that are not empty, in file order: taken
        for all date columns at once from the first :data:`SAMPLE_ROWS` rows (each query of the
        file's start parses at least one read buffer), and alone for a column with fewer there
        in a file that has more rows."""
        if self.samples is None:
            names = ", ".join(self.date_columns) or "NULL"
            rows = self._first_rows(names, "true", SAMPLE_ROWS)
            self.samples = {}
            for i, column in enumerate(self.date_columns):
                values = [r[i] for r in rows if r[i] is not None][:SAMPLE]
                if len(values) == SAMPLE or len(rows) < SAMPLE_ROWS:
                    self.samples[column] = values
        found = self.samples.get(col)
        if found is not None:
            return found
        return [r[0] for r in self._first_rows(col, f"{col} IS NOT NULL", SAMPLE)]

    def _first_rows(self, columns: str, where: str, limit: int) -> list[Any]:
        """The first ``limit`` rows (``columns`` of the rows ``where`` holds) of the file's
        ``sample``; of its ``source`` where the sample's reader stops (a CSV line longer than
        its limit): the two differ only in wholly empty rows, which hold no value."""
        query = "SELECT {} FROM {} AS src WHERE {} LIMIT {}"
        try:
            return self.con.sql(query.format(columns, self.raw.sample, where, limit)).fetchall()
        except duckdb.Error:
            return self.con.sql(query.format(columns, self.raw.source, where, limit)).fetchall()

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
        blank = Check("false", header, "missing_value", raw, name in self.required)
        bad = Check("false", header, "bad_status", raw, name in self.required)
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


def _in(values: list[str]) -> str:
    return ", ".join(quote(v) for v in values)


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _template_regex(template: str) -> str:
    return "".join(r"\d" if ch in "YMDhms" else re.escape(ch) for ch in template)


def _strptime_format(template: str) -> str:
    fmt = template
    for letters, code in (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("hh", "%H"),
                          ("mm", "%M"), ("ss", "%S")):
        fmt = fmt.replace(letters, code)
    return fmt


def _globbed(template: str) -> bool:
    """Whether :func:`_template_glob` is exact for ``template``: it starts and ends with a
    number and has at most one space."""
    return template[0] in "YMDhms" and template[-1] in "YMDhms" and template.count(" ") <= 1


def _template_glob(template: str) -> str:
    """A ``GLOB`` pattern that a text DuckDB's ``strptime`` reads with ``template`` matches
    exactly when it has the template's shape (a digit for each letter, as
    :func:`_template_regex`; year 0 is refused apart), for a template :func:`_globbed` accepts.

    Cheaper than the regex (0.12 against 0.30 s of CPU for 3.1 million dates) because it checks
    only a few characters. Why that is enough: ``strptime`` reads each number with at most its
    width in digits, matches the literal characters one for one and skips whitespace only at
    the start, the end and where the format has a space. A text of the template's length with
    the literal characters in place (the pattern's ``?`` and literals) that ``strptime`` reads
    is therefore made of digits, literals and whitespace; fewer digits than the template's
    means more whitespace than its one space, and that whitespace lies at the start, the end,
    or next to the space (the space itself is pinned to ``' '``) — the places the pattern wants
    a digit. With no extra whitespace every number has all its digits, in place. (DuckDB's
    ``strptime`` then refuses a day, hour, minute or second out of range as the template
    does.)"""
    border = {0, len(template) - 1}
    for i, ch in enumerate(template):
        if ch == " ":
            border |= {i - 1, i + 1}
    return "".join(("[0-9]" if i in border else "?") if ch in "YMDhms" else ch
                   for i, ch in enumerate(template))
