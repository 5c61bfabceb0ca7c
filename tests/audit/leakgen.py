"""Data for the leaks, anomalies, sources and maturity tests: cached demo logs and tiny funnels.

The demo generator (:func:`voronka.demo.generate_demo`) plants effects with a known truth; the
logs are cached per argument set so the test modules share them within a session.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd

from voronka.demo import DemoData, DemoEffects, generate_demo
from voronka.engine import EventLog
from voronka.funnel import Funnel, Stage

_CACHE: dict[tuple[int, int, str], tuple[DemoData, EventLog]] = {}


def demo(n_deals: int, seed: int, effects: DemoEffects) -> tuple[DemoData, EventLog]:
    """A demo data set and its event log (cached by arguments; effects by their repr)."""
    key = (n_deals, seed, repr(effects))
    if key not in _CACHE:
        data = generate_demo(n_deals, seed=seed, effects=effects)
        events = data.events.drop(columns=["entered_at_text"])
        log = EventLog.build(events, data.deals, data.funnel, as_of=data.as_of)
        _CACHE[key] = (data, log)
    return _CACHE[key]


def stable(**changes: object) -> DemoEffects:
    """A stable funnel (no natural differences, no seasonality), no data errors, plus changes."""
    return DemoEffects(stable=True, data_errors=False, **changes)  # type: ignore[arg-type]


def chain_log(
    counts: list[int],
    *,
    stage_ids: list[str],
    amount: float = 1000.0,
    start: datetime = datetime(2024, 1, 1),
    benchmarks: dict[str, float] | None = None,
    extra: dict[str, list[object]] | None = None,
) -> EventLog:
    """A funnel where ``counts[k]`` deals reached stage k (a chain: each deal moves on in order,
    a day per stage, one deal created per hour), read a year later so every deal is mature.

    ``extra`` adds deal columns (one value per deal, ``counts[0]`` long).
    """
    benchmarks = benchmarks or {}
    funnel = Funnel(
        name="test",
        stages=tuple(
            Stage(id=s, name=s, benchmark=benchmarks.get(s), key_task=f"task of {s}")
            for s in stage_ids
        ),
        won_stage=stage_ids[-1],
        language="en",
    )
    rows = []
    for i in range(counts[0]):
        created = start + timedelta(hours=i)
        for k, sid in enumerate(stage_ids):
            if i < counts[k]:
                rows.append((str(i), sid, created + timedelta(days=k)))
    events = pd.DataFrame(rows, columns=["deal_id", "stage", "entered_at"])
    deals = pd.DataFrame({"deal_id": [str(i) for i in range(counts[0])], "amount": amount})
    for name, values in (extra or {}).items():
        deals[name] = values
    as_of = start + timedelta(days=365 + counts[0] / 24)
    return EventLog.build(events, deals, funnel, as_of=as_of)


def weeks_between(a: date, b: date) -> float:
    """Signed distance in weeks from ``b`` to ``a``."""
    return (a - b).days / 7
