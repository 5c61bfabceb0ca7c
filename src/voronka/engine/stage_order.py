"""How far a log's events bear out its funnel's order: of the deals that entered two or more open
stages, how many first entered a later stage before an earlier one (one grouped query)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis

if TYPE_CHECKING:
    from voronka.engine.log import EventLog


@dataclass(frozen=True)
class StageOrderCheck:
    """The evidence for a funnel's order in a log.

    Attributes:
        checked: deals that entered two or more open stages (0: the order cannot be checked, as
            in a snapshot that knows one stage per deal).
        against: those of them that first entered a later stage before an earlier one.
    """

    checked: int
    against: int


def check_stage_order(log: EventLog) -> StageOrderCheck:
    """:class:`StageOrderCheck` of ``log`` (with its funnel) over the open stages of the line."""
    funnel = log.funnel
    assert funnel is not None
    stages = log.deal_stages()
    line = stages.filter((stages.stage_index >= 0) & (stages.stage_index < funnel.won_index))
    # A deal goes against the order when it first entered a later stage before an earlier one
    # (a return to an earlier stage, as a web session that views products again after the cart,
    # does not: its first entries still follow the order).
    earlier = line.first_entered_at.lag().over(
        ibis.window(group_by=line.deal_id, order_by=line.stage_index))
    line = line.mutate(inverted=(earlier > line.first_entered_at).fill_null(False))
    per = line.group_by("deal_id").agg(
        open=line.count(),
        back=line.inverted.cast("int64").sum(),
    )
    counts = log.frame(per.aggregate(checked=(per.open > 1).cast("int64").sum(),
                                     against=(per.back > 0).cast("int64").sum())).iloc[0]
    return StageOrderCheck(checked=int(counts["checked"] or 0), against=int(counts["against"] or 0))
