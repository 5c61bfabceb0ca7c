"""Input layouts other than an event log: turned into events, with the mapping said.

* **deal rows** (:mod:`~voronka.io.layouts.deal_rows`): one row per deal — each deal's current
  stage (the snapshot shape), possibly with columns dating stages (``engage_date``) or one date
  column per stage (the *wide* layout);
* **milestones** (:mod:`~voronka.io.layouts.milestones`): one table per step of the same deals
  (a leads table and a closed-deals table).

:mod:`voronka.io.inputs` recognises them; the notes (``layouts.*`` messages) tell the user which
layout was read and which column dated which stage.
"""

from voronka.io.layouts.columns import DateColumn, classify, stage_words
from voronka.io.layouts.deal_rows import (
    DealRowsEvents,
    date_columns,
    deal_rows_events,
    deals_of,
    one_row_per_deal,
    rename_stage_column,
)
from voronka.io.layouts.milestones import Milestones, are_milestones, join_milestones

__all__ = [
    "DateColumn",
    "DealRowsEvents",
    "Milestones",
    "are_milestones",
    "classify",
    "date_columns",
    "deal_rows_events",
    "deals_of",
    "join_milestones",
    "one_row_per_deal",
    "rename_stage_column",
    "stage_words",
]
