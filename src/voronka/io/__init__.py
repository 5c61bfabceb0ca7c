"""Readers: CSV, XLSX and Parquet exports into canonical Arrow tables (see ``docs/internals.md``).

::

    from voronka.io import read_events
    result = read_events("events.csv")          # lenient: bad rows go to result.rejects
    result.table                                # deal_id, stage, entered_at, …, _row
    result.rows_read == result.table.num_rows + result.rejects.num_rows

Row numbers (``_row``, a reject's ``row``, :class:`~voronka.errors.InputError`'s ``row``) count
data rows from 1; a spreadsheet shows data row N as row N + 1 (its row 1 is the header).
"""

from voronka.io.aliases import COLUMN_ALIASES, REQUIRED, match_columns, normalize_header
from voronka.io.dates import parse_dates
from voronka.io.months import parse_months
from voronka.io.numbers import blank_mask, parse_number, parse_numbers
from voronka.io.raw import detect_encoding, read_raw, sniff_delimiter
from voronka.io.readers import clean_ids, read_deals, read_events, read_spend
from voronka.io.result import (
    REJECT_REASONS,
    REJECTS_SCHEMA,
    Progress,
    RawTable,
    ReadResult,
    describe_reject,
)
from voronka.io.status import STATUS_WORDS, normalize_status, status_of

__all__ = [
    "COLUMN_ALIASES",
    "REJECTS_SCHEMA",
    "REJECT_REASONS",
    "REQUIRED",
    "STATUS_WORDS",
    "Progress",
    "RawTable",
    "ReadResult",
    "blank_mask",
    "clean_ids",
    "describe_reject",
    "detect_encoding",
    "match_columns",
    "normalize_header",
    "normalize_status",
    "parse_dates",
    "parse_months",
    "parse_number",
    "parse_numbers",
    "read_deals",
    "read_events",
    "read_raw",
    "read_spend",
    "sniff_delimiter",
    "status_of",
]
