"""One error hierarchy for voronka; the CLI turns these into exit codes in one place.

``InputError`` (and its subclasses) mean the user's input or usage is wrong: exit status 2 with a
one-paragraph message naming the file, row and column and what was expected. Any other exception
is an internal error (exit status 1).
"""

from __future__ import annotations

from dataclasses import dataclass


class VoronkaError(Exception):
    """Base class of every error voronka raises on purpose."""


@dataclass
class InputError(VoronkaError):
    """An input that cannot be used: a missing column, an unreadable file, a bad value in strict mode.

    Attributes:
        message: what is wrong, in plain words (English; the CLI may translate the frame around it).
        file: the path of the offending file, when there is one.
        row: 1-based data row number (the header is row 0), when one row is at fault.
        column: the column (as written in the file) at fault, when one is.
        expected: what would have been accepted, e.g. "a date such as 2024-03-31 or 31.03.2024".
        reason: the reject reason of a bad row in strict mode (``bad_date`` …), so that the message
            can be given in the user's language (``voronka.io.describe_error``).
        value: the offending cell, with ``reason``.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    expected: str | None = None
    reason: str | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.describe())

    def describe(self) -> str:
        """The one-paragraph message shown to the user."""
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.expected:
            text += f" (expected {self.expected})"
        return text

    def __str__(self) -> str:
        return self.describe()


class FunnelError(InputError):
    """The funnel file (TOML) is malformed or inconsistent."""


class UsageError(InputError):
    """The command line or API call combines options that cannot work together."""
