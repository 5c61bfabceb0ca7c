"""The lost-reasons section on demo data: shares per stage, and a planted change found."""

from __future__ import annotations

import numpy as np
import pandas as pd
from leakgen import demo, stable

from voronka.audit.lost_reasons import build_lost_reasons
from voronka.engine import EventLog


def test_shares_per_stage_add_up_and_match_pandas() -> None:
    data, log = demo(6000, 3, stable())
    rows = build_lost_reasons(log)
    assert rows
    by_stage: dict[str | None, float] = {}
    for r in rows:
        by_stage[r.stage] = by_stage.get(r.stage, 0.0) + r.share
    assert all(abs(v - 1) < 1e-9 for v in by_stage.values())
    lost = data.deals[data.deals["status"] == "lost"]
    total = sum(r.deals for r in rows)
    assert total == len(lost)
    counts = lost["lost_reason"].fillna("∅").value_counts()
    ours: dict[str, int] = {}
    for r in rows:
        key = r.reason if r.reason is not None else "∅"
        ours[key] = ours.get(key, 0) + r.deals
    assert ours == counts.to_dict()


def test_a_reason_that_grew_recently_is_significant() -> None:
    """Rewrite the reason of lost deals closed in the last three months: 60% "Дорого" at the first
    stage (against about 10% before): a significant change, up; no other reason of that size
    changes on the unaltered data."""
    data, _ = demo(6000, 4, stable())
    deals = data.deals.copy()
    recent = (deals["status"] == "lost") & (deals["closed_at"] >= pd.Timestamp("2026-08-01"))
    rng = np.random.default_rng(0)
    pick = recent & (rng.random(len(deals)) < 0.6)
    deals.loc[pick, "lost_reason"] = "Дорого"
    events = data.events.drop(columns=["entered_at_text"])
    log = EventLog.build(events, deals, data.funnel, as_of=data.as_of)
    rows = build_lost_reasons(log)
    dear = next(r for r in rows if r.stage == "new_request" and r.reason == "Дорого")
    assert dear.significant
    assert dear.share_recent is not None and dear.share_before is not None
    assert dear.share_recent > dear.share_before + 0.3
    plain = EventLog.build(events, data.deals, data.funnel, as_of=data.as_of)
    assert not [r for r in build_lost_reasons(plain) if r.significant]
