"""The first screen's tone follows the backtest (issue 13): a forecast is never "good" while the
95 % interval of its backtest coverage lies below 80 %, nor when it could not be backtested; the
words say the coverage, its interval, the Brier score, the widening or why there is no backtest."""

from __future__ import annotations

import dataclasses

from voronka.audit import AuditResult
from voronka.audit.calibration import Calibration
from voronka.report.findings import select_findings
from voronka.report.names import build_labels


def with_forecast(result: AuditResult, **changes: object) -> AuditResult:
    assert result.forecast is not None
    return dataclasses.replace(result, forecast=dataclasses.replace(result.forecast, **changes))


def forecast_finding(result: AuditResult):  # type: ignore[no-untyped-def]
    labels = build_labels(result, "en", None)
    return next(f for f in select_findings(result, labels) if f.kind == "forecast")


def test_a_likely_plan_is_good_only_with_a_calibrated_backtest(result: AuditResult) -> None:
    calibrated = Calibration(12, 10, 10 / 12, 0.55, 0.95, 0.08, 0.24, 1.0, "calibrated")
    under = Calibration(12, 6, 0.5, 0.25, 0.75, 0.2, 0.24, 1.6, "under")
    good = with_forecast(result, p_plan=0.92, calibration=calibrated)
    assert forecast_finding(good).severity == "good"
    assert "inside the 80% range in 10 (83%, 95% CI 55%–95%)" in forecast_finding(good).detail
    bad = with_forecast(result, p_plan=0.92, calibration=under, widened_by=1.6)
    finding = forecast_finding(bad)
    assert finding.severity == "warning"
    assert "widened 1.6" in finding.detail and "not calibrated" in finding.detail
    none = with_forecast(result, p_plan=0.92, calibration=None, backtest=(),
                         backtest_status="no_closing_dates")
    finding = forecast_finding(none)
    assert finding.severity == "warning"
    assert "no closing dates" in finding.detail


def test_a_forecast_without_a_plan_still_says_how_its_backtest_went(result: AuditResult) -> None:
    """BPIC 2012's first screen gave "most likely 335 to 373" while the backtest below it had the
    actual inside the range in 1 of 5 months: a forecast without a plan told none of it."""
    under = Calibration(12, 6, 0.5, 0.25, 0.75, 0.2, 0.24, 1.6, "under")
    finding = forecast_finding(with_forecast(result, plan=None, p_plan=None, calibration=under))
    assert finding.severity == "info"
    assert "inside the 80% range in 6 (50%, 95% CI 25%–75%)" in finding.detail
    assert "not calibrated" in finding.detail
    assert finding.detail.index("most likely") < finding.detail.index("not calibrated")
    assert "Brier" not in finding.detail  # no plan: no plan probability to weigh
