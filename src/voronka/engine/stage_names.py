"""The stage names as written in the data: how many event rows and deals each has and where in
the deals' histories it sits — what the funnel is matched or inferred from
(:func:`voronka.funnel.infer_funnel`)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from ibis.backends import BaseBackend

from voronka.engine.backend import to_frame
from voronka.funnel import StageNameStats


def name_counts(con: BaseBackend, events: ir.Table) -> dict[str, int]:
    """Event rows per distinct stage name (null names left out), most rows first."""
    named = events.filter(events.stage.notnull())
    frame = to_frame(con, named.group_by("stage").agg(n=named.count()))
    return {
        str(s): int(n)
        for s, n in sorted(zip(frame["stage"], frame["n"], strict=True), key=lambda x: -x[1])
    }


def name_stats(con: BaseBackend, events: ir.Table) -> list[StageNameStats]:
    """Per distinct stage name: deals, mean relative position, terminal share (duplicates
    merged). Most deals first."""
    ev = events.filter(events.stage.notnull())
    dedup = ev.group_by(["deal_id", "stage", "entered_at"]).agg(_row=ev._row.min())
    order = ibis.window(group_by=dedup.deal_id, order_by=[dedup.entered_at, dedup._row])
    whole = ibis.window(group_by=dedup.deal_id)
    ranked = dedup.mutate(pos=ibis.row_number().over(order), n=dedup.count().over(whole))
    relative = ibis.ifelse(ranked.n > 1, ranked.pos / (ranked.n - 1), 0.0)
    last = ranked.pos == ranked.n - 1
    stats = ranked.group_by("stage").agg(
        deals=ranked.deal_id.nunique(),
        mean_position=relative.mean(),
        terminal_deals=ranked.deal_id.nunique(where=last),
    )
    frame = to_frame(con, stats)
    out = [
        StageNameStats(
        name=str(row.stage),
        deals=int(row.deals),
        mean_position=float(row.mean_position),
        terminal_share=float(row.terminal_deals) / int(row.deals),
        )
        for row in frame.itertuples()
    ]
    return sorted(out, key=lambda s: (-s.deals, s.name))
