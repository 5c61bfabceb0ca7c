"""Events and deals files read and validated by DuckDB itself (issue 11, point 2).

A plain UTF-8 CSV file (the delimiter, header and encoding found by :func:`voronka.io.csvfile.
sniff_csv`, every column as text) or a Parquet file of text and integer columns is read with
DuckDB's own reader into an in-memory table, and its rows are parsed and checked in SQL: the same
canonical columns, reject reasons, row numbers, examples and field issues as the Python readers
(:mod:`voronka.io.readers`), so the :class:`~voronka.io.result.ReadResult` is equal, column for
column. Rows read = used + rejected.

SQL parses the plain forms (a date in the column's one template such as ``31.03.2024 14:05``, a
decimal such as ``1234.5``, a printable ASCII id, a non-blank text); every other distinct value of
a column is handed to the readers' own functions (:mod:`voronka.io.leftovers`), and their verdict
is joined back. The rule for which files go this way (:func:`read_fast` returns None for the
others, which the Python readers read):

* events and deals files (spend files are a few hundred rows);
* CSV: not compressed, UTF-8 (with or without BOM) throughout, every line with the header's
  number of fields (else DuckDB stops and the Python reader pads short lines and reports long
  ones), a header on one line; Parquet: text columns, integer amounts;
* no date column with ``/`` dates (day or month first is decided from the column) or written
  time zones, and no leftover value whose reading could depend on the rest of its column;
* at most :data:`MAX_LEFTOVERS` distinct leftover values per column.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import duckdb

from voronka.engine.read_checks import Fallback, RawFile, Validation, ident, quote
from voronka.errors import InputError
from voronka.io.aliases import Kind
from voronka.io.csvfile import sniff_csv
from voronka.io.result import Progress, ReadResult

FAST_KINDS = ("events", "deals")
"""The kinds of file read this way."""

_INTEGER_TYPES = ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER",
                  "USMALLINT", "UTINYINT")

PathLike = str | os.PathLike[str]

MAX_LINE_BYTES = 8 << 20
"""The longest CSV line DuckDB reads here; a file with a longer one is read by the Python readers
(DuckDB stops with an error). DuckDB's read buffers grow with this limit: at 64 MB the 182 MB
deals file of 1,000,000 deals was a few buffers and one thread did about 90 % of its parsing
(0.74 of 0.89 s CPU for the bare read); at 8 MB the two threads share it evenly."""


SAMPLE_LINE_BYTES = 1 << 20
"""The longest CSV line of the reader that samples the first rows (its buffers are twice as
large): the template of a date column comes from them, and reading them with the 8 MB buffers
of :data:`MAX_LINE_BYTES` parsed a whole buffer (0.08 s of CPU for the deals file of 1,000,000
deals; 0.01 s with 2 MB). A longer line there stops it, and the full reader samples instead."""


def read_fast(
    path: PathLike,
    kind: Kind,
    *,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> ReadResult | None:
    """``path`` read and validated by DuckDB, equal to :func:`voronka.io.readers.read_events`
    (``read_deals``); None when the file is not one for this way (module docstring).

    Raises:
        InputError: what the readers raise: a required column missing, no data rows, or
            (``strict``) the first bad row, naming file, row and column.
    """
    if kind not in FAST_KINDS:
        return None
    p = Path(path)
    try:
        if not p.is_file() or p.stat().st_size == 0:
            return None
        with open(p, "rb") as f:
            head = f.read(8)
    except OSError:
        return None
    con = duckdb.connect()
    con.sql("SET enable_progress_bar = false")
    try:
        if head.startswith(b"PAR1"):
            raw = _load_parquet(con, p)
        elif head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\x1f\x8b")):
            return None
        else:
            raw = _load_csv(p, str(path))
        read = Validation(con, raw, str(path), kind, column_map or {}, strict).run()
    except (Fallback, duckdb.Error):
        return None
    finally:
        con.close()
    if progress is not None:
        size = p.stat().st_size
        progress(size, size)
    return read


def _not_empty(names: list[str]) -> str:
    return "NOT (" + (" AND ".join(f"{n} IS NULL" for n in names) or "false") + ")"


def _load_csv(p: Path, file: str) -> RawFile:
    try:
        sniffed = sniff_csv(p, file, p.stat().st_size, gzipped=False)
    except InputError:
        raise Fallback from None  # the readers say what is wrong
    if (sniffed.encoding not in ("utf-8", "utf-8-sig") or sniffed.data is not None
            or any("\n" in h or "\r" in h for h in sniffed.header_cells)):
        raise Fallback
    names = [f"c{i}" for i in range(len(sniffed.headers))]
    columns = "{" + ", ".join(f"{quote(n)}: 'VARCHAR'" for n in names) + "}"
    options = (f"delim={quote(sniffed.delimiter)}, header=false, skip={sniffed.skip}, "
               f"quote='\"', escape='\"', columns={columns}, auto_detect=false, "
               "strict_mode=true, null_padding=false, encoding='utf-8'")
    reader = f"read_csv({quote(str(p))}, {options}, max_line_size={MAX_LINE_BYTES})"
    sample = (f"read_csv({quote(str(p))}, {options}, max_line_size={SAMPLE_LINE_BYTES}, "
              f"buffer_size={2 * SAMPLE_LINE_BYTES})")
    # No row_number() here: that window serialises the scan; the rows are numbered by the
    # insertion order of the table they are read into (``RawFile.keep``).
    return RawFile(reader, sample, sniffed.headers, ["VARCHAR"] * len(names), "csv",
                   sniffed.encoding, sniffed.delimiter, keep=_not_empty(names))


def _load_parquet(con: duckdb.DuckDBPyConnection, p: Path) -> RawFile:
    from voronka.io.shape import dedupe_headers

    described = con.sql(f"DESCRIBE SELECT * FROM read_parquet({quote(str(p))})").fetchall()
    headers = [str(r[0]) for r in described]
    types = [str(r[1]) for r in described]
    if dedupe_headers(headers) != headers or any(
            t != "VARCHAR" and t not in _INTEGER_TYPES for t in types):
        raise Fallback
    names = [f"c{i}" for i in range(len(headers))]
    select = ", ".join(
        (f"NULLIF({ident(h)}, '')" if t == "VARCHAR" else f"CAST({ident(h)} AS BIGINT)")
        + f" AS {n}" for h, t, n in zip(headers, types, names, strict=True))
    reader = f"read_parquet({quote(str(p))}, file_row_number=true)"
    sample = f"(SELECT {select} FROM {reader})"
    source = (f"(SELECT * FROM (SELECT file_row_number + 1 AS _row, {select} FROM {reader}) "
              f"WHERE {_not_empty(names)})")
    return RawFile(source, sample, headers,
                ["VARCHAR" if t == "VARCHAR" else "BIGINT" for t in types], "parquet")


