"""The ``sources`` section: traffic-source economics."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceEconomics:
    """One traffic source. Cost figures are None (not zero) where there is no spend data.

    Attributes:
        source: the source's name.
        leads: deals created from it.
        spend: ad spend on it.
        cpl: spend / leads.
        won: won deals.
        revenue: sum of won amounts.
        cac: spend / won.
        romi: (revenue − spend) / spend.
        win_rate: won / leads.
    """

    source: str
    leads: int
    spend: float | None
    cpl: float | None
    won: int
    revenue: float | None
    cac: float | None
    romi: float | None
    win_rate: float | None
