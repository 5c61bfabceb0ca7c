"""Choosing and ordering the findings the report leads with (no numbers are computed there)."""

from __future__ import annotations

import dataclasses

from voronka.audit import AuditResult, Segment
from voronka.audit.leaks import Leak
from voronka.funnel import Funnel
from voronka.report.findings import select_findings
from voronka.report.format import NBSP
from voronka.report.names import build_labels


def _kinds(result: AuditResult, lang: str = "ru") -> list[str]:
    return [f.kind for f in select_findings(result, build_labels(result, lang, None))]


def test_findings_ordered_by_money_then_the_plan(result: AuditResult) -> None:
    """What costs money leads, the costliest first (money rounded for reading), then the plan."""
    findings = select_findings(result, build_labels(result, "en", None))
    assert [f.kind for f in findings[:4]] == ["leak", "leak", "leak", "forecast"]
    assert findings[0].amount == 2_160_000.0
    assert f"about 2.2{NBSP}M of revenue" in findings[0].detail
    assert "23%" in findings[3].headline


def test_leak_findings_follow_the_leaks_table_order(result: AuditResult) -> None:
    """The audit ranks the leaks (its first row is the biggest leak); the findings keep that
    order, so the headline always names the table's first row."""
    reordered = dataclasses.replace(result, leaks=tuple(reversed(result.leaks)))
    findings = select_findings(reordered, build_labels(reordered, "en", None))
    amounts = [f.amount for f in findings if f.kind == "leak"]
    expected = [lk.lost_revenue for lk in reordered.leaks if lk.significant]
    assert amounts == expected and amounts != [2_160_000.0, 1_234_567.89, None]


def test_only_significant_leaks_and_anomalies_are_named(result: AuditResult) -> None:
    kinds = _kinds(result)
    assert kinds.count("leak") == 3  # the fourth leak in the fixture is not significant
    assert kinds.count("anomaly") == 2  # the third anomaly is not significant
    insignificant = dataclasses.replace(
        result, leaks=tuple(dataclasses.replace(lk, significant=False) for lk in result.leaks)
    )
    assert "leak" not in _kinds(insignificant)


def test_every_section_with_something_to_act_on_gives_a_finding(result: AuditResult) -> None:
    assert set(_kinds(result)) == {
        "leak",
        "forecast",
        "key_stage",
        "anomaly",
        "stuck",
        "pileup",
        "statuses",
        "entry_criteria",
        "data_quality",
    }


def test_empty_result_gives_no_findings(empty_result: AuditResult) -> None:
    assert _kinds(empty_result) == []


def test_findings_are_worded_in_the_language_asked(result: AuditResult) -> None:
    ru = select_findings(result, build_labels(result, "ru", None))
    en = select_findings(result, build_labels(result, "en", None))
    assert ru[0].headline.startswith("Утечка")
    assert en[0].headline.startswith("Leak")
    assert f"около 2,2{NBSP}млн недополученной" in ru[0].detail


def test_leak_numbers_are_shown_as_the_audit_gave_them(result: AuditResult) -> None:
    leak = Leak("new", "qualified", None, 0.123, 0.456, 7.0, 1000.0, True)
    one = dataclasses.replace(result, leaks=(leak,))
    detail = select_findings(one, build_labels(one, "en", None))[0].detail
    assert "12.3%" in detail and "45.6%" in detail and "7 deals" in detail


def test_funnel_names_and_key_tasks_are_used_when_given(
    result: AuditResult, funnel: Funnel
) -> None:
    findings = select_findings(result, build_labels(result, "en", funnel))
    leak = next(f for f in findings if f.kind == "leak")
    assert "Task qualified" in leak.detail
    assert (
        "EN Новая заявка"
        in next(f for f in findings if f.kind == "anomaly" and "Новая" in f.headline).headline
    )


def test_leak_carries_the_audits_key_task_and_hint(result: AuditResult) -> None:
    findings = select_findings(result, build_labels(result, "en", None))
    detail = findings[0].detail
    assert "Назначить встречу" in detail  # the leak's own key task (no funnel given)
    assert "no-shows" in detail  # leaks.hint.meeting in English


