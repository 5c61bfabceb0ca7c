"""The engine: the event log on an Ibis backend and every computation that touches raw rows.

Only this package imports ``ibis``. This module is the engine's one public interface: the
``EventLog`` and the named aggregates (cubes, small frames, frozen dataclasses) listed in
``__all__`` and documented in docs/internals.md. Code outside the engine imports from here, never
from a submodule (an import-linter contract in pyproject.toml forbids ``voronka.audit`` doing so);
the per-deal tables stay private to the engine.
"""

from voronka.engine.asof import undated_closings
from voronka.engine.cohorts import cohort_cube, stage_cohorts, stage_horizons
from voronka.engine.drill import (
    MAX_PAGE,
    DealFilter,
    DealPage,
    DealSelection,
    apply_filter,
    column_values,
    count_deals,
    deal_page,
    stuck_deal_values,
    won_amount_by,
)
from voronka.engine.filtered import filter_log
from voronka.engine.flow import (
    days_to_win,
    stage_outcomes,
    weekly_reach,
    won_between,
    won_between_many,
)
from voronka.engine.hygiene import (
    MAX_STUCK_LIST,
    entry_violations,
    open_ages,
    stage_throughput,
    stuck_by_column,
    stuck_counts,
    worst_stuck,
)
from voronka.engine.keystage import cohort_reach, days_to_win_quantiles
from voronka.engine.log import MAX_SEGMENT_VALUES, EventLog
from voronka.engine.moments import (
    MomentSpec,
    MomentState,
    MomentStates,
    forecast_moments,
    moment_state,
    moment_states,
)
from voronka.engine.outcomes import lost_reason_counts, step_outcomes, stratified_cohorts
from voronka.engine.quality import MAX_EXAMPLES, QualityCounts, QualityIssueCount
from voronka.engine.shared_pass import prefetch_outcomes_and_months
from voronka.engine.spend import SpendTotals, spend_key, spend_totals
from voronka.engine.summary import LOST_INDEX
from voronka.engine.team import closed_strata, open_cells_by, won_by
from voronka.engine.volumes import deal_counts, last_lead_at, lead_volume
from voronka.io import describe_reject
from voronka.io.result import ReadResult

__all__ = [
    "SpendTotals",
    "spend_key",
    "spend_totals",
    "MAX_PAGE",
    "DealFilter",
    "DealPage",
    "DealSelection",
    "column_values",
    "apply_filter",
    "count_deals",
    "deal_page",
    "stuck_deal_values",
    "won_amount_by",
    "LOST_INDEX",
    "MAX_EXAMPLES",
    "MAX_SEGMENT_VALUES",
    "MAX_STUCK_LIST",
    "EventLog",
    "MomentSpec",
    "MomentState",
    "MomentStates",
    "QualityCounts",
    "QualityIssueCount",
    "ReadResult",
    "describe_reject",
    "cohort_cube",
    "cohort_reach",
    "days_to_win",
    "days_to_win_quantiles",
    "deal_counts",
    "entry_violations",
    "filter_log",
    "forecast_moments",
    "last_lead_at",
    "lead_volume",
    "lost_reason_counts",
    "prefetch_outcomes_and_months",
    "step_outcomes",
    "stratified_cohorts",
    "moment_state",
    "moment_states",
    "open_ages",
    "stage_cohorts",
    "stage_horizons",
    "stage_outcomes",
    "stage_throughput",
    "stuck_by_column",
    "stuck_counts",
    "undated_closings",
    "weekly_reach",
    "won_between",
    "won_between_many",
    "worst_stuck",
    "closed_strata",
    "open_cells_by",
    "won_by",
]
