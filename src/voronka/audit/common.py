"""Small value objects shared by several sections of the audit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """A slice of the deals: the deals whose column ``by`` equals ``value``.

    Attributes:
        by: the deal column (``source``, ``manager`` …).
        value: the column's value for this slice (``None`` for deals where it is blank).
    """

    by: str
    value: str | None
