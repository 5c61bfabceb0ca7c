"""Reading a file into a table of strings: format, encoding and delimiter are detected.

CSV (``,`` ``;`` tab or ``|``; UTF-8, UTF-8 with BOM, Windows-1251 and other encodings detected with
charset-normalizer on a sample; plain or ``.gz``), XLSX/XLS (python-calamine) and Parquet (pyarrow).
CSV is read by pyarrow's multithreaded reader; a file whose lines do not all have the header's
number of fields is re-read with Python's ``csv`` module, which pads short lines and reports long
ones as ``bad_row``.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import charset_normalizer
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from python_calamine import CalamineError, CalamineWorkbook

from voronka.errors import InputError
from voronka.io.result import Progress, RawTable

SAMPLE_BYTES = 1 << 20
"""Bytes read ahead to detect the encoding and the delimiter."""

_CYRILLIC_WORD = re.compile("(?<![A-Za-z])[\u0400-\u04ff]{2,}(?![A-Za-z])")

DELIMITERS = (",", ";", "\t", "|")

_MAGIC_ZIP = b"PK\x03\x04"
_MAGIC_OLE = b"\xd0\xcf\x11\xe0"
_MAGIC_PARQUET = b"PAR1"
_MAGIC_GZIP = b"\x1f\x8b"


def read_raw(
    path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    choose_sheet: Callable[[Sequence[str]], bool] | None = None,
) -> RawTable:
    """Read ``path`` with every column as strings (empty cells are null).

    Args:
        path: a CSV (optionally ``.gz``), XLSX/XLS or Parquet file; the format is told by the
            file's first bytes, not its name.
        progress: ``progress(done_bytes, total_bytes)`` while reading.
        choose_sheet: for workbooks, a test on a sheet's headers; the first sheet that passes is
            read (else the first sheet with data).

    Raises:
        InputError: the file is missing, empty, or not a table in a known format.
    """
    raw = load_table(path, progress=progress, choose_sheet=choose_sheet)
    if raw.format != "parquet":
        return raw
    columns = [
        col if name == "_row" else _to_string(col)
        for name, col in zip(raw.table.column_names, raw.table.columns, strict=True)
    ]
    return RawTable(
        file=raw.file,
        table=pa.table(columns, names=raw.table.column_names),
        format=raw.format,
        rows_read=raw.rows_read,
    )


def load_table(
    path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
    choose_sheet: Callable[[Sequence[str]], bool] | None = None,
) -> RawTable:
    """Like :func:`read_raw`, but Parquet columns keep their own types (faster for the readers)."""
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError("the file does not exist or is not a file", file=file)
    total = p.stat().st_size
    if total == 0:
        raise InputError("the file is empty", file=file, expected="a table with a header row")
    with open(p, "rb") as f:
        head = f.read(8)
    try:
        if head.startswith(_MAGIC_PARQUET):
            raw = _read_parquet(p, file)
        elif head.startswith((_MAGIC_ZIP, _MAGIC_OLE)):
            raw = _read_workbook(p, file, choose_sheet)
        else:
            raw = _read_csv(p, file, total, progress, gzipped=head.startswith(_MAGIC_GZIP))
    except InputError:
        raise
    except (pa.ArrowException, CalamineError, OSError, ValueError, UnicodeError, EOFError) as exc:
        raise InputError(
            f"cannot read the file as a table: {exc}",
            file=file,
            expected="a CSV (',' ';' or tab separated), XLSX or Parquet file with a header row",
        ) from None
    if progress is not None:
        progress(total, total)
    return raw


# --- CSV -------------------------------------------------------------------------------------


def detect_encoding(sample: bytes) -> str:
    """The text encoding of ``sample``: ``utf-8-sig`` (BOM), ``utf-8`` when it decodes, else the
    best guess of charset-normalizer (``cp1251`` for a typical Russian Windows export)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A sample cut in the middle of a multi-byte character is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    # Windows-1251 is by far the most common non-UTF-8 encoding of CRM exports, and short samples
    # fool general detectors (a two-word Russian header can pass for Korean): take cp1251 when
    # most non-ASCII characters it decodes to make Cyrillic words (two letters or more, not glued
    # to Latin letters: the accented letters of a Western text decode to Cyrillic letters inside
    # Latin words).
    text = sample.decode("cp1251", errors="replace")
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    in_words = sum(len(w) for w in _CYRILLIC_WORD.findall(text))
    if non_ascii and in_words >= 0.7 * non_ascii:
        return "cp1251"
    best = charset_normalizer.from_bytes(sample[: 256 * 1024]).best()
    encoding = best.encoding if best is not None else "cp1251"
    return codecs.lookup(encoding).name


