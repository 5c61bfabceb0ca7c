"""Reading a file into a table of strings: format, encoding and delimiter are detected.

CSV (``,`` ``;`` tab or ``|``; UTF-8, UTF-8 with BOM, Windows-1251 and other encodings detected with
charset-normalizer on a sample; plain or ``.gz``), XLSX/XLS (python-calamine) and Parquet (pyarrow).
CSV is read by pyarrow's multithreaded reader; a file whose lines do not all have the header's
number of fields is re-read with Python's ``csv`` module, which pads short lines and reports long
ones as ``bad_row``.
"""

from __future__ import annotations

import csv
import os
import zlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from python_calamine import CalamineError, CalamineWorkbook

from voronka.errors import InputError, Msg
from voronka.io.csvfile import DELIMITERS, SAMPLE_BYTES, read_csv, sniff_delimiter
from voronka.io.encodings import detect_encoding
from voronka.io.result import Progress, RawTable
from voronka.io.shape import dedupe_headers, finish_table

__all__ = [
    "DELIMITERS",
    "SAMPLE_BYTES",
    "detect_encoding",
    "load_table",
    "read_raw",
    "sniff_delimiter",
]

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
    columns: Callable[[Sequence[str]], Sequence[str] | None] | None = None,
) -> RawTable:
    """Like :func:`read_raw`, but Parquet columns keep their own types (faster for the readers).

    ``columns(headers)``: the headers to read (None: all); a CSV or Parquet file then reads only
    those, so a file of 10,000 columns costs what its used columns cost. Its rows are all
    counted (see :func:`voronka.io.shape.finish_table`)."""
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError(Msg("errors.msg.not_a_file"), file=file)
    total = p.stat().st_size
    if total == 0:
        raise InputError(
            Msg("errors.msg.empty"),
            file=file,
            expected=Msg("errors.expected.a_table_with_a_header_row"),
        )
    try:
        with open(p, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise InputError(
            Msg(
                "errors.raised.the_file_cannot_be_read",
                value=(exc.strerror or type(exc).__name__).lower(),
            ),
            file=file,
            expected=Msg("errors.expected.a_file_the_user_running_voronka"),
        ) from None
    try:
        if head.startswith(_MAGIC_PARQUET):
            raw = _read_parquet(p, file, columns)
        elif head.startswith((_MAGIC_ZIP, _MAGIC_OLE)):
            raw = _read_workbook(p, file, choose_sheet)
        else:
            raw = read_csv(p, file, total, progress, gzipped=head.startswith(_MAGIC_GZIP),
                           columns=columns)
    except InputError:
        raise
    except (pa.ArrowException, CalamineError, OSError, ValueError, UnicodeError, EOFError,
            csv.Error, zlib.error) as exc:
        raise InputError(
            Msg("errors.raised.cannot_read_the_file_as_a", exc=exc),
            file=file,
            expected=Msg("errors.expected.a_csv_or_tab_separated_xlsx_2"),
        ) from None
    if progress is not None:
        progress(total, total)
    return raw


# --- CSV -------------------------------------------------------------------------------------


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
            Msg("errors.raised.cannot_read_the_file_as_a_2", exc=exc),
            file=file,
            expected=Msg("errors.expected.an_xlsx_or_xls_workbook_a"),
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
        if choose_sheet is None or choose_sheet(dedupe_headers([_cell(v) or "" for v in rows[0]])):
            chosen = (name, rows)
            break
    if chosen is None:
        raise InputError(
            Msg("errors.raised.the_workbook_has_no_data"),
            file=file,
            expected=Msg("errors.expected.a_sheet_with_a_header_row"),
        )
    sheet, rows = chosen
    headers = dedupe_headers([_cell(v) or "" for v in rows[0]])
    width = len(headers)
    columns = [
        pa.array([_cell(r[i]) if i < len(r) else None for r in rows[1:]], pa.string())
        for i in range(width)
    ]
    table, rows_read = finish_table(pa.table(columns, names=headers))
    return RawTable(file=file, table=table, format="xlsx", sheet=sheet, rows_read=rows_read)


def _read_parquet(
    p: Path, file: str, columns: Callable[[Sequence[str]], Sequence[str] | None] | None = None
) -> RawTable:
    names = pq.read_schema(p).names
    headers = dedupe_headers(names)
    keep = list(columns(headers) or ()) if columns is not None else []
    keep = keep if keep and len(keep) < len(headers) else []
    if keep and len(set(names)) == len(names):
        chosen = [headers.index(h) for h in keep]
        table = pq.read_table(p, columns=[names[i] for i in chosen])
        headers = [headers[i] for i in chosen]
    else:
        table = pq.read_table(p)
    table = table.rename_columns(headers)
    arrays = []
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            col = col.cast(pa.string())
            col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
        arrays.append(col)
    table, rows_read = finish_table(pa.table(arrays, names=headers), drop_empty=not keep)
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
        return pa.chunked_array(
            [pa.array([None if v is None else str(v) for v in col.to_pylist()], pa.string())]
        )
