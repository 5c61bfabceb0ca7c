"""The tables of every section as typed columns and raw values, shared by all report formats.

Each format formats a cell by its column's kind: HTML shows the locale text and sorts by the raw
value, XLSX writes the raw value with a number format, Markdown and the terminal show the text.
Values are taken from the result as they are; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from voronka.i18n import has, t
from voronka.report.format import (
    MISSING,
    format_date,
    format_days,
    format_int,
    format_interval,
    format_money,
    format_number,
    format_percent,
    format_signed_percent,
)
from voronka.report.names import Labels

if TYPE_CHECKING:
    from voronka.audit import AuditResult

Kind = Literal[
    "text",
    "int",
    "number",
    "percent",
    "interval",
    "money",
    "days",
    "date",
    "bool",
    "romi",
    "q",
    "shown",
]


@dataclass(frozen=True)
class Shown:
    """A cell formatted ahead of time (its column mixes units), with the number it sorts by.

    Attributes:
        text: what the reader sees.
        value: the raw number behind it.
        kind: how ``value`` is formatted (spreadsheets write the number with this kind's format).
    """

    text: str
    value: float
    kind: Kind = "number"


@dataclass(frozen=True)
class Column:
    """A table column.

    Attributes:
        key: the message key suffix of its header (``report.col.<key>``).
        kind: how its values are formatted and sorted.
    """

    key: str
    kind: Kind = "text"

    def header(self, lang: str) -> str:
        """The column header in ``lang``."""
        return t(f"report.col.{self.key}", lang)

    @property
    def numeric(self) -> bool:
        """Whether the column holds numbers (right-aligned, sorted numerically)."""
        return self.kind not in ("text", "date", "bool", "interval")

    @property
    def nowrap(self) -> bool:
        """Whether a cell must stay on one line (numbers, dates, intervals)."""
        return self.kind != "text"


@dataclass(frozen=True)
class Table:
    """One section's table.

    Attributes:
        name: the section it belongs to (``funnel``, ``leaks`` …).
        columns: the columns.
        rows: one tuple of raw values per row, in column order.
    """

    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]


def format_cell(value: Any, kind: Kind, lang: str) -> str:
    """``value`` as the text a person reads in a cell of a column of ``kind``."""
    if value is None:
        return MISSING
    if isinstance(value, Shown):
        return value.text
    formatters: dict[str, Callable[[Any], str]] = {
        "int": lambda v: format_int(v, lang),
        "number": lambda v: format_number(v, lang, 1),
        "percent": lambda v: format_percent(v, lang),
        "interval": lambda v: format_interval(v, lang),
        "money": lambda v: format_money(v, lang),
        "days": lambda v: format_days(v, lang),
        "date": lambda v: format_date(v, lang),
        "bool": lambda v: t("report.yes" if v else "report.no", lang),
        "romi": lambda v: format_signed_percent(v, lang),
        "q": lambda v: format_number(v, lang, 3),
    }
    formatter = formatters.get(kind)
    return formatter(value) if formatter else str(value)


def sort_value(value: Any, kind: Kind) -> str:
    """A machine-sortable form of ``value`` (raw number, ISO date) for the HTML table sorter."""
    if value is None:
        return ""
    if isinstance(value, Shown):
        return repr(float(value.value))
    if kind == "interval":
        return repr(float(value[0]))
    if kind == "bool":
        return "1" if value else "0"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(float(value))
    return str(value)


def _table(name: str, columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> Table:
    return Table(name, tuple(columns), tuple(tuple(r) for r in rows))


def funnel_table(result: AuditResult, labels: Labels) -> Table:
    """Stages in funnel order: reach, conversion with interval, time in stage, open and lost."""
    cols = [
        Column("stage"),
        Column("reached", "int"),
        Column("conversion", "percent"),
        Column("conversion_ci", "interval"),
        Column("median_days", "days"),
        Column("p90_days", "days"),
        Column("open", "int"),
        Column("lost_here", "int"),
    ]
    rows = [
        (
            labels.stage(s.id),
            s.reached,
            s.conversion,
            s.conversion_ci,
            s.median_days,
            s.p90_days,
            s.open,
            s.lost_here,
        )
        for s in result.funnel.stages
    ]
    return _table("funnel", cols, rows)


def leaks_table(result: AuditResult, labels: Labels) -> Table:
    """Every leak, in the audit's order (most costly first)."""
    cols = [
        Column("step"),
        Column("segment"),
        Column("conversion", "percent"),
        Column("expected", "percent"),
        Column("lost_deals", "number"),
        Column("lost_revenue", "money"),
        Column("significant", "bool"),
    ]
    rows = [
        (
            labels.step(lk.stage, lk.next_stage),
            labels.segment(lk.segment),
            lk.conversion,
            lk.expected,
            lk.lost_deals,
            lk.lost_revenue,
            lk.significant,
        )
        for lk in result.leaks
    ]
    return _table("leaks", cols, rows)


def anomalies_table(result: AuditResult, labels: Labels) -> Table:
    """Every anomaly; conversion levels as percentages, volume levels as numbers."""
    cols = [
        Column("step"),
        Column("segment"),
        Column("direction"),
        Column("since", "date"),
        Column("before", "shown"),
        Column("after", "shown"),
        Column("q_value", "q"),
        Column("significant", "bool"),
    ]
    rows = []
    for a in result.anomalies:
        kind: Kind = "number" if a.next_stage is None else "percent"
        rows.append(
            (
                labels.step(a.stage, a.next_stage),
                labels.segment(a.segment),
                t(f"report.direction.{'up' if a.direction == 'up' else 'down'}", labels.lang),
                a.since,
                Shown(format_cell(a.before, kind, labels.lang), a.before, kind),
                Shown(format_cell(a.after, kind, labels.lang), a.after, kind),
                a.q_value,
                a.significant,
            )
        )
    return _table("anomalies", cols, rows)


def sources_table(result: AuditResult, labels: Labels) -> Table:
    """Traffic-source economics."""
    cols = [
        Column("source"),
        Column("leads", "int"),
        Column("spend", "money"),
        Column("cpl", "money"),
        Column("won", "int"),
        Column("win_rate", "percent"),
        Column("revenue", "money"),
        Column("cac", "money"),
        Column("romi", "romi"),
    ]
    rows = [
        (s.source, s.leads, s.spend, s.cpl, s.won, s.win_rate, s.revenue, s.cac, s.romi)
        for s in result.sources
    ]
    return _table("sources", cols, rows)


def statuses_table(result: AuditResult, labels: Labels) -> Table:
    """The verdict on each stage name."""
    cols = [Column("name"), Column("verdict"), Column("reason"), Column("suggestion")]
    rows = []
    for v in result.statuses:
        key = f"report.verdict.{v.verdict}"
        verdict = t(key, labels.lang) if has(key) else v.verdict
        rows.append((v.name, verdict, v.reason, v.suggestion))
    return _table("statuses", cols, rows)


def stuck_stages_table(result: AuditResult, labels: Labels) -> Table:
    """Stuck-deal counts per stage."""
    cols = [
        Column("stage"),
        Column("open", "int"),
        Column("stuck", "int"),
        Column("max_days", "days"),
    ]
    rows = [(labels.stage(s.stage), s.open, s.stuck, s.max_days) for s in result.stuck.stages]
    return _table("stuck", cols, rows)


def stuck_deals_table(result: AuditResult, labels: Labels) -> Table:
    """The worst stuck deals with what to do next."""
    cols = [Column("deal_id"), Column("stage"), Column("days", "days"), Column("key_task")]
    rows = [
        (d.deal_id, labels.stage(d.stage), d.days, d.key_task or labels.key_tasks.get(d.stage))
        for d in result.stuck.deals
    ]
    return _table("stuck_deals", cols, rows)


def pileups_table(result: AuditResult, labels: Labels) -> Table:
    """Open deals, throughput and queue length per stage."""
    cols = [
        Column("stage"),
        Column("open", "int"),
        Column("weekly_throughput", "number"),
        Column("residence_days", "days"),
    ]
    rows = [
        (labels.stage(p.stage), p.open, p.weekly_throughput, p.residence_days)
        for p in result.pileups
    ]
    return _table("pileups", cols, rows)


def entry_table(result: AuditResult, labels: Labels) -> Table:
    """Entry-criteria violations per stage."""
    cols = [Column("stage"), Column("violations", "int"), Column("fields")]
    rows = [
        (
            labels.stage(e.stage),
            e.violations,
            ", ".join(f"{name}: {format_int(n, labels.lang)}" for name, n in e.by_field.items()),
        )
        for e in result.entry_criteria
    ]
    return _table("entry_criteria", cols, rows)


def key_stage_table(result: AuditResult, labels: Labels) -> Table:
    """The key-stage ranking."""
    cols = [Column("stage"), Column("score", "q")]
    ranking = result.key_stage.ranking if result.key_stage else ()
    return _table("key_stage", cols, [(labels.stage(r.stage), r.score) for r in ranking])


def forecast_table(result: AuditResult, labels: Labels) -> Table:
    """The forecast's measures as name–value rows."""
    fc = result.forecast
    cols = [Column("metric"), Column("value")]
    if fc is None:
        return _table("forecast", cols, [])
    lang = labels.lang
    rows = [
        (t("report.forecast.plan", lang), format_number(fc.plan, lang, 0)),
        (
            t("report.forecast.period", lang),
            f"{format_date(fc.period_start, lang)} — {format_date(fc.period_end, lang)}",
        ),
        (t("report.forecast.won_so_far", lang), format_int(fc.won_so_far, lang)),
        (t("report.forecast.expected", lang), format_number(fc.expected, lang, 1)),
        (t("report.forecast.p10", lang), format_number(fc.p10, lang, 0)),
        (t("report.forecast.p90", lang), format_number(fc.p90, lang, 0)),
        (t("report.forecast.p_plan", lang), format_percent(fc.p_plan, lang, 0)),
    ]
    return _table("forecast", cols, rows)


def reverse_table(result: AuditResult, labels: Labels) -> Table:
    """Deals each stage needs for the plan."""
    cols = [Column("stage"), Column("needed", "number")]
    rows = [(labels.stage(r.stage), r.needed) for r in result.reverse_funnel or ()]
    return _table("reverse_funnel", cols, rows)


def files_table(result: AuditResult, labels: Labels) -> Table:
    """Rows read, used and rejected per input file."""
    dq = result.data_quality
    cols = [
        Column("file"),
        Column("rows_read", "int"),
        Column("rows_used", "int"),
        Column("rows_rejected", "int"),
    ]
    rows = [(f, n, dq.rows_used.get(f), dq.rows_rejected.get(f)) for f, n in dq.rows_read.items()]
    return _table("files", cols, rows)


def issue_kind(kind: str, lang: str) -> str:
    """A data-quality issue code in words (the code itself when the catalogue lacks it)."""
    key = f"report.quality.kind.{kind}"
    return t(key, lang) if has(key) else kind


def issues_table(result: AuditResult, labels: Labels) -> Table:
    """Data-quality issues by kind."""
    cols = [
        Column("kind"),
        Column("file"),
        Column("count", "int"),
        Column("excluded", "bool"),
        Column("examples"),
    ]
    rows = [
        (
            issue_kind(i.kind, labels.lang),
            i.file,
            i.count,
            i.excluded,
            ", ".join(i.examples),
        )
        for i in result.data_quality.issues
    ]
    return _table("issues", cols, rows)