def test_forecast_finding_names_revenue_when_forecast(result: AuditResult) -> None:
    forecast = next(
        f for f in select_findings(result, build_labels(result, "en", None)) if f.kind == "forecast"
    )
    assert f"4.7{NBSP}M expected, 80% range 3.8{NBSP}M–5.6{NBSP}M" in forecast.detail


def test_volume_shift_is_worded_per_period(result: AuditResult) -> None:
    volume = [
        f
        for f in select_findings(result, build_labels(result, "ru", None))
        if f.kind == "anomaly" and f.headline.startswith("Заявок")
    ]
    assert len(volume) == 1
    assert "62,0 в неделю" in volume[0].detail and "88,5 в неделю" in volume[0].detail


def test_advice_is_given_once_per_stage(result: AuditResult) -> None:
    first = result.leaks[0]
    again = dataclasses.replace(first, segment=Segment("manager", "Анна"), lost_revenue=1.0)
    two = dataclasses.replace(result, leaks=(first, again))
    leaks = [f for f in select_findings(two, build_labels(two, "en", None)) if f.kind == "leak"]
    assert len(leaks) == 2
    assert "no-shows" in leaks[0].detail and "no-shows" not in leaks[1].detail
    assert leaks[1].headline.endswith("— Manager: Анна")


def test_leak_without_expected_rate_is_still_worded(result: AuditResult) -> None:
    leak = dataclasses.replace(result.leaks[0], expected=None)
    one = dataclasses.replace(result, leaks=(leak,))
    detail = select_findings(one, build_labels(one, "en", None))[0].detail
    assert detail.startswith("Conversion 50.0%; 90 deals lost.")


def test_segment_leak_says_lead_quality_or_execution() -> None:
    """A manager's shortfall that remains on comparable leads reads as sales execution."""
    from sample_result import make_result

    from voronka.audit import Segment
    from voronka.i18n import t

    result = make_result()
    leak = Leak("new", "qualified", Segment("manager", "A"), 0.3, 0.5, 20.0, 1000.0, True,
                cause="execution", parent="new")
    result = dataclasses.replace(result, leaks=(leak,))
    findings = select_findings(result, build_labels(result, "en", None))
    assert t("leaks.cause.execution", "en") in findings[0].detail


def _stuck_details(result: AuditResult, max_days: float) -> dict[str, str]:
    """The stuck finding's detail in each language when the first stage's limit is
    ``max_days``."""
    stages = result.stuck.stages
    limited = dataclasses.replace(stages[0], max_days=max_days)
    one = dataclasses.replace(result, stuck=dataclasses.replace(
        result.stuck, stages=(limited, *stages[1:])))
    return {lang: next(f.detail for f in select_findings(one, build_labels(one, lang, None))
                       if f.kind == "stuck") for lang in ("en", "ru")}


def test_a_time_limit_under_a_day_is_said_in_minutes(result: AuditResult) -> None:
    """A web session's stage limit (4 minutes) read "over 0 days"."""
    stages = result.stuck.stages
    assert stages and stages[0].stuck > 0 and stages[0].max_days is not None
    details = _stuck_details(result, 4 / (24 * 60))
    assert "(over 4 min)" in details["en"] and "(дольше 4 мин)" in details["ru"]
    whole = next(f.detail for f in select_findings(result, build_labels(result, "en", None))
                 if f.kind == "stuck")
    assert f"(over {round(stages[0].max_days)} days)" in whole


