"""A hand-built audit result with every section filled, shared by the report tests.

The numbers are made up but consistent enough to read (reach falls stage by stage, a leak's lost
revenue is largest for the worst step). Two stage names are hostile HTML, to prove every format
shows them as text.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from voronka.audit import AuditResult, Segment
from voronka.audit.anomalies import Anomaly, ConversionSeries
from voronka.audit.entry import EntryCriteria
from voronka.audit.forecast import BacktestMonth, Forecast, RevenueForecast
from voronka.audit.funnel_result import FunnelReport, StageReport
from voronka.audit.key_stage_result import KeyStage, KeyStageScore
from voronka.audit.leaks import Leak
from voronka.audit.lost_reasons import LostReason
from voronka.audit.pileups import Pileup
from voronka.audit.quality_result import DataQuality, QualityIssue
from voronka.audit.reverse import LeadCost, ReverseFunnel, ReverseFunnelRow
from voronka.audit.sources import SourceEconomics
from voronka.audit.statuses import StatusVerdict
from voronka.audit.stuck import StuckDeal, StuckManager, StuckReport, StuckStage

IMG_XSS = "<img src=x onerror=alert(1)>"
SCRIPT_XSS = "<script>alert(1)</script>"

STAGES = (
    # id, name, reached, conversion, ci, median, p90, open, lost_here
    ("new", "Новая заявка", 1200, 0.75, (0.725, 0.773), 0.8, 2.5, 40, 260),
    ("qualified", "Квалификация пройдена", 900, 0.5, (0.467, 0.533), 3.2, 9.0, 60, 380),
    ("meeting", IMG_XSS, 450, 0.6, (0.554, 0.645), 5.5, 14.0, 30, 150),
    ("proposal", SCRIPT_XSS, 270, 0.4444, (0.386, 0.504), 7.0, 21.5, 25, 125),
    ("won", "Оплата получена", 120, None, None, None, None, 0, 0),
)


def _funnel_report() -> FunnelReport:
    stages = tuple(
        StageReport(
            id=sid,
            name=name,
            reached=reached,
            conversion=conv,
            conversion_ci=ci,
            median_days=med,
            p90_days=p90,
            open=open_,
            lost_here=lost,
            left=reached - open_,
        )
        for sid, name, reached, conv, ci, med, p90, open_, lost in STAGES
    )
    return FunnelReport(
        stages=stages,
        deals=1200,
        won=120,
        lost=915,
        open=155,
        name="Тестовая воронка",
        origin="template",
        template="reference",
        won_amount=18_345_678.5,
    )


WEEKS = tuple(date(2023, 11, 6) + timedelta(weeks=i) for i in range(16))


def _series() -> tuple[ConversionSeries, ...]:
    """Weekly qualified → meeting (a drop from 52% to 38% on 2024-02-05, like the anomaly) and a
    flat new → qualified; limits are p̄ ± a made-up margin, one point outside."""
    trials = (60,) * 16
    moved = (31, 32, 30, 33, 31, 30, 32, 31, 30, 31, 32, 31, 23, 22, 24, 23)
    rate = tuple(m / n for m, n in zip(moved, trials, strict=True))
    flat = tuple(45 for _ in trials)
    return (
        ConversionSeries(
            "new",
            "qualified",
            "week",
            WEEKS,
            trials,
            flat,
            (0.75,) * 16,
            (0.63,) * 16,
            (0.85,) * 16,
            0.75,
            (0.6,) * 16,
            (0.9,) * 16,
            (False,) * 16,
        ),
        ConversionSeries(
            "qualified",
            "meeting",
            "week",
            WEEKS,
            trials,
            moved,
            rate,
            tuple(r - 0.12 for r in rate),
            tuple(r + 0.12 for r in rate),
            0.46,
            (0.3,) * 16,
            (0.62,) * 16,
            (False,) * 15 + (True,),
        ),
    )


def make_result(language: str = "ru") -> AuditResult:
    """An :class:`AuditResult` with every section filled."""
    return AuditResult(
        as_of=datetime(2024, 3, 15, 18, 30),
        language=language,
        funnel=_funnel_report(),
        data_quality=DataQuality(
            rows_read={"events.csv": 4210, "deals.csv": 1203},
            rows_used={"events.csv": 4198, "deals.csv": 1200},
            rows_rejected={"events.csv": 12, "deals.csv": 3},
            issues=(
                QualityIssue("bad_date", 9, ("row 15", "row 99"), "events.csv"),
                QualityIssue("unknown_stage", 3, (SCRIPT_XSS,), "events.csv", excluded=True),
                QualityIssue("backward_move", 14, ("D-17",), None, unit="deals"),
            ),
            notes=("exports.limit.snapshot", "not.a.message.key"),
        ),
        leaks=(
            Leak(
                "qualified",
                "meeting",
                None,
                0.5,
                0.6,
                90.0,
                2_160_000.0,
                True,
                n=900,
                moved=450,
                conversion_ci=(0.467, 0.533),
                key_task="Назначить встречу",
                hint="leaks.hint.meeting",
            ),
            Leak(
                "meeting",
                "proposal",
                Segment("manager", IMG_XSS),
                0.31,
                0.6,
                41.2,
                1_234_567.89,
                True,
            ),
            Leak(
                "proposal", "won", Segment("source", "Яндекс.Директ"), 0.3, 0.44, 12.0, None, True
            ),
            Leak("new", "qualified", Segment("source", "Авито"), 0.7, 0.75, 3.0, 45_000.0, False),
        ),
        anomalies=(
            Anomaly(
                "qualified",
                "meeting",
                Segment("source", "Яндекс.Директ"),
                "down",
                date(2024, 2, 5),
                0.52,
                0.38,
                0.004,
                True,
            ),
            Anomaly(
                "new", None, None, "up", date(2024, 1, 8), 62.0, 88.5, 0.01, True, kind="volume"
            ),
            Anomaly("meeting", "proposal", None, "up", date(2023, 12, 4), 0.55, 0.6, 0.3, False),
        ),
        sources=(
            SourceEconomics(
                "Яндекс.Директ", 600, 450_000.0, 750.0, 70, 10_500_000.0, 6428.57, 22.33, 0.1167
            ),
            SourceEconomics(
                "Авито", 400, 120_000.0, 300.0, 40, 5_200_000.0, 3000.0, 42.33, 0.1,
                campaigns=(
                    SourceEconomics(
                        "Авито", 250, 70_000.0, 280.0, 30, 4_000_000.0, 2333.33, 56.14, 0.12,
                        campaign=IMG_XSS,
                    ),
                ),
            ),
            SourceEconomics(IMG_XSS, 200, None, None, 10, 2_645_678.5, None, None, 0.05),
        ),
        lost_reasons=(
            LostReason("new", "Не дозвонились", 120, 0.6, 0.75, 0.55, 0.001, 0.004, True),
            LostReason("new", None, 80, 0.4, 0.25, 0.45, 0.001, 0.004, True),
            LostReason("meeting", SCRIPT_XSS, 30, 1.0, 1.0, 1.0, None, None, False),
        ),
        statuses=(
            StatusVerdict("new", "Новая заявка", "result", "Причастие: результат", None),
            StatusVerdict(
                "qualified", "Квалификация пройдена", "result", "Краткое причастие", None
            ),
            StatusVerdict("meeting", IMG_XSS, "process", "Похоже на процесс", "Встреча назначена"),
            StatusVerdict("proposal", SCRIPT_XSS, "unclear", "Не удалось разобрать", None),
            StatusVerdict("won", "Оплата получена", "result", "Причастие: результат", None),
        ),
        stuck=StuckReport(
            stages=(
                StuckStage("new", 40, 5, 2.0),
                StuckStage("qualified", 60, 23, 7.0),
                StuckStage("meeting", 30, 12, 14.0),
                StuckStage("proposal", 25, 0, None),
            ),
            deals=(
                StuckDeal("D-1001", "qualified", 64.5, "Назначить встречу"),
                StuckDeal(SCRIPT_XSS, "meeting", 40.0, None),
                StuckDeal("D-1003", "new", 12.25, "Связаться с клиентом"),
            ),
            by_manager=(
                StuckManager("Анна", 50, 21),
                StuckManager(None, 5, 1),
                StuckManager(IMG_XSS, 60, 18),
            ),
            total_stuck=40,
        ),
        pileups=(
            Pileup("new", 40, 90.0, 3.1),
            Pileup("qualified", 60, 20.0, 21.0, ratio_to_median=2.6, flagged=True),
            Pileup("meeting", 30, 12.5, 16.8),
            Pileup("proposal", 25, 0.0, None),
        ),
        entry_criteria=(
            EntryCriteria("meeting", 17, {"meeting_at": 17, "meeting_place": 5}),
            EntryCriteria("proposal", 0, {"amount": 0}),
        ),
        key_stage=KeyStage(
            "meeting",
            "data",
            (
                KeyStageScore("meeting", 0.62, p_won=0.44, p_won_before=0.13),
                KeyStageScore("qualified", 0.41),
                KeyStageScore("proposal", 0.2),
            ),
        ),
        forecast=Forecast(
            plan=40,
            period_start=date(2024, 3, 1),
            period_end=date(2024, 3, 31),
            won_so_far=14,
            expected=31.4,
            p10=25.0,
            p90=38.0,
            p_plan=0.23,
            p50=31.0,
            revenue=RevenueForecast(
                plan=None,
                won_so_far=2_100_000.0,
                expected=4_700_000.0,
                p10=3_800_000.0,
                p90=5_600_000.0,
                p_plan=None,
            ),
            backtest=(
                BacktestMonth(
                    date(2024, 1, 1), datetime(2024, 1, 16), 12, 30.2, 24.0, 36.0, 33, True
                ),
                BacktestMonth(
                    date(2024, 2, 1), datetime(2024, 2, 15), 10, 28.0, 22.0, 34.0, 21, False
                ),
            ),
            backtest_coverage=0.5,
        ),
        reverse_funnel=REVERSE,
        reverse_funnel_detail=ReverseFunnel(
            plan=40.0,
            rows=REVERSE,
            leads_needed=400.0,
            lead_costs=(LeadCost("Яндекс.Директ", 0.6, 240.0, 750.0, 180_000.0),),
            total_cost=180_000.0,
            conversions="mature",
        ),
        series=_series(),
    )


REVERSE = (
    ReverseFunnelRow("new", 400.0, 0.75, "mature", 380.0, 20.0),
    ReverseFunnelRow("qualified", 300.0, 0.5, "mature", 310.0, -10.0),
    ReverseFunnelRow("meeting", 150.0, 0.6, "mature", 140.0, 10.0),
    ReverseFunnelRow("proposal", 90.0, 0.44, "mature", 80.0, 10.0),
    ReverseFunnelRow("won", 40.0, None, None, 36.0, 4.0),
)


def make_empty_result() -> AuditResult:
    """The least an audit can produce: a one-stage funnel, no deals, every optional section empty."""
    return AuditResult(
        as_of=datetime(2024, 1, 1),
        funnel=FunnelReport(
            stages=(StageReport("won", "Won", 0, None, None, None, None, 0),),
            deals=0,
            won=0,
            lost=0,
            open=0,
        ),
        data_quality=DataQuality(rows_read={}, rows_used={}, rows_rejected={}),
        language="en",
    )