def sniff_delimiter(text: str) -> str:
    """The field separator of a CSV sample: the candidate that splits the header into most fields
    while keeping the same number of fields on the following lines."""
    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut short
    sample = "\n".join(lines[:200])
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        if not rows:
            continue
        width = len(rows[0])
        if width < 2:
            continue
        consistent = sum(len(r) == width for r in rows) / len(rows)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _dedupe(headers: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, raw in enumerate(headers):
        name = raw.replace("\ufeff", "").strip() or f"column {i + 1}"
        if name == "_row":
            name = "_row (file)"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


class _Counting(io.RawIOBase):
    """A binary file that reports the bytes read so far to ``progress``."""

    def __init__(self, f: io.BufferedReader, total: int, progress: Progress) -> None:
        self._f, self._total, self._progress, self._done = f, total, progress, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._f.readinto(buffer)
        if n:
            self._done += n
            self._progress(min(self._done, self._total), self._total)
        return n or 0

    def close(self) -> None:
        self._f.close()
        super().close()


def _open_stream(p: Path, total: int, progress: Progress | None, gzipped: bool) -> Any:
    f: Any = open(p, "rb")  # noqa: SIM115 - closed by pyarrow with the stream
    if progress is not None:
        f = _Counting(f, total, progress)
    if gzipped:
        return pa.CompressedInputStream(pa.PythonFile(f, mode="r"), "gzip")
    return pa.PythonFile(f, mode="r")


def _read_csv(
    p: Path, file: str, total: int, progress: Progress | None, *, gzipped: bool
) -> RawTable:
    with gzip.open(p, "rb") if gzipped else open(p, "rb") as f:
        sample = f.read(SAMPLE_BYTES)
    if not sample.strip():
        raise InputError("the file is empty", file=file, expected="a table with a header row")
    if b"\x00" in sample[:4096] and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(
            "the file is not text, XLSX or Parquet",
            file=file,
            expected="a CSV (',' ';' or tab separated), XLSX or Parquet file",
        )
    encoding = detect_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    delimiter = sniff_delimiter(text)
    first = next(csv.reader(io.StringIO(text.lstrip("\r\n")), delimiter=delimiter), [])
    headers = _dedupe(first)
    leading_blank = len(text) - len(text.lstrip("\r\n"))
    skip = 1 + text[:leading_blank].count("\n")
    arrow_encoding = "utf8" if encoding in {"utf-8", "utf-8-sig"} else encoding
    multiline = _has_multiline_cell(text, delimiter)

    def attempt(newlines_in_values: bool) -> pa.Table:
        nonlocal arrow_encoding, encoding
        try:
            return attempt_once(newlines_in_values)
        except pa.ArrowInvalid as exc:
            # The sample was UTF-8 but a later part of the file is not: a Windows export whose
            # first megabyte happened to be plain ASCII.
            if "UTF8" not in str(exc) or arrow_encoding != "utf8":
                raise
            encoding = arrow_encoding = "cp1251"
            return attempt_once(newlines_in_values)

    def attempt_once(newlines_in_values: bool) -> pa.Table:
        stream = _open_stream(p, total, progress, gzipped)
        try:
            return pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=headers,
                    skip_rows=skip,
                    encoding=arrow_encoding,
                    block_size=4 << 20,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=newlines_in_values
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={h: pa.string() for h in headers},
                    strings_can_be_null=True,
                    null_values=[""],
                    quoted_strings_can_be_null=True,
                ),
            )
        finally:
            stream.close()

    bad_rows: tuple[int, ...] = ()
    try:
        table = attempt(multiline)
    except pa.ArrowInvalid as exc:
        if "columns" not in str(exc):
            raise
        try:
            table = attempt(True)
        except pa.ArrowInvalid as exc2:
            if "columns" not in str(exc2):
                raise
            table, bad_rows = _read_csv_python(p, gzipped, encoding, delimiter, headers, skip)
    table, rows_read = _finish(table, extra_rows=len(bad_rows))
    return RawTable(
        file=file,
        table=table,
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        rows_read=rows_read,
        bad_rows=bad_rows,
    )


def _has_multiline_cell(text: str, delimiter: str) -> bool:
    """Whether a quoted cell of the sample spans lines (pyarrow then needs the slower mode)."""
    if '"' not in text:
        return False
    lines = text.splitlines(keepends=True)[:-1]
    records = csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)
    return any("\n" in cell or "\r" in cell for record in records for cell in record)