def test_a_queue_nobody_left_says_so_instead_of_dashes(result: AuditResult) -> None:
    """A flagged stage nobody left in 13 weeks has no pace to divide by: the finding says the
    queue does not move rather than "takes — days to clear"."""
    from voronka.audit.pileups import Pileup

    still = Pileup("new", open=194, weekly_throughput=0.0, residence_days=None, flagged=True)
    moving = Pileup("qualified", open=69, weekly_throughput=7.0, residence_days=69.0,
                    ratio_to_median=3.0, flagged=True)
    one = dataclasses.replace(result, pileups=(still, moving))
    details = {f.stage: f.detail for f in select_findings(one, build_labels(one, "en", None))
               if f.kind == "pileup"}
    assert details["new"] == ("194 deals open; not one deal left the stage in the last 13 weeks: "
                              "the queue does not move.")
    assert "69 days to clear, 3.0 times" in details["qualified"]
    ru = {f.stage: f.detail for f in select_findings(one, build_labels(one, "ru", None))
          if f.kind == "pileup"}
    assert ru["new"] == ("В работе 194 сделки; за последние 13 недель этап не покинула ни одна "
                         "сделка — очередь стоит.")


def test_a_fractional_time_limit_is_stated_as_the_tables_state_it(result: AuditResult) -> None:
    """The stuck finding said "over 15 days" where the HTML and web tables showed 14.8."""
    details = _stuck_details(result, 14.8)
    assert "(over 14.8 days)" in details["en"]
    assert "14,8" in details["ru"] and "15 " not in details["ru"].split("14,8")[0][-8:]


def test_a_one_day_limit_is_singular(result: AuditResult) -> None:
    details = _stuck_details(result, 1.0)
    assert "(over 1 day)" in details["en"] and "(дольше 1 дн.)" in details["ru"]


def test_a_long_list_of_managers_says_how_many_more(result: AuditResult) -> None:
    """The stuck finding listed three managers and then "…." (an ellipsis before the full stop),
    which hid how many were left out."""
    from voronka.audit.stuck import StuckManager

    managers = tuple(StuckManager(f"M{i}", open=10 + i, stuck=9 - i) for i in range(5))
    one = dataclasses.replace(result, stuck=dataclasses.replace(result.stuck, by_manager=managers))
    details = {lang: next(f.detail for f in select_findings(one, build_labels(one, lang, None))
                          if f.kind == "stuck") for lang in ("en", "ru")}
    assert details["en"].endswith("By manager: M0 — 9 of 10, M1 — 8 of 11, M2 — 7 of 12 "
                                  "and 2 more.")
    assert details["ru"].endswith("и ещё 2.")
    assert "…" not in details["en"] + details["ru"]
    few = dataclasses.replace(result, stuck=dataclasses.replace(result.stuck,
                                                                by_manager=managers[:3]))
    detail = next(f.detail for f in select_findings(few, build_labels(few, "en", None))
                  if f.kind == "stuck")
    assert detail.endswith("M2 — 7 of 12.") and "more" not in detail


def test_stuck_deals_of_the_stages_not_named_are_counted(result: AuditResult) -> None:
    """The finding names the three stages with most stuck deals; the others' stuck deals were
    left out without a word (the demo named 679 of its 875 stuck deals)."""
    from voronka.audit.stuck import StuckStage

    ids = [row.id for row in result.funnel.stages][:5]
    stages = tuple(StuckStage(stage, open=50, stuck=stuck, max_days=7.0, limit_source="history")
                   for stage, stuck in zip(ids, (30, 20, 10, 2, 1), strict=True))
    assert len(stages) == 5
    one = dataclasses.replace(result, stuck=dataclasses.replace(
        result.stuck, stages=stages, by_manager=(), total_stuck=sum(s.stuck for s in stages)))
    details = {lang: next(f.detail for f in select_findings(one, build_labels(one, lang, None))
                          if f.kind == "stuck") for lang in ("en", "ru")}
    assert "; other stages: 3 more deals." in details["en"]
    assert "; на остальных этапах — ещё 3 сделки." in details["ru"]
    few = dataclasses.replace(one, stuck=dataclasses.replace(one.stuck, stages=stages[:3],
                                                             total_stuck=60))
    detail = next(f.detail for f in select_findings(few, build_labels(few, "en", None))
                  if f.kind == "stuck")
    assert "other stages" not in detail
