"""The few findings a report leads with, in plain words and money.

This module only *selects, sorts and words* what the audit computed: every number shown comes from
the :class:`~voronka.audit.AuditResult` as it is (no rate, sum or test is computed here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voronka.i18n import has, t
from voronka.report.finding import Finding, Severity
from voronka.report.format import (
    NBSP,
    format_date,
    format_deals,
    format_int,
    format_money_short,
    format_number,
    format_percent,
    plural,
    shown_deals,
)
from voronka.report.hygiene_findings import (
    entry_finding,
    pileup_findings,
    quality_finding,
    statuses_finding,
    stuck_finding,
)
from voronka.report.names import Labels
from voronka.report.words import anomaly_headline, anomaly_params

if TYPE_CHECKING:
    from voronka.audit import AuditResult
    from voronka.audit.anomalies import Anomaly
    from voronka.audit.key_stage_result import KeyStageScore
    from voronka.audit.leaks import Leak

MAX_LEAKS = 3
"""How many leaks the findings name."""

MAX_ANOMALIES = 2
"""How many anomalies the findings name."""


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
            detail=t("report.finding.forecast.detail_noplan", lang, **params)
            + forecast_honesty(result, labels, brier=False),
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


def forecast_honesty(result: AuditResult, labels: Labels, *, brier: bool = True) -> str:
    """The backtest in words (coverage with its interval, Brier against the naive forecast, the
    widening, or why there is no backtest), each sentence with a leading space; "" without.
    ``brier=False`` leaves out the Brier score (a forecast without a plan has no plan
    probability for the reader to weigh; its backtest scored a stand-in plan)."""
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
    if brier and cal.brier is not None and cal.brier_naive is not None:
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
    quality = quality_finding(result, labels)
    if quality is not None and quality.severity == "warning":
        out.append(quality)
        quality = None
    out.extend(_leaks(leaks, labels))
    out.append(_forecast(result, labels))
    out.append(_key_stage(result, labels))
    out.extend(_anomaly(a, labels) for a in anomalies[:MAX_ANOMALIES])
    out.append(stuck_finding(result, labels))
    out.extend(pileup_findings(result, labels))
    out.append(statuses_finding(result, labels))
    out.append(entry_finding(result, labels))
    out.append(quality)
    return tuple(f for f in out if f is not None)
