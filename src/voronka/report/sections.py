"""The section registry: the one ordered list of the report's sections and their tables.

Every format iterates :data:`SECTIONS` — the terminal, Markdown, HTML, XLSX and the web
dashboard — so a section registered here appears in each of them (the terminal and XLSX keep
their own layout of some sections, e.g. the terminal's compact funnel with bars; a section
without a layout of its own shows its registered tables as they are).
A section's content functions stay where they are (``tabulate.py``); the registry only names
them. Adding a section = one :class:`SectionSpec` line here plus its ``report.section.<key>``
messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voronka.report.tables import Table
from voronka.report.tabulate import (
    anomalies_table,
    backtest_table,
    campaigns_table,
    entry_table,
    files_table,
    forecast_table,
    funnel_table,
    issues_table,
    key_stage_table,
    leaks_table,
    lost_reasons_table,
    pileups_table,
    reverse_table,
    sources_table,
    statuses_table,
    stuck_deals_table,
    stuck_managers_table,
    stuck_stages_table,
)

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.report.names import Labels

TableMaker = Callable[["AuditResult", "Labels"], Table]


def _always(result: AuditResult) -> bool:
    return True


def _has_key_stage(result: AuditResult) -> bool:
    return result.key_stage is not None


def _has_forecast(result: AuditResult) -> bool:
    return result.forecast is not None


@dataclass(frozen=True)
class SectionSpec:
    """One section of the report.

    Attributes:
        id: its anchor and the key of its messages (``report.section.<id>.title`` / ``.intro``).
        tables: the functions that make its tables, in order.
        shown: whether the section has anything to say for a result (e.g. a forecast was made);
            a format may still show a note in place of a section that is not shown.
    """

    id: str
    tables: tuple[TableMaker, ...] = ()
    shown: Callable[[AuditResult], bool] = _always

    def make_tables(self, result: AuditResult, labels: Labels) -> list[Table]:
        """Its tables for ``result`` (empty ones included; formats skip those)."""
        return [make(result, labels) for make in self.tables]


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("funnel", (funnel_table,)),
    SectionSpec("flow"),
    SectionSpec("leaks", (leaks_table,)),
    SectionSpec("anomalies", (anomalies_table,)),
    SectionSpec("sources", (sources_table,)),
    SectionSpec("campaigns", (campaigns_table,)),
    SectionSpec("lost_reasons", (lost_reasons_table,)),
    SectionSpec("statuses", (statuses_table,)),
    SectionSpec("stuck", (stuck_stages_table, stuck_managers_table, stuck_deals_table)),
    SectionSpec("time", (pileups_table,)),
    SectionSpec("entry", (entry_table,)),
    SectionSpec("key_stage", (key_stage_table,), _has_key_stage),
    SectionSpec("forecast", (forecast_table, backtest_table), _has_forecast),
    SectionSpec("reverse", (reverse_table,), _has_forecast),
    SectionSpec("quality", (files_table, issues_table)),
)
"""Every section, in the order the report shows them."""


def section(section_id: str) -> SectionSpec:
    """The registered section ``section_id`` (KeyError when unknown)."""
    for spec in SECTIONS:
        if spec.id == section_id:
            return spec
    raise KeyError(section_id)


def shown_sections(result: AuditResult) -> Sequence[SectionSpec]:
    """The sections that have something to say for ``result``, in order."""
    return [s for s in SECTIONS if s.shown(result)]
