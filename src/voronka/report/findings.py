"""The few findings a report leads with, in plain words and money.

This module only *selects, sorts and words* what the audit computed: every number shown comes from
the :class:`~voronka.audit.AuditResult` as it is (no rate, sum or test is computed here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from voronka.i18n import has, t
from voronka.report.format import (
    NBSP,
    format_date,
    format_days,
    format_deals,
    format_int,
    format_money_short,
    format_number,
    format_percent,
    plural,
    plural_form,
    shown_deals,
)
from voronka.report.names import Labels
from voronka.report.tabulate import shown_file
from voronka.report.words import anomaly_headline, anomaly_params

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.audit.anomalies import Anomaly
    from voronka.audit.key_stage_result import KeyStageScore
    from voronka.audit.leaks import Leak

Severity = Literal["alert", "warning", "info", "good"]

MAX_LEAKS = 3
"""How many leaks the findings name."""

MAX_ANOMALIES = 2
"""How many anomalies the findings name."""

MAX_NAMES = 3
"""How many stage names a list in one finding shows before ``…``."""


@dataclass(frozen=True)
class Finding:
    """One thing to act on, worded for a person.

    Attributes:
        kind: which section it comes from (``leak``, ``forecast``, ``key_stage``, ``anomaly``,
            ``stuck``, ``statuses``, ``entry_criteria``, ``data_quality``).
        severity: ``alert`` (costs money now), ``warning``, ``info`` or ``good`` (a change for the
            better).
        headline: a few words: what and where.
        detail: one or two sentences with the numbers.
        amount: the money at stake when the audit put a figure on it (a leak's lost revenue).
        stage: the stage the finding is about, when one.
    """

    kind: str
    severity: Severity
    headline: str
    detail: str
    amount: float | None = None
    stage: str | None = None


def leak_cost_key(leak: Leak) -> tuple[float, float]:
    """Sort key putting the most costly leak first: lost revenue, then lost deals.

    Leaks without a revenue figure come after those with one (their cost is unknown, not zero).
    """
    revenue = leak.lost_revenue
    return (-(revenue if revenue is not None else float("-inf")), -leak.lost_deals)


def _leak(leak: Leak, labels: Labels, *, advise: bool = True) -> Finding:
    """A leak in words; ``advise`` adds the stage's key task and what to check (once a stage)."""
    lang = labels.lang
    params = {
        "step": labels.step(leak.stage, leak.next_stage),
        "segment": labels.segment(leak.segment),
        "conversion": format_percent(leak.conversion, lang),
        "expected": format_percent(leak.expected, lang),
        "lost": format_deals(leak.lost_deals, lang),
        "deals": plural("deal", shown_deals(leak.lost_deals), lang),
        "money": format_money_short(leak.lost_revenue, lang),
    }
    headline_key = "headline" if leak.segment is None else "headline_segment"
    detail_key = "detail" if leak.expected is not None else "detail_noexpected"
    detail = t(f"report.finding.leak.{detail_key}", lang, **params)
    if leak.lost_revenue is not None:
        detail += " " + t("report.finding.leak.money", lang, **params)
    if leak.capped and leak.peers_expected is not None:
        detail += " " + t("leaks.capped", lang, peers=format_percent(leak.peers_expected, lang))
    if leak.segment is not None and leak.cause in ("lead_quality", "execution"):
        # Whether the gap is the leads the segment was given or the way it works them.
        detail += " " + t(f"leaks.cause.{leak.cause}", lang)
    if advise:
        # The funnel's key task in the report's language beats the audit's (audit's language).
        task = labels.key_tasks.get(leak.stage) or leak.key_task
        if task:
            detail += " " + t("report.finding.leak.task", lang, task=task.rstrip("."))
        if leak.hint and has(leak.hint):
            detail += " " + t(leak.hint, lang)
    return Finding(
        kind="leak",
        severity="alert",
        headline=t(f"report.finding.leak.{headline_key}", lang, **params),
        detail=detail,
        amount=leak.lost_revenue,
        stage=leak.stage,
    )


def _leaks(leaks: list[Leak], labels: Labels) -> list[Finding]:
    """The leaks in words, advice given only at the first leak of each stage."""
    seen: set[str] = set()
    out = []
    for leak in leaks:
        out.append(_leak(leak, labels, advise=leak.stage not in seen))
        seen.add(leak.stage)
    return out


def _forecast(result: AuditResult, labels: Labels) -> Finding | None:
    fc = result.forecast
    if fc is None:
        return None
    lang = labels.lang
    params = {
        "plan": format_number(fc.plan, lang, 0),
        "deals": plural("deal", fc.plan if fc.plan is not None else fc.expected, lang),
        "end": format_date(fc.period_end, lang),
        "expected": format_number(fc.expected, lang, 0),
        "p10": format_number(fc.p10, lang, 0),
        "p90": format_number(fc.p90, lang, 0),
        "won": format_int(fc.won_so_far, lang),
        "p": format_percent(fc.p_plan, lang, 0),
    }
    if fc.p_plan is None or fc.plan is None:
        params["deals"] = plural("deal_won", round(fc.expected), lang)
        return Finding(
            kind="forecast",
            severity="info",
            headline=t("report.finding.forecast.headline_noplan", lang, **params),
            detail=t("report.finding.forecast.detail_noplan", lang, **params),
        )
    severity: Severity = "alert" if fc.p_plan < 0.5 else "warning" if fc.p_plan < 0.8 else "good"
    cal = fc.calibration
    if severity == "good" and (fc.backtest_status != "ok" or cal is None or cal.verdict == "under"):
        # Never "good" while the backtest says the range misses (or cannot say anything).
        severity = "warning"
    detail = t("report.finding.forecast.detail", lang, **params)
    revenue = fc.revenue
    if revenue is not None:
        detail += " " + t(
            "report.finding.forecast.revenue",
            lang,
            expected=format_money_short(revenue.expected, lang),
            p10=format_money_short(revenue.p10, lang),
            p90=format_money_short(revenue.p90, lang),
        )
    detail += forecast_honesty(result, labels) + what_if_words(result, labels)
    return Finding(
        kind="forecast",
        severity=severity,
        headline=t("report.finding.forecast.headline", lang, **params),
        detail=detail,
    )


def what_if_words(result: AuditResult, labels: Labels) -> str:
    """The audit's what-ifs (the costliest leaks closed) in words, each with a leading space."""
    lang = labels.lang
    out = ""
    for w in getattr(result, "what_if", ()):
        if abs(w.expected - w.baseline_expected) < 0.5:
            continue  # the change would not show in this period (deals take longer to win)
        key = "plan.what_if.sentence" if w.p_plan is not None else "plan.what_if.sentence_noplan"
        out += " " + t(
            key,
            lang,
            stage=labels.stage(w.stage),
            rate=format_percent(w.rate, lang, 0),
            current=format_percent(w.current_rate, lang, 0),
            expected=format_number(w.expected, lang, 0),
            baseline=format_number(w.baseline_expected, lang, 0),
            p=format_percent(w.p_plan, lang, 0),
            p_base=format_percent(w.baseline_p_plan, lang, 0),
        )
    return out


def forecast_honesty(result: AuditResult, labels: Labels) -> str:
    """The backtest in words (coverage with its interval, Brier against the naive forecast, the
    widening, or why there is no backtest), each sentence with a leading space; "" without."""
    fc = result.forecast
    if fc is None:
        return ""
    lang = labels.lang
    if fc.backtest_status in ("no_closing_dates", "no_history"):
        return " " + t(f"plan.backtest.{fc.backtest_status}", lang)
    cal = fc.calibration
    if cal is None:
        if not fc.backtest:
            return ""
        return " " + t(
            "forecast.backtest.summary",
            lang,
            inside=format_int(sum(m.inside for m in fc.backtest), lang),
            months=format_int(len(fc.backtest), lang),
        )
    out = " " + t(
        "plan.backtest.coverage",
        lang,
        months=format_int(cal.months, lang),
        inside=format_int(cal.inside, lang),
        coverage=format_percent(cal.coverage, lang, 0),
        low=format_percent(cal.coverage_low, lang, 0),
        high=format_percent(cal.coverage_high, lang, 0),
    )
    if cal.brier is not None and cal.brier_naive is not None:
        out += " " + t(
            "plan.backtest.brier",
            lang,
            brier=format_number(cal.brier, lang, 3),
            naive=format_number(cal.brier_naive, lang, 3),
        )
    if fc.widened_by > 1.0:
        out += " " + t("plan.backtest.widened", lang, factor=format_number(fc.widened_by, lang, 2))
    if cal.verdict == "under":
        out += " " + t("plan.backtest.under", lang)
    return out


def _key_stage(result: AuditResult, labels: Labels) -> Finding | None:
    ks = result.key_stage
    if ks is None:
        return None
    lang = labels.lang
    status = getattr(ks, "status", "clear")
    if ks.method != "funnel_file" and status in ("none", "no_intermediate"):
        key = "no_intermediate" if status == "no_intermediate" else f"none_{ks.reason or 'noise'}"
        return Finding(
            kind="key_stage",
            severity="info",
            headline=t("plan.key_stage.headline_none", lang),
            detail=t(f"plan.key_stage.{key}", lang),
        )
    method = "funnel_file" if ks.method == "funnel_file" else "data"
    score = next((r for r in ks.ranking if r.stage == ks.stage), None)
    if score is None:
        detail = t(f"report.finding.key_stage.detail_{method}", lang)
    else:
        detail = key_stage_evidence(score, labels) or key_stage_why(score, labels)
        if ks.method == "win_jump":
            detail += " " + t("plan.key_stage.too_few", lang, cohorts=format_int(ks.cohorts, lang))
        if ks.runner_up is not None:
            detail += " " + t(
                "plan.key_stage.close", lang, stage=labels.stage(ks.stage),
                other=labels.stage(ks.runner_up),
            )
        if method == "funnel_file":
            detail = t("forecast.key_stage.rule_file", lang) + " " + detail
        detail += " " + t("report.finding.key_stage.aim", lang)
    return Finding(
        kind="key_stage",
        severity="info",
        headline=t("report.finding.key_stage.headline", lang, stage=labels.stage(ks.stage)),
        detail=detail,
        stage=ks.stage,
    )


def key_stage_evidence(score: KeyStageScore, labels: Labels) -> str | None:
    """The key stage in a head of sales' words: wins per deal reaching it, how steady that is
    week to week, how much the conversion into it swings (None without the cohort numbers)."""
    if (
        score.downstream_rate is None
        or score.downstream_low is None
        or score.downstream_high is None
        or score.step_low is None
        or score.step_high is None
    ):
        return None
    lang = labels.lang
    return t(
        "plan.key_stage.evidence",
        lang,
        stage=labels.stage(score.stage),
        rate=format_number(score.downstream_rate, lang, 2),
        days=format_number(score.days_to_win, lang, 0) if score.days_to_win is not None else "—",
        low=format_number(score.downstream_low, lang, 2),
        high=format_number(score.downstream_high, lang, 2),
        up_low=format_percent(score.step_low, lang, 0),
        up_high=format_percent(score.step_high, lang, 0),
    )


def key_stage_why(score: KeyStageScore, labels: Labels) -> str:
    """One line of why a stage decides the sales: the jump in win probability on reaching it."""
    lang = labels.lang
    jump = score.p_won - score.p_won_before
    return t(
        "forecast.key_stage.why",
        lang,
        stage=labels.stage(score.stage),
        p_won=format_percent(score.p_won, lang, 0),
        p_before=format_percent(score.p_won_before, lang, 0),
        jump=f"{format_number(jump * 100, lang, 0)}{NBSP}{t('report.unit.pp', lang)}",
    )


def anomaly_rank_key(anomaly: Anomaly) -> tuple[bool, float, float]:
    """Sort key: a shift in conversion (it moves won deals directly) before one in lead volume;
    then the surest (smallest q-value, to three decimals: the permutation test's resolution);
    then the largest relative change (levels of different units compare only as ratios)."""
    before, after = abs(anomaly.before), abs(anomaly.after)
    ratio = max(before, after) / min(before, after) if min(before, after) > 0 else float("inf")
    volume = anomaly.kind == "volume" or anomaly.next_stage is None
    return (volume, round(anomaly.q_value, 3), -ratio)


def _anomaly(anomaly: Anomaly, labels: Labels) -> Finding:
    return Finding(
        kind="anomaly",
        severity="good" if anomaly.direction == "up" else "warning",
        headline=anomaly_headline(anomaly, labels),
        detail=t("report.finding.anomaly.detail", labels.lang, **anomaly_params(anomaly, labels)),
        stage=anomaly.stage,
    )


def _listed(items: list[str]) -> str:
    """The first :data:`MAX_NAMES` items, comma-separated, with ``…`` when there are more."""
    return ", ".join(items[:MAX_NAMES]) + (", …" if len(items) > MAX_NAMES else "")


def _statuses(result: AuditResult, labels: Labels) -> Finding | None:
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
        detail=t("report.finding.statuses.detail", lang, names=_listed(names)),
        stage=process[0].stage,
    )


