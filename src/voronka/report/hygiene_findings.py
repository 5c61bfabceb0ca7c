"""The findings of stage hygiene and data quality: stuck deals, pile-ups, process-named stages,
entry-criteria violations and rejected input rows (selected and ordered by
:func:`voronka.report.findings.select_findings`; every number as the audit gave it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voronka.i18n import t
from voronka.report.finding import MAX_NAMES, Finding
from voronka.report.format import (
    format_days,
    format_int,
    format_limit_days,
    format_number,
    plural,
    plural_form,
)
from voronka.report.names import Labels
from voronka.report.tabulate import shown_file

if TYPE_CHECKING:
    from voronka.audit import AuditResult


def listed(items: list[str], lang: str) -> str:
    """The first :data:`MAX_NAMES` items, comma-separated, then how many more there are ("A, B, C
    and 4 more"): a bare "…" before the sentence's full stop read "…." and hid the count."""
    shown = ", ".join(items[:MAX_NAMES])
    rest = len(items) - MAX_NAMES
    if rest <= 0:
        return shown
    return t("report.list.and_more", lang, items=shown, count=format_int(rest, lang))


def statuses_finding(result: AuditResult, labels: Labels) -> Finding | None:
    process = [v for v in result.statuses if v.verdict == "process"]
    if not process:
        return None
    lang = labels.lang
    names = [
        t("report.finding.statuses.rename", lang, name=v.name, suggestion=v.suggestion)
        if v.suggestion
        else t("report.quote", lang, text=v.name)
        for v in process
    ]
    return Finding(
        kind="statuses",
        severity="warning",
        headline=t(
            "report.finding.statuses.headline",
            lang,
            count=len(process),
            stages=plural("stage", len(process), lang),
        ),
        detail=t("report.finding.statuses.detail", lang, names=listed(names, lang)),
        stage=process[0].stage,
    )


def stuck_finding(result: AuditResult, labels: Labels) -> Finding | None:
    stages = sorted((s for s in result.stuck.stages if s.stuck > 0), key=lambda s: -s.stuck)
    if not stages:
        return None
    lang = labels.lang
    parts = []
    for s in stages[:MAX_NAMES]:
        limit = (
            limit_words(s.max_days, lang)
            if s.max_days is not None
            else ""
        )
        parts.append(
            t(
                "report.finding.stuck.part",
                lang,
                count=format_int(s.stuck, lang),
                open=format_int(s.open, lang),
                stage=labels.stage(s.stage),
                limit=limit,
            )
        )
    rest = result.stuck.total_stuck - sum(s.stuck for s in stages[:MAX_NAMES])
    if rest:  # the stages not named still count: the reader sees every stuck deal accounted for
        parts.append(t("report.finding.stuck.other_stages", lang, count=format_int(rest, lang),
                       deals=plural("deal", rest, lang)))
    top = stages[0]
    detail = t("report.finding.stuck.detail", lang, parts="; ".join(parts))
    managers = [m for m in result.stuck.by_manager if m.stuck > 0]
    if managers:
        managers.sort(key=lambda m: -m.stuck)
        shown = [
            t(
                "report.finding.stuck.manager",
                lang,
                manager=m.manager if m.manager is not None else t("report.segment.blank", lang),
                count=format_int(m.stuck, lang),
                open=format_int(m.open, lang),
            )
            for m in managers
        ]
        detail += " " + t("report.finding.stuck.managers", lang, managers=listed(shown, lang))
    return Finding(
        kind="stuck",
        severity="warning",
        headline=t(
            f"report.finding.stuck.headline.{plural_form(top.stuck, lang)}",
            lang,
            count=format_int(top.stuck, lang),
            deals=plural("deal", top.stuck, lang),
            stage=labels.stage(top.stage),
        ),
        detail=detail,
        stage=top.stage,
    )


def pileup_findings(result: AuditResult, labels: Labels) -> list[Finding]:
    """Stages the audit flagged for a queue far above the funnel's typical one."""
    lang = labels.lang
    out = []
    flagged = sorted(
        (p for p in result.pileups if p.flagged),
        key=lambda p: -(p.residence_days if p.residence_days is not None else 0.0),
    )
    for p in flagged[:MAX_NAMES]:
        detail = t(
            "report.finding.pileup.detail" if p.residence_days is not None
            else "report.finding.pileup.still",
            lang,
            open=format_int(p.open, lang),
            deals=plural("deal", p.open, lang),
            throughput=format_number(p.weekly_throughput, lang, 1),
            days=format_days(p.residence_days, lang, 0),
            ratio=format_number(p.ratio_to_median, lang, 1),
        )
        if p.process_name:
            detail += " " + t("report.finding.pileup.process", lang)
        out.append(
            Finding(
                kind="pileup",
                severity="warning",
                headline=t("report.finding.pileup.headline", lang, stage=labels.stage(p.stage)),
                detail=detail,
                stage=p.stage,
            )
        )
    return out


def entry_finding(result: AuditResult, labels: Labels) -> Finding | None:
    worst = sorted(
        (e for e in result.entry_criteria if e.violations > 0), key=lambda e: -e.violations
    )
    if not worst:
        return None
    lang = labels.lang
    top = worst[0]
    fields = ", ".join(name for name, count in top.by_field.items() if count > 0)
    return Finding(
        kind="entry_criteria",
        severity="warning",
        headline=t("report.finding.entry.headline", lang, stage=labels.stage(top.stage)),
        detail=t(
            f"report.finding.entry.detail.{plural_form(top.violations, lang)}",
            lang,
            count=format_int(top.violations, lang),
            deals=plural("deal", top.violations, lang),
            stage=labels.stage(top.stage),
            fields=fields,
        ),
        stage=top.stage,
    )


def quality_finding(result: AuditResult, labels: Labels) -> Finding | None:
    dq = result.data_quality
    rejected = sorted(((f, n) for f, n in dq.rows_rejected.items() if n > 0), key=lambda x: -x[1])
    if not rejected:
        return None
    lang = labels.lang
    file, count = rejected[0]
    read = dq.rows_read.get(file) or 0
    return Finding(
        kind="data_quality",
        # A file that lost most of its rows may make every other number wrong: said first.
        severity="warning" if read and count > read / 2 else "info",
        headline=t("report.finding.quality.headline", lang),
        detail=t(
            f"report.finding.quality.detail.{plural_form(count, lang)}",
            lang,
            count=format_int(count, lang),
            rows=plural("row", count, lang),
            read=format_int(dq.rows_read.get(file), lang),
            file=shown_file(file, lang) or file,
        ),
    )


def limit_words(days: float, lang: str) -> str:
    """A stage's time limit in words: whole days, or minutes for a limit under a day (a web
    session's limit is minutes, not "over 0 days")."""
    if days >= 1:
        return t("report.finding.stuck.limit", lang, days=format_limit_days(days, lang),
                 unit=plural("day", days, lang))
    return t("report.finding.stuck.limit_minutes", lang,
             minutes=format_number(max(days * 24 * 60, 1), lang, 0))