def _read_csv_python(
    p: Path, gzipped: bool, encoding: str, delimiter: str, headers: list[str], skip: int
) -> tuple[pa.Table, tuple[int, ...]]:
    """The slow, forgiving path: short lines are padded; long lines are reported as bad rows."""
    width = len(headers)
    columns: list[list[str | None]] = [[] for _ in headers]
    bad: list[int] = []
    opener = gzip.open if gzipped else open
    with opener(p, "rt", encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        for _ in range(skip):
            next(reader, None)
        row_number = 0
        for record in reader:
            if not record:
                continue
            row_number += 1
            if len(record) > width and any(v.strip() for v in record[width:]):
                bad.append(row_number)
                record = [""] * width  # kept as an empty placeholder so row numbers stay true
            for i in range(width):
                value = record[i] if i < len(record) else ""
                columns[i].append(value if value != "" else None)
    table = pa.table([pa.array(c, pa.string()) for c in columns], names=headers)
    return table, tuple(bad)


def _finish(table: pa.Table, *, extra_rows: int = 0) -> tuple[pa.Table, int]:
    """Add ``_row`` and drop wholly empty rows (they are not data and are not counted).

    ``extra_rows`` are placeholder rows (bad lines) that count as read though they are dropped.
    """
    n = table.num_rows
    table = table.append_column("_row", pa.array(np.arange(1, n + 1, dtype=np.int64)))
    if n == 0 or table.num_columns == 1:
        return table, n
    # Null bitmaps only: cheap on millions of rows (a cell of spaces makes a row non-empty).
    empty = None
    for name in table.column_names[:-1]:
        blank = pc.is_null(table.column(name))
        empty = blank if empty is None else pc.and_(empty, blank)
        if not pc.any(empty).as_py():
            return table, n + extra_rows
    if empty is not None and pc.any(empty).as_py():
        table = table.filter(pc.invert(empty))
    return table, table.num_rows + extra_rows


# --- workbooks and Parquet ---------------------------------------------------------------------


def _cell(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _read_workbook(
    p: Path, file: str, choose_sheet: Callable[[Sequence[str]], bool] | None
) -> RawTable:
    try:
        book = CalamineWorkbook.from_path(str(p))
    except (CalamineError, OSError, ValueError) as exc:
        raise InputError(
            f"cannot read the file as a workbook: {exc}",
            file=file,
            expected="an XLSX or XLS workbook, a CSV or a Parquet file",
        ) from None
    chosen: tuple[str, list[list[Any]]] | None = None
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=True)
        rows = [r for r in rows] if rows else []
        start = next((i for i, r in enumerate(rows) if any(_cell(v) for v in r)), None)
        if start is None:
            continue
        rows = rows[start:]
        if chosen is None:
            chosen = (name, rows)
        if choose_sheet is None or choose_sheet(_dedupe([_cell(v) or "" for v in rows[0]])):
            chosen = (name, rows)
            break
    if chosen is None:
        raise InputError("the workbook has no data", file=file, expected="a sheet with a header row")
    sheet, rows = chosen
    headers = _dedupe([_cell(v) or "" for v in rows[0]])
    width = len(headers)
    columns = [
        pa.array([_cell(r[i]) if i < len(r) else None for r in rows[1:]], pa.string())
        for i in range(width)
    ]
    table, rows_read = _finish(pa.table(columns, names=headers))
    return RawTable(file=file, table=table, format="xlsx", sheet=sheet, rows_read=rows_read)


def _read_parquet(p: Path, file: str) -> RawTable:
    table = pq.read_table(p)
    headers = _dedupe(table.column_names)
    table = table.rename_columns(headers)
    columns = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = col.cast(pa.string())
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        columns.append(col)
    table, rows_read = _finish(pa.table(columns, names=headers))
    return RawTable(file=file, table=table, format="parquet", rows_read=rows_read)


def _to_string(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column as strings for :func:`read_raw` (integral floats without ``.0``)."""
    if pa.types.is_string(col.type):
        return col
    if pa.types.is_floating(col.type):
        values = col.to_numpy(zero_copy_only=False)
        integral = np.isfinite(values) & (np.mod(values, 1) == 0) & (np.abs(values) < 1e15)
        as_int = pc.cast(pa.array(np.where(integral, values, 0).astype(np.int64)), pa.string())
        return pa.chunked_array(
            [pc.if_else(pa.array(integral), as_int, pc.cast(col.combine_chunks(), pa.string()))]
        )
    try:
        return pc.cast(col, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        return pa.chunked_array([pa.array([None if v is None else str(v) for v in col.to_pylist()],
                                          pa.string())])