def _stuck(result: AuditResult, labels: Labels) -> Finding | None:
    stages = sorted((s for s in result.stuck.stages if s.stuck > 0), key=lambda s: -s.stuck)
    if not stages:
        return None
    lang = labels.lang
    parts = []
    for s in stages[:MAX_NAMES]:
        limit = (
            _limit_words(s.max_days, lang)
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
        detail += " " + t("report.finding.stuck.managers", lang, managers=_listed(shown))
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


def _pileups(result: AuditResult, labels: Labels) -> list[Finding]:
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


def _entry(result: AuditResult, labels: Labels) -> Finding | None:
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


def _quality(result: AuditResult, labels: Labels) -> Finding | None:
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


def select_findings(result: AuditResult, labels: Labels) -> tuple[Finding, ...]:
    """The findings to lead the report with, most important first.

    What costs money comes first: the first :data:`MAX_LEAKS` significant rows of the leaks table
    in its order (the audit ranks them; its first row is the headline), so the first screen says
    where the money leaks and how much. Then whether
    the plan will be met, the key stage with why, significant anomalies, stuck deals (per stage and
    per manager), pile-ups, process-named stages with their renames, entry-criteria violations and
    rejected input rows. Only significant leaks and anomalies are named.
    """
    # In the leaks table's order: its first row is the biggest leak, and the first finding.
    leaks = [lk for lk in result.leaks if lk.significant][:MAX_LEAKS]
    anomalies = sorted((a for a in result.anomalies if a.significant), key=anomaly_rank_key)
    out: list[Finding | None] = []
    quality = _quality(result, labels)
    if quality is not None and quality.severity == "warning":
        out.append(quality)
        quality = None
    out.extend(_leaks(leaks, labels))
    out.append(_forecast(result, labels))
    out.append(_key_stage(result, labels))
    out.extend(_anomaly(a, labels) for a in anomalies[:MAX_ANOMALIES])
    out.append(_stuck(result, labels))
    out.extend(_pileups(result, labels))
    out.append(_statuses(result, labels))
    out.append(_entry(result, labels))
    out.append(quality)
    return tuple(f for f in out if f is not None)


def _limit_words(days: float, lang: str) -> str:
    """A stage's time limit in words: whole days, or minutes for a limit under a day (a web
    session's limit is minutes, not "over 0 days")."""
    if days >= 1:
        return t("report.finding.stuck.limit", lang, days=format_days(days, lang, 0))
    return t("report.finding.stuck.limit_minutes", lang,
             minutes=format_number(max(days * 24 * 60, 1), lang, 0))
