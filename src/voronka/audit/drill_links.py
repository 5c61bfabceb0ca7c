"""The deals behind the numbers of the leaks and sources tables, as drill-down selections.

Each count comes with the selection that lists exactly those deals (:mod:`voronka.engine.drill`:
``sel``, ``stage``, ``col``, ``val``), so a page shows the audit's number and links to its deals
without computing anything:

* a leak row (step k → k+1, optionally one segment): ``reached`` (its ``n``, the deals that reached
  k), ``moved`` (those that reached k+1 so far), ``stopped`` (``n − moved``: the deals that reached k
  and went no further — lost there or still open there);
* a source row: its ``leads`` (every deal of the source) and its ``won`` deals.

A blank segment or source (no value to filter by) has no selection.
"""

from __future__ import annotations

from dataclasses import dataclass

from voronka.audit.leaks import Leak
from voronka.audit.result import AuditResult
from voronka.audit.sources import SourceEconomics


@dataclass(frozen=True)
class DrillCount:
    """A number and the selection of the deals behind it.

    Attributes:
        value: the number shown.
        sel: the selection kind (:data:`voronka.engine.drill.SELECTION_KINDS`).
        stage: the stage id the selection needs (None: none).
        col: a deal column the deals must have …
        val: … with this value (None: no condition).
    """

    value: int
    sel: str
    stage: str | None = None
    col: str | None = None
    val: str | None = None

    def args(self) -> dict[str, str]:
        """The selection as URL parameters of the drill-down."""
        pairs = {"sel": self.sel, "stage": self.stage, "col": self.col, "val": self.val}
        return {k: v for k, v in pairs.items() if v is not None}


@dataclass(frozen=True)
class LeakDrill:
    """A leak row with the deals behind its counts."""

    leak: Leak
    reached: DrillCount
    moved: DrillCount
    stopped: DrillCount


@dataclass(frozen=True)
class SourceDrill:
    """A source row with the deals behind its counts."""

    source: SourceEconomics
    leads: DrillCount
    won: DrillCount


def leak_drills(result: AuditResult) -> tuple[LeakDrill, ...]:
    """Every leak row that can be listed (a blank segment cannot), in the audit's order."""
    out = []
    for lk in result.leaks:
        col = val = None
        if lk.segment is not None:
            if lk.segment.value is None:
                continue
            col, val = lk.segment.by, str(lk.segment.value)
        out.append(LeakDrill(
            leak=lk,
            reached=DrillCount(lk.n, "reached", lk.stage, col, val),
            moved=DrillCount(lk.moved, "reached", lk.next_stage, col, val),
            stopped=DrillCount(lk.n - lk.moved, "stopped", lk.stage, col, val),
        ))
    return tuple(out)


def source_drills(result: AuditResult) -> tuple[SourceDrill, ...]:
    """Every source row with a value (blank sources cannot be filtered by)."""
    return tuple(
        SourceDrill(
            source=s,
            leads=DrillCount(s.leads, "all", None, "source", str(s.source)),
            won=DrillCount(s.won, "won", None, "source", str(s.source)),
        )
        for s in result.sources
        if s.source is not None
    )


def drill_context(result: AuditResult) -> dict[str, tuple[LeakDrill, ...] | tuple[SourceDrill, ...]]:
    """The leak and source rows with their selections, for a page's template."""
    return {"leak_drills": leak_drills(result), "source_drills": source_drills(result)}
