"""The events, deals and spend readers: a file → canonical Arrow columns + rejected rows.

Each reader reads the file (:func:`voronka.io.raw.load_table`), maps headers to canonical columns
(:mod:`voronka.io.aliases`), parses every canonical column at once (no loop over rows), and checks
it. A row with a fault is rejected with the first fault found (columns in canonical order) unless
``strict``, where the first faulty row raises :class:`~voronka.errors.InputError`.

Row numbers (``_row`` and a reject's ``row``) count data rows from 1: the first row after the
header is row 1, which a spreadsheet shows as row 2. Wholly empty rows are not data: they are
neither counted nor rejected, but they keep their numbers so the others match the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.errors import InputError, Msg
from voronka.i18n import t
from voronka.io.aliases import REQUIRED, Kind, match_columns
from voronka.io.checks import Check, finish
from voronka.io.dates import parse_dates
from voronka.io.months import parse_months
from voronka.io.numbers import as_chunked, blank_mask, parse_numbers
from voronka.io.raw import load_table
from voronka.io.result import Progress, RawTable, ReadResult
from voronka.io.status import normalize_status
from voronka.io.time_zones import dominant_offset, shift_minutes, zone_offsets

IMPLAUSIBLE = 1e15
"""Amounts and costs at or above this (a quadrillion) are taken for a broken cell, not money."""

REASONS = ("missing_value", "bad_date", "bad_number", "bad_status", "bad_month", "bad_row",
           "bad_id", "not_finite", "implausible_number")
"""The reasons a reader rejects a row or nulls a field for (``io.reject.<reason>`` in words)."""

MESSAGES: Mapping[str, str] = {reason: t(f"errors.bad_cell.{reason}", "en") for reason in REASONS}
"""The short message stored with each reject, per reason."""

DATE_COLUMNS = ("entered_at", "created_at", "closed_at")
TEXT_COLUMNS = ("stage", "source", "manager", "lost_reason", "campaign")
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"

PathLike = str | os.PathLike[str]


def read_events(
    path: PathLike,
    *,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> ReadResult:
    """Read an events file: one row each time a deal entered a stage.

    Required columns ``deal_id``, ``stage``, ``entered_at`` (found by name or alias, or by
    ``column_map``); deal columns (``source``, ``amount``, ``status`` …) are typed as in
    :func:`read_deals`; other columns are kept as read.

    Raises:
        InputError: the file cannot be used, or (``strict``) a row is bad.
    """
    return _read(path, "events", column_map, strict, progress)


def read_deals(
    path: PathLike,
    *,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> ReadResult:
    """Read a deals file: one row a deal; ``deal_id`` required; ``created_at``, ``closed_at``
    (timestamps), ``amount`` (float), ``status`` (``open``/``won``/``lost``), ``source``,
    ``manager``, ``lost_reason`` when present; other columns kept as read.

    Raises:
        InputError: the file cannot be used, or (``strict``) a row is bad.
    """
    return _read(path, "deals", column_map, strict, progress)


def read_spend(
    path: PathLike,
    *,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> ReadResult:
    """Read an ad-spend file: ``source``, ``cost`` and ``date`` or ``month``; ``campaign``
    optional. The table has ``source``, ``campaign`` (null when absent), ``month`` (date32, first
    of the month), ``date`` (date32, null when only a month was given) and ``cost`` (float64).

    Raises:
        InputError: the file cannot be used, or (``strict``) a row is bad.
    """
    return _read(path, "spend", column_map, strict, progress)


def _read(
    path: PathLike,
    kind: Kind,
    column_map: Mapping[str, str] | None,
    strict: bool,
    progress: Progress | None,
) -> ReadResult:
    file = str(path)

    def fits(headers: Sequence[str]) -> bool:
        try:
            match_columns(headers, kind, column_map=column_map, file=file)
        except InputError:
            return False
        return True

    seen: list[str] = []

    def used(headers: Sequence[str]) -> Sequence[str] | None:
        """The headers the reader uses: canonical ones and the extra columns kept."""
        seen[:] = headers
        try:
            found = match_columns(headers, kind, column_map=column_map, file=file)
        except InputError:
            return None  # read it all: the message below names what is missing
        return [*found.mapping.values(), *kept_extras(found.extras)]

    raw = load_table(path, progress=progress, choose_sheet=fits, columns=used)
    match = match_columns(raw.headers, kind, column_map=column_map, file=file)
    if raw.rows_read == 0:
        raise no_rows(file, kind)
    columns, checks, zones = _convert(raw, kind, match.mapping)
    extras = _extras(raw, match.extras, set(columns))
    table = pa.table({**columns, **extras, "_row": raw.table.column("_row")})
    read = finish(raw, table, checks, match.mapping, strict, MESSAGES)
    total = max(len(seen), len(raw.headers))
    used_headers = (*match.mapping.values(), *kept_extras(match.extras))
    return replace(read, zones=zones, columns_total=total, columns_used=used_headers)


def _convert(
    raw: RawTable, kind: Kind, mapping: Mapping[str, str]
) -> tuple[dict[str, pa.ChunkedArray], list[Check], dict[str, float]]:
    """Canonical columns and their checks, in canonical order (the first fault wins)."""
    table = raw.table
    out: dict[str, pa.ChunkedArray] = {}
    checks: list[Check] = []
    zones: dict[str, float] = {}
    required = set(REQUIRED[kind]) | ({"date", "month"} if kind == "spend" else set())

    def add(name: str, bad_mask: np.ndarray, reason: str, cells: pa.ChunkedArray) -> None:
        checks.append(Check(bad_mask, mapping[name], reason, cells, name, name in required))

    def missing(
        name: str, cells: pa.ChunkedArray, parsed: pa.ChunkedArray | None = None
    ) -> np.ndarray:
        """Blank cells; with ``parsed``, spaces-only cells are looked for only where parsing
        failed (a parsed value cannot be blank), which saves a pass over millions of rows."""
        if parsed is None:
            blank = _np(blank_mask(cells))
        else:
            blank = _np(pc.is_null(cells))
            suspects = np.flatnonzero(_np(pc.is_null(parsed)) & ~blank)
            if len(suspects) and _is_string(cells):
                spaces = _np(blank_mask(cells.take(pa.array(suspects))))
                blank[suspects[spaces]] = True
        if name in REQUIRED[kind]:
            add(name, blank, "missing_value", cells)
        return blank

    def bad(
        name: str, reason: str, cells: pa.ChunkedArray, parsed: pa.ChunkedArray, blank: np.ndarray
    ) -> None:
        add(name, _np(pc.is_null(parsed)) & ~blank, reason, cells)

    for name, header in mapping.items():
        cells = table.column(header)
        if name == "deal_id":
            out[name] = clean_ids(cells)
            blank = _np(pc.is_null(out[name]))  # empty, spaces only, or NaN in a float column
            add(name, blank, "missing_value", cells)
            add(name, _np(pc.match_substring_regex(out[name], CONTROL)) & ~blank, "bad_id", cells)
        elif name in TEXT_COLUMNS:
            blank = missing(name, cells)
            text = cells if _is_string(cells) else cells.cast(pa.string())
            out[name] = _null_where(text, blank) if blank.any() else text
        elif name in DATE_COLUMNS or name == "date":
            parsed = parse_dates(cells)
            blank = missing(name, cells, parsed)
            bad(name, "bad_date", cells, parsed, blank)
            if name in DATE_COLUMNS:
                parsed = _one_zone(name, cells, parsed, zones)
            out[name] = parsed if name != "date" else parsed.cast(pa.date32())
        elif name in ("amount", "cost"):
            parsed = parse_numbers(cells)
            values = parsed.to_numpy(zero_copy_only=False).astype(np.float64)
            if pa.types.is_floating(cells.type):  # NaN is how pandas writes an empty cell
                empty = np.isnan(values) & ~_np(pc.is_null(parsed))
                if empty.any():
                    parsed = _null_where(parsed, empty)
            blank = missing(name, cells, parsed)
            bad(name, "bad_number", cells, parsed, blank)
            with np.errstate(invalid="ignore"):
                given = ~_np(pc.is_null(parsed))
                infinite = given & ~np.isfinite(values)
                huge = given & np.isfinite(values) & (np.abs(values) >= IMPLAUSIBLE)
            add(name, infinite, "not_finite", cells)
            add(name, huge, "implausible_number", cells)
            if infinite.any() or huge.any():
                parsed = _null_where(parsed, infinite | huge)
            out[name] = parsed
        elif name == "status":
            status, recognised = normalize_status(cells)
            blank = missing(name, cells, status)
            add(name, ~_np(recognised) & ~blank, "bad_status", cells)
            out[name] = status
        elif name == "month":
            parsed = parse_months(cells)
            blank = missing(name, cells, parsed)
            bad(name, "bad_month", cells, parsed, blank)
            out[name] = parsed
        else:  # a column renamed with --map to a name voronka does not interpret
            out[name] = cells
    if kind == "spend":
        out, checks = _spend_columns(raw, mapping, out, checks)
    return out, checks, zones


def _one_zone(
    name: str, cells: pa.ChunkedArray, parsed: pa.ChunkedArray, zones: dict[str, float]
) -> pa.ChunkedArray:
    """Timestamps with an offset are already UTC; naive ones in a column that also has offsets
    are taken to be at the column's most common offset and moved to UTC the same way. The
    offset is recorded in ``zones`` (for the run-wide rule of :func:`voronka.io.inputs`)."""
    offsets = zone_offsets(cells)
    zone = dominant_offset(offsets)
    if zone is None:
        return parsed
    zones[name] = zone
    naive = np.isnan(offsets) & ~_np(pc.is_null(parsed))
    return shift_minutes(parsed, zone, naive) if naive.any() else parsed


def _spend_columns(
    raw: RawTable,
    mapping: Mapping[str, str],
    out: dict[str, pa.ChunkedArray],
    checks: list[Check],
) -> tuple[dict[str, pa.ChunkedArray], list[Check]]:
    """Spend: ``month`` from the month column, else from ``date``; a row needs one of them."""
    n = raw.table.num_rows
    date_col = out.get("date")
    month_col = out.get("month")
    from_date = (
        as_chunked(pc.floor_temporal(date_col.cast(pa.timestamp("us")), unit="month")).cast(
            pa.date32()
        )
        if date_col is not None
        else None
    )
    if month_col is None:
        month_col = from_date
    elif from_date is not None:
        month_col = as_chunked(pc.coalesce(month_col, from_date))
    assert month_col is not None  # match_columns guarantees date or month
    header = mapping.get("month") or mapping["date"]
    cells = raw.table.column(header)
    blank = np.ones(n, dtype=bool)
    for name in ("date", "month"):
        if name in mapping:
            blank &= _np(blank_mask(raw.table.column(mapping[name])))
    checks.insert(2, Check(blank, header, "missing_value", cells, "month"))
    null_dates = pa.chunked_array([pa.nulls(n, pa.date32())])
    null_text = pa.chunked_array([pa.nulls(n, pa.string())])
    ordered = {
        "source": out["source"],
        "campaign": out.get("campaign", null_text),
        "month": month_col,
        "date": date_col if date_col is not None else null_dates,
        "cost": out["cost"],
    }
    ordered.update({k: v for k, v in out.items() if k not in ordered})
    return ordered, checks


def clean_ids(values: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """Deal ids as strings: surrounding spaces removed, ``123.0`` → ``123``, and the spaces of
    a number grouped by Excel (``12 345``) removed; empty → null."""
    col = as_chunked(values)
    t = col.type
    if pa.types.is_floating(t):
        # NaN is how pandas writes a missing id into a float column: a missing id, not a deal.
        numbers = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
        with np.errstate(invalid="ignore"):
            absent = np.isnan(numbers)
            integral = np.isfinite(numbers) & (np.mod(numbers, 1) == 0) & (np.abs(numbers) < 2**63)
        if integral[~absent].all():
            whole = np.where(absent, 0, numbers).astype(np.int64)
            return as_chunked(pa.array(whole, pa.int64(), mask=absent).cast(pa.string()))
        col = as_chunked(pc.if_else(pa.array(absent), pa.scalar(None, t), col))
    if not _is_string(col):
        col = col.cast(pa.string())
    # A column of plain ASCII ids (the usual case) is returned as it is, told by a byte scan.
    if all(_plain_ascii(chunk) for chunk in col.chunks):
        return col
    col = pc.utf8_trim_whitespace(col)
    if pc.any(pc.ends_with(col, ".0")).as_py():
        col = pc.replace_substring_regex(col, r"^(\d+)\.0+$", r"\1")
    if pc.any(pc.match_substring_regex(col, r"\d[\s\x{00a0}\x{202f}]\d")).as_py():
        grouped = pc.match_substring_regex(col, r"^\d{1,3}(?:[\s\x{00a0}\x{202f}]\d{3})+$")
        col = pc.if_else(grouped, pc.replace_substring_regex(col, r"[\s\x{00a0}\x{202f}]", ""), col)
    col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
    return as_chunked(col)


def _plain_ascii(chunk: pa.Array) -> bool:
    """Whether every string of ``chunk`` is non-empty, printable ASCII without spaces or dots."""
    if len(chunk) == 0:
        return True
    if chunk.buffers()[2] is None:
        return bool(chunk.null_count == len(chunk))
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    lengths = np.diff(offsets)
    if chunk.null_count:
        lengths = lengths[chunk.is_valid().to_numpy(zero_copy_only=False)]
    printable = bool((data > 0x20).all()) and bool((data < 0x7F).all())
    return bool((lengths > 0).all()) and printable and not bool((data == 0x2E).any())


MAX_EXTRA_COLUMNS = 64
"""Columns a file may carry beyond the canonical ones (kept for ``--by`` and entry criteria); the
rest of a very wide export is left out, so 10,000 custom fields cannot exhaust the engine."""

KEEP_COLUMNS: ContextVar[tuple[str, ...]] = ContextVar("KEEP_COLUMNS", default=())
"""Extra columns to keep whatever the cap (the ``--by`` columns of the running audit)."""


def kept_extras(headers: Sequence[str]) -> list[str]:
    """The extra (not canonical) headers kept, in file order: the ``--by`` ones, then the first
    up to :data:`MAX_EXTRA_COLUMNS`."""
    wanted = set(KEEP_COLUMNS.get())
    kept = [h for h in headers if h in wanted]
    kept += [h for h in headers if h not in wanted][: max(0, MAX_EXTRA_COLUMNS - len(kept))]
    return sorted(kept, key=list(headers).index)


def extra_columns(headers: Sequence[str], taken: set[str]) -> list[tuple[str, str]]:
    """``(name, header)`` of the extra columns kept (:func:`kept_extras`); a header that is also a
    canonical name taken gets `` (file)``."""
    return [(header if header not in taken else f"{header} (file)", header)
            for header in kept_extras(headers)]


def _extras(raw: RawTable, headers: Sequence[str], taken: set[str]) -> dict[str, pa.ChunkedArray]:
    return {name: raw.table.column(header) for name, header in extra_columns(headers, taken)}


def no_rows(file: str, kind: Kind) -> InputError:
    """The error of a file with a header and no data rows."""
    return InputError(Msg("errors.msg.no_rows"), file=file,
                      expected=Msg("errors.expected.rows_of_under_the_header", kind=kind))


def _np(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    arr = as_chunked(mask)
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _is_string(col: pa.ChunkedArray | pa.Array) -> bool:
    return bool(pa.types.is_string(col.type) or pa.types.is_large_string(col.type))


def _null_where(text: pa.ChunkedArray, blank: np.ndarray) -> pa.ChunkedArray:
    return as_chunked(pc.if_else(pa.array(blank), pa.scalar(None, text.type), text))
