"""A recognised CRM export → the canonical deals table (``docs/internals.md``), rows checked.

Built from the io building blocks (:func:`~voronka.io.parse_dates`,
:func:`~voronka.io.parse_numbers`, :func:`~voronka.io.normalize_status`,
:func:`~voronka.io.clean_ids`) with the header mapping the export's format gives, so no alias
guess can take a column of another meaning (Bitrix24's ``Closed`` is a yes/no flag, not a date).

A row is rejected with its first fault, fields in this order: ``deal_id`` empty
(``missing_value``), a date that is not a date (``bad_date``), an amount that is not a number
(``bad_number``), a status word not recognised (``bad_status``). ``rows_read ==
table.num_rows + rejects.num_rows`` as for every reader.

The deals table has the canonical columns the export has (``deal_id``, ``created_at``,
``closed_at``, ``amount``, ``status``, ``source``, ``manager``, ``lost_reason``) and every other
header as written (the stage and pipeline columns among them). ``status`` is always there: the
export's status column where it has one (Pipedrive), else read from the stage name (a deal in
``Успешно реализовано`` is won). ``closed_at`` is kept for closed deals only: on an open deal it
is a planned date (HubSpot's ``Close Date``), not an outcome. Pipedrive's ``Won time`` /
``Lost time`` become ``closed_at`` of won / lost deals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from voronka.errors import InputError, Msg
from voronka.funnel import normalize_stage_name
from voronka.io.checks import bad_cell, bad_cell_expected
from voronka.io.dates import parse_dates
from voronka.io.exports.outcomes import stage_outcomes
from voronka.io.exports.profiles import DATE_FIELDS, ExportFormat
from voronka.io.numbers import as_chunked, blank_mask, map_distinct, parse_numbers
from voronka.io.readers import MESSAGES, clean_ids
from voronka.io.result import REJECTS_SCHEMA, RawTable, ReadResult
from voronka.io.status import normalize_status, status_of

_CANONICAL = (
    "deal_id", "created_at", "closed_at", "amount", "status", "source", "manager", "lost_reason",
)


@dataclass(frozen=True)
class ExportDeals:
    """An export read as deals, with what the snapshot needs beside the canonical table.

    Attributes:
        read: the deals as a :class:`ReadResult` (canonical columns, ``_row``, rejects).
        format: the recognised export format (CRM, header mapping).
        stage: the accepted rows' stage names (null where empty).
        pipeline: the accepted rows' pipeline names, when the export has the column.
        stage_changed_at: when each accepted row entered its current stage, when the export says.
        status_column: whether the status came from a status column of the export (Pipedrive),
            not from the stage name.
    """

    read: ReadResult
    format: ExportFormat
    stage: pa.ChunkedArray
    pipeline: pa.ChunkedArray | None
    stage_changed_at: pa.ChunkedArray | None
    status_column: bool


def _np(mask: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(as_chunked(mask), False).to_numpy(zero_copy_only=False), bool)


def convert_export(
    raw: RawTable,
    fmt: ExportFormat,
    *,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
) -> ExportDeals:
    """Read the export ``raw`` (recognised as ``fmt``) into deals; ``column_map`` (``--map``)
    overrides the format's headers (canonical or export field → header).

    Raises:
        InputError: a ``--map`` header is not in the file; (``strict``) a row is bad.
    """
    mapping = dict(fmt.mapping)
    for name, header in (column_map or {}).items():
        if header in raw.headers:
            mapping = {k: v for k, v in mapping.items() if v != header}
            mapping[name] = header
        elif name == "deal_id":
            raise InputError(
                Msg("errors.raised.the_header_given_for_deal_id", header=repr(header)),
                file=raw.file,
                column=header,
                expected=Msg("errors.expected.one_of_the_headers", value=str(raw.headers[:30])),
            )
    table = raw.table
    n = table.num_rows
    first_fault = np.full(n, -1, dtype=np.int16)
    faults: list[tuple[str, str, pa.ChunkedArray]] = []  # (reason, header, cells)

    def fault(bad: np.ndarray, reason: str, header: str) -> None:
        faults.append((reason, header, table.column(header)))
        first_fault[(first_fault == -1) & bad] = len(faults) - 1

    def cells(name: str) -> pa.ChunkedArray:
        return table.column(mapping[name])

    out: dict[str, pa.ChunkedArray] = {}
    out["deal_id"] = clean_ids(cells("deal_id"))
    fault(_np(pc.is_null(out["deal_id"])), "missing_value", mapping["deal_id"])
    dates: dict[str, pa.ChunkedArray] = {}
    for name in DATE_FIELDS:
        if name in mapping:
            parsed = parse_dates(cells(name))
            dates[name] = parsed
            fault(_np(pc.is_null(parsed)) & ~_np(blank_mask(cells(name))), "bad_date",
                  mapping[name])
    if "amount" in mapping:
        parsed = parse_numbers(cells("amount"))
        out["amount"] = parsed
        fault(_np(pc.is_null(parsed)) & ~_np(blank_mask(cells("amount"))), "bad_number",
              mapping["amount"])
    stage = _text(cells("stage"))
    from_stage = _status_from_stage(stage, fmt.crm)
    status_column = "status" in mapping
    if status_column:
        status, recognised = normalize_status(cells("status"))
        fault(~_np(recognised), "bad_status", mapping["status"])
        status = as_chunked(pc.coalesce(status, from_stage))
    else:
        status = from_stage
    status = as_chunked(pc.fill_null(status, "open"))
    out["status"] = status
    out["created_at"] = dates.get("created_at", _nulls(n, pa.timestamp("us")))
    out["closed_at"] = _closed_at(dates, status, n)
    for name in ("source", "manager", "lost_reason"):
        if name in mapping:
            out[name] = _text(cells(name))
    used = {mapping[k] for k in mapping if k in _CANONICAL or k in DATE_FIELDS}
    for header in raw.headers:
        if header not in used:
            out[header if header not in out else f"{header} (file)"] = table.column(header)
    out["_row"] = table.column("_row")
    full = pa.table(out)

    rejected = first_fault >= 0
    rows = table.column("_row").to_numpy()
    if strict and rejected.any():
        pos = int(np.flatnonzero(rejected)[0])
        reason, header, col = faults[int(first_fault[pos])]
        value = col[pos].as_py()
        raise InputError(
            bad_cell(reason, None if value is None else str(value)),
            file=raw.file, row=int(rows[pos]), column=header, expected=bad_cell_expected(reason),
        )
    keep = pa.array(~rejected)
    read = ReadResult(
        file=raw.file,
        table=full.filter(keep) if rejected.any() else full,
        rows_read=raw.rows_read,
        rejects=_rejects(faults, first_fault, rows),
        column_mapping={k: v for k, v in mapping.items() if k in _CANONICAL},
        format=raw.format,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
    )

    def kept(col: pa.ChunkedArray | None) -> pa.ChunkedArray | None:
        if col is None:
            return None
        return as_chunked(col.filter(keep)) if rejected.any() else col

    stage_kept = kept(stage)
    assert stage_kept is not None
    return ExportDeals(
        read=read,
        format=fmt,
        stage=stage_kept,
        pipeline=kept(_text(cells("pipeline"))) if "pipeline" in mapping else None,
        stage_changed_at=kept(dates.get("stage_changed_at")),
        status_column=status_column,
    )


def _status_from_stage(stage: pa.ChunkedArray, crm: str) -> pa.ChunkedArray:
    """``won``/``lost`` where the stage name is the CRM's won or lost stage, else null."""
    won, lost = stage_outcomes(crm)

    def meaning(name: str) -> str | None:
        key = normalize_stage_name(name)
        if key in won:
            return "won"
        if key in lost:
            return "lost"
        found = status_of(name)
        return found if found in ("won", "lost") else None

    return map_distinct(stage, meaning, pa.string())


