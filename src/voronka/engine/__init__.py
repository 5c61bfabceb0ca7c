"""The engine: the event log on an Ibis backend and every computation that touches raw rows.

Only this package imports ``ibis``. Its outputs are aggregates (small pandas frames, frozen
dataclasses); see docs/internals.md.
"""

from voronka.engine.drill import (
    MAX_PAGE,
    DealFilter,
    DealPage,
    DealSelection,
    column_values,
    count_deals,
    deal_page,
    filter_log,
    stuck_deal_values,
    won_amount_by,
)
from voronka.engine.log import MAX_SEGMENT_VALUES, EventLog
from voronka.engine.quality import MAX_EXAMPLES, QualityCounts, QualityIssueCount
from voronka.engine.summary import LOST_INDEX

__all__ = [
    "MAX_PAGE",
    "DealFilter",
    "DealPage",
    "DealSelection",
    "column_values",
    "count_deals",
    "deal_page",
    "filter_log",
    "stuck_deal_values",
    "won_amount_by",
    "LOST_INDEX",
    "MAX_EXAMPLES",
    "MAX_SEGMENT_VALUES",
    "EventLog",
    "QualityCounts",
    "QualityIssueCount",
]
