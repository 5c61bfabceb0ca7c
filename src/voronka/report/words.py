"""Sentences shared by the text, Markdown and HTML reports (numbers as the audit gave them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from voronka.i18n import has, note_text, t
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


SPARK = "▁▂▃▄▅▆▇█"
"""Eight levels of a sparkline, lowest first."""

SHIFT_MARK = "│"
"""Put in a sparkline before the first period of the new level."""

MAX_SPARK = 40
"""Periods drawn at most (the latest, keeping a few before the shift)."""


def sparkline(
    values: Sequence[float | None], mark_at: int | None = None
) -> tuple[str, float | None, float | None]:
    """``values`` as one character each (``SPARK``, scaled from their minimum to their maximum; a
    blank for a missing value), with ``SHIFT_MARK`` before index ``mark_at``; and that min, max."""
    known = [v for v in values if v is not None and v == v]
    if not known:
        return "", None, None
    low, high = min(known), max(known)
    chars = []
    for i, v in enumerate(values):
        if i == mark_at:
            chars.append(SHIFT_MARK)
        if v is None or v != v:
            chars.append(" ")
        elif high == low:
            chars.append(SPARK[3])
        else:
            chars.append(SPARK[min(7, int((v - low) / (high - low) * 8))])
    return "".join(chars), low, high


def anomaly_series(anomaly: Anomaly, labels: Labels) -> tuple[str, str] | None:
    """The shift's series as ``(sparkline, words)``: the observed level per period (up to
    ``MAX_SPARK`` latest periods) with the shift marked, and in words the periods drawn, the
    lowest and highest level, and how many deals (leads) stand behind the levels before and
    after. None when the audit kept no series for it."""
    periods, observed = list(anomaly.periods), list(anomaly.observed)
    if not periods or len(periods) != len(observed):
        return None
    lang = labels.lang
    at = next((i for i, p in enumerate(periods) if p >= anomaly.since), None)
    start = max(0, len(periods) - MAX_SPARK)
    if at is not None and at - start < 4:
        start = max(0, at - 4)
    end = min(len(periods), start + MAX_SPARK)
    spark, low, high = sparkline(
        observed[start:end], None if at is None or not start <= at < end else at - start
    )
    if not spark or low is None or high is None:
        return None
    volume = is_volume(anomaly)
    if volume:
        unit = t(f"report.per.{'month' if anomaly.period == 'month' else 'week'}", lang)
        low_text = f"{format_number(low, lang, 1)} {unit}"
        high_text = f"{format_number(high, lang, 1)} {unit}"
    else:
        low_text, high_text = format_percent(low, lang), format_percent(high, lang)
    word = "lead" if volume else "deal"
    words = t(
        "report.anomaly.series",
        lang,
        first=format_date(periods[start], lang),
        last=format_date(periods[end - 1], lang),
        low=low_text,
        high=high_text,
        mark=SHIFT_MARK,
        since=format_date(anomaly.since, lang),
        n_before=format_int(anomaly.n_before, lang),
        before_word=plural(word, anomaly.n_before, lang),
        n_after=format_int(anomaly.n_after, lang),
        after_word=plural(word, anomaly.n_after, lang),
    )
    return spark, words


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


def funnel_reconciliation(result: AuditResult, labels: Labels) -> str | None:
    """Why the cards and the stages count differently: deals with no funnel stage, and won
    deals without the won stage (None when they agree)."""
    fr, lang = result.funnel, labels.lang
    if not fr.stages:
        return None
    parts = []
    if fr.not_in_funnel:
        parts.append(t(
            "report.funnel.not_in_funnel", lang, n=format_int(fr.not_in_funnel, lang),
            deals=format_int(fr.deals, lang), lost=format_int(fr.not_in_funnel_lost, lang),
            first=format_int(fr.stages[0].reached, lang),
        ))
    if fr.won_without_won_stage:
        parts.append(t(
            "report.funnel.won_without_won_stage", lang,
            n=format_int(fr.won_without_won_stage, lang), stage=labels.stage(fr.stages[-1].id),
            last=format_int(fr.stages[-1].reached, lang), won=format_int(fr.won, lang),
        ))
    return " ".join(parts) or None


def forecast_absence(result: AuditResult, lang: str) -> str:
    """Why the report has no forecast: the audit's reason (a ``forecast.note.*`` data-quality
    note: too little history, a filter before the period) or, without one, that none was made."""
    for raw in result.data_quality.notes:
        if raw.split(" ", 1)[0].startswith("forecast.note.") and (shown := note_text(raw, lang)):
            return shown
    return t("report.section.forecast.none", lang)
