"""Sentences shared by the text, Markdown and HTML reports (numbers as the audit gave them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from voronka.i18n import has, t
from voronka.report.format import (
    format_date,
    format_int,
    format_money_short,
    format_number,
    format_percent,
    plural,
)
from voronka.report.names import Labels

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.audit.anomalies import Anomaly


def anomaly_params(anomaly: Anomaly, labels: Labels) -> dict[str, str]:
    """The words of a shift: its step, segment, levels (percentages, or leads per period) and
    the first period of the new level."""
    lang = labels.lang
    if is_volume(anomaly):
        unit = t(f"report.per.{'month' if anomaly.period == 'month' else 'week'}", lang)
        before = f"{format_number(anomaly.before, lang, 1)} {unit}"
        after = f"{format_number(anomaly.after, lang, 1)} {unit}"
    else:
        before = format_percent(anomaly.before, lang)
        after = format_percent(anomaly.after, lang)
    return {
        "step": labels.step(anomaly.stage, anomaly.next_stage),
        "segment": labels.segment(anomaly.segment),
        "before": before,
        "after": after,
        "since": format_date(anomaly.since, lang),
    }


def is_volume(anomaly: Anomaly) -> bool:
    """Whether the shift is in lead volume rather than in a stage's conversion."""
    return anomaly.kind == "volume" or anomaly.next_stage is None


def anomaly_headline(anomaly: Anomaly, labels: Labels) -> str:
    """``Конверсия упала: A → B`` / ``More leads: A``."""
    what = "volume" if is_volume(anomaly) else "conversion"
    direction = "up" if anomaly.direction == "up" else "down"
    return t(
        f"report.finding.anomaly.{what}_{direction}",
        labels.lang,
        **anomaly_params(anomaly, labels),
    )


def anomaly_sentence(anomaly: Anomaly, labels: Labels) -> str:
    """A shift in one line of plain words: what moved, where, from what level to what, since when."""
    params = anomaly_params(anomaly, labels)
    params["headline"] = anomaly_headline(anomaly, labels)
    return t("report.anomaly.line", labels.lang, **params)


def reverse_sentence(result: AuditResult, labels: Labels) -> str:
    """The reverse funnel in words: how many leads the plan needs, what they cost, and which
    conversions the numbers rest on."""
    detail = result.reverse_funnel_detail
    if detail is None:
        return ""
    lang = labels.lang
    out = t(
        "report.reverse.leads",
        lang,
        plan=format_number(detail.plan, lang, 0),
        deals=plural("deal", round(detail.plan), lang),
        leads=format_int(detail.leads_needed, lang),
        leads_word=plural("lead", round(detail.leads_needed), lang),
    )
    if detail.total_cost is not None:
        out += " " + t(
            "forecast.reverse.cost", lang, cost=format_money_short(detail.total_cost, lang)
        )
    key = f"forecast.reverse.conversions.{detail.conversions}"
    if has(key):
        out += " " + t(key, lang)
    return out