def _closed_at(
    dates: Mapping[str, pa.ChunkedArray], status: pa.ChunkedArray, n: int
) -> pa.ChunkedArray:
    closed = dates.get("closed_at", _nulls(n, pa.timestamp("us")))
    won = pc.equal(status, "won")
    lost = pc.equal(status, "lost")
    if "won_at" in dates:
        closed = pc.if_else(won, pc.coalesce(dates["won_at"], closed), closed)
    if "lost_at" in dates:
        closed = pc.if_else(lost, pc.coalesce(dates["lost_at"], closed), closed)
    open_ = pc.invert(pc.or_(won, lost))
    return as_chunked(pc.if_else(open_, pa.scalar(None, pa.timestamp("us")), closed))


def _text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    text = col if pa.types.is_string(col.type) else col.cast(pa.string())
    text = pc.utf8_trim_whitespace(text)
    return as_chunked(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text))


def _nulls(n: int, type_: pa.DataType) -> pa.ChunkedArray:
    return pa.chunked_array([pa.nulls(n, type_)])


def _rejects(
    faults: list[tuple[str, str, pa.ChunkedArray]], first: np.ndarray, rows: np.ndarray
) -> pa.Table:
    parts = []
    for i, (reason, header, col) in enumerate(faults):
        where = np.flatnonzero(first == i)
        if not len(where):
            continue
        values = col.take(pa.array(where))
        k = len(where)
        parts.append(pa.table({
            "row": pa.array(rows[where], pa.int64()),
            "column": pa.array([header] * k, pa.string()),
            "reason": pa.array([reason] * k, pa.string()),
            "value": values.cast(pa.string()),
            "message": pa.array([MESSAGES[reason]] * k, pa.string()),
        }, schema=REJECTS_SCHEMA))
    if not parts:
        return REJECTS_SCHEMA.empty_table()
    return pa.concat_tables(parts).sort_by("row")
