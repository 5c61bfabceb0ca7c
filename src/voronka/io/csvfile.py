"""CSV files: delimiter detection (the encoding: :mod:`voronka.io.encodings`), pyarrow's
multithreaded reader with progress, and a forgiving fallback for lines whose number of fields is
wrong."""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from voronka.errors import InputError, Msg
from voronka.io.encodings import detect_encoding, has_utf8_cyrillic, transcode_mixed
from voronka.io.result import Progress, RawTable
from voronka.io.shape import dedupe_headers, finish_table

SAMPLE_BYTES = 1 << 20
"""Bytes read ahead to detect the encoding and the delimiter."""

DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(text: str) -> str:
    """The field separator of a CSV sample: the candidate that splits the header into most fields
    while keeping the same number of fields on the following lines."""
    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut short
    sample = "\n".join(lines[:200])
    best, best_score = ",", (-1.0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        except csv.Error:  # e.g. a 10,000-column header is one field too long for this separator
            continue
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


def _open_stream(
    p: Path, total: int, progress: Progress | None, gzipped: bool, data: bytes | None = None
) -> Any:
    if data is not None:  # a file transcoded in memory (mixed encodings): already plain UTF-8
        return pa.BufferReader(data)
    f: Any = open(p, "rb")  # noqa: SIM115 - closed by pyarrow with the stream
    if progress is not None:
        f = _Counting(f, total, progress)
    if gzipped:
        return pa.CompressedInputStream(pa.PythonFile(f, mode="r"), "gzip")
    return pa.PythonFile(f, mode="r")


@dataclass(frozen=True)
class Sniffed:
    """What the first megabyte of a CSV file tells (:func:`sniff_csv`).

    Attributes:
        encoding: the text encoding detected (``utf-8``, ``utf-8-sig``, ``cp1251``, :data:`MIXED` …).
        delimiter: the field separator.
        headers: the header line's cells, made unique (:func:`~voronka.io.shape.dedupe_headers`).
        header_cells: the header line's cells as written.
        skip: lines before the data (the header and blank lines above it).
        data: the whole file transcoded to UTF-8 in memory (CR-only line ends, mixed or
            Windows-1251 lines), else None (the file is read as it is).
        multiline: a quoted cell of the sample spans lines.
    """

    encoding: str
    delimiter: str
    headers: list[str]
    header_cells: list[str]
    skip: int
    data: bytes | None
    multiline: bool


_SNIFFED: dict[tuple[str, int, bytes], Sniffed] = {}
_SNIFFED_LOCK = threading.Lock()
_SNIFFED_KEPT = 8
"""Files whose sniffing is remembered (a run sniffs its events and deals files up to three times
each: whether columns are left out, the engine's reader, the Python reader's fallback)."""


def sniff_csv(p: Path, file: str, total: int, *, gzipped: bool) -> Sniffed:
    """Encoding, delimiter and header of the CSV file ``p`` from its first megabyte.

    A plain (not compressed) UTF-8 file's result depends only on that megabyte and ``total``: it
    is remembered under the path, ``total`` and a digest of the megabyte (reading and hashing it
    is a millisecond; sniffing it a tenth of a second), so a file rewritten is sniffed again
    whatever its size and modification time.

    Raises:
        InputError: an empty or binary file, or a header line that cannot be read.
    """
    key: tuple[str, int, bytes] | None = None
    if not gzipped:
        try:
            with open(p, "rb") as f:
                digest = hashlib.blake2b(f.read(SAMPLE_BYTES), digest_size=16).digest()
            key = (str(p.resolve()), total, digest)
        except OSError:
            key = None
    with _SNIFFED_LOCK:
        found = _SNIFFED.get(key) if key is not None else None
    if found is not None:
        return found
    sniffed = _sniff_csv(p, file, total, gzipped=gzipped)
    if key is not None and sniffed.data is None and sniffed.encoding in ("utf-8", "utf-8-sig"):
        with _SNIFFED_LOCK:
            if len(_SNIFFED) >= _SNIFFED_KEPT:
                _SNIFFED.pop(next(iter(_SNIFFED)))
            _SNIFFED[key] = sniffed
    return sniffed


def _sniff_csv(p: Path, file: str, total: int, *, gzipped: bool) -> Sniffed:
    with gzip.open(p, "rb") if gzipped else open(p, "rb") as f:
        sample = f.read(SAMPLE_BYTES)
    if not sample.strip():
        raise InputError(
            Msg("errors.msg.empty"),
            file=file,
            expected=Msg("errors.expected.a_table_with_a_header_row"),
        )
    # A stray NUL byte in a cell is a fault of that cell (rejected by the reader); many NULs
    # near the start mean a binary file.
    if sample[:4096].count(b"\x00") > 8 and not sample.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    ):
        raise InputError(
            Msg("errors.raised.the_file_is_not_text_xlsx"),
            file=file,
            expected=Msg("errors.expected.a_csv_or_tab_separated_xlsx"),
        )
    encoding = detect_encoding(sample)
    data: bytes | None = None
    if b"\r" in sample and b"\n" not in sample and len(sample) < total + 1:
        # Old Mac line endings (CR only): read as lines ending in LF.
        opener: Any = gzip.open if gzipped else open
        with opener(p, "rb") as f:
            data = f.read().replace(b"\r", b"\n")
        sample = data[:SAMPLE_BYTES]
        if encoding not in ("utf-8", "utf-8-sig"):
            data = data.decode(encoding, errors="replace").encode("utf-8")
            sample = data[:SAMPLE_BYTES]
    if data is None and encoding == "cp1251" and has_utf8_cyrillic(p, gzipped):
        data, encoding = transcode_mixed(p, gzipped)
        sample = data[:SAMPLE_BYTES]
    text = sample.decode(encoding if data is None else "utf-8", errors="replace")
    delimiter = sniff_delimiter(text)
    try:
        first = next(csv.reader(io.StringIO(text.lstrip("\r\n")), delimiter=delimiter), [])
    except csv.Error as exc:  # e.g. a lone carriage return inside the header line
        raise InputError(
            Msg("errors.raised.the_header_line_cannot_be_read", exc=exc),
            file=file,
            expected=Msg("errors.expected.a_csv_or_tab_separated_xlsx_2"),
        ) from None
    headers = dedupe_headers(first)
    leading_blank = len(text) - len(text.lstrip("\r\n"))
    skip = 1 + text[:leading_blank].count("\n")
    multiline = _has_multiline_cell(text, delimiter)
    return Sniffed(encoding, delimiter, headers, first, skip, data, multiline)


def read_csv(
    p: Path, file: str, total: int, progress: Progress | None, *, gzipped: bool,
    columns: Callable[[Sequence[str]], Sequence[str] | None] | None = None,
) -> RawTable:
    sniffed = sniff_csv(p, file, total, gzipped=gzipped)
    encoding, delimiter, headers = sniffed.encoding, sniffed.delimiter, sniffed.headers
    # Only the columns the reader uses (a very wide file: the rest is never converted).
    keep = list(columns(headers) or ()) if columns is not None else []
    keep = keep if keep and len(keep) < len(headers) else []
    skip, data, multiline = sniffed.skip, sniffed.data, sniffed.multiline
    # Only the columns the reader uses (a very wide file: the rest is never converted).
    keep = list(columns(headers) or ()) if columns is not None else []
    keep = keep if keep and len(keep) < len(headers) else []
    arrow_encoding = "utf8" if encoding in {"utf-8", "utf-8-sig"} or data is not None else encoding

    def attempt(newlines_in_values: bool) -> pa.Table:
        nonlocal arrow_encoding, encoding, data
        try:
            return attempt_once(newlines_in_values)
        except pa.ArrowInvalid as exc:
            # The sample was UTF-8 but a later part of the file is not: a Windows export whose
            # first megabyte happened to be plain ASCII, or an export appended to in Windows-1251.
            if "UTF8" not in str(exc) or arrow_encoding != "utf8" or data is not None:
                raise
            data, encoding = transcode_mixed(p, gzipped)
            return attempt_once(newlines_in_values)

    def attempt_once(newlines_in_values: bool) -> pa.Table:
        stream = _open_stream(p, total, progress, gzipped, data)
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
                    column_types={h: pa.string() for h in (keep or headers)},
                    include_columns=keep,
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
            table, bad_rows = _read_csv_python(
                p, gzipped, encoding, delimiter, headers, skip, data
            )
            if keep:
                table = table.select(keep)
    table, rows_read = finish_table(table, extra_rows=len(bad_rows), drop_empty=not keep)
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
    try:
        return any("\n" in cell or "\r" in cell for record in records for cell in record)
    except csv.Error:  # a binary file or a lone carriage return: the tolerant mode decides
        return True


def _read_csv_python(
    p: Path,
    gzipped: bool,
    encoding: str,
    delimiter: str,
    headers: list[str],
    skip: int,
    data: bytes | None = None,
) -> tuple[pa.Table, tuple[int, ...]]:
    """The slow, forgiving path: short lines are padded; long lines are reported as bad rows."""
    width = len(headers)
    columns: list[list[str | None]] = [[] for _ in headers]
    bad: list[int] = []
    opener: Any = gzip.open if gzipped else open
    text_file = (
        io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")
        if data is not None
        else opener(p, "rt", encoding=encoding, errors="replace", newline="")
    )
    with text_file as f:
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
