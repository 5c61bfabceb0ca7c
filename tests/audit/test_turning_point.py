"""The key stage as the method defines it (issue 13): planted key stages found, the null says
"no clear key stage", a two-stage funnel has no intermediate stage, aliases of the won stage are
never chosen, the real BPI 2012 log gets an intermediate stage; the statistic by hand.

The planted worlds come from ``studies/worlds.py`` (the generator of the simulation study,
``studies/key_stage_study.py``: 20 of 21 planted worlds found, 0 of 10 null worlds with a claim).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "studies"))

from worlds import World, generate, planted_key  # noqa: E402

from voronka.audit.key_stage import build_key_stage  # noqa: E402
from voronka.audit.turning_point import find_turning_point  # noqa: E402
from voronka.engine import EventLog  # noqa: E402
from voronka.funnel import Funnel, Stage  # noqa: E402

TESTS = Path(__file__).resolve().parents[1]


def world_log(world: World) -> tuple[EventLog, Funnel]:
    events, deals = generate(world)
    funnel = world.funnel()
    return EventLog.build(events, deals, funnel, as_of=world.as_of), funnel


@pytest.mark.parametrize(("key", "seed"), [(1, 103), (2, 104), (3, 105)])
def test_a_planted_key_stage_is_found(key: int, seed: int) -> None:
    """Conversion swinging week to week into every stage up to ``key``, steady after it."""
    log, funnel = world_log(planted_key(key, seed=seed, swing=0.8))
    ks = build_key_stage(log, funnel)
    assert ks.stage == funnel.line[key].id
    assert ks.status == "clear" and ks.method == "data"
    chosen = next(r for r in ks.ranking if r.stage == ks.stage)
    assert chosen.downstream_rate is not None and chosen.step_low is not None
    assert ks.cohorts >= 40 and ks.cohort_period == "week"


def test_nothing_swings_so_there_is_no_clear_key_stage() -> None:
    """Null world: steady conversion everywhere; the number of leads decides the wins."""
    log, funnel = world_log(World(months=20, seed=501, drift_sd=(0.0,) * 4, growth=1.2))
    ks = build_key_stage(log, funnel)
    assert ks.status == "none" and ks.reason == "volume" and ks.method == "none"


def test_a_two_stage_funnel_has_no_intermediate_stage() -> None:
    events = pd.DataFrame(
        {
            "deal_id": [str(i) for i in range(40)] + [str(i) for i in range(0, 40, 2)],
            "stage": ["lead"] * 40 + ["won"] * 20,
            "entered_at": [dt.datetime(2025, 1, 1) + dt.timedelta(days=i) for i in range(40)]
            + [dt.datetime(2025, 1, 3) + dt.timedelta(days=i) for i in range(0, 40, 2)],
        }
    )
    funnel = Funnel(name="two", stages=(Stage("lead", "lead"), Stage("won", "won")),
                    won_stage="won")
    ks = build_key_stage(EventLog.build(events, None, funnel), funnel)
    assert ks.status == "no_intermediate" and ks.method == "none"
    assert ks.ranking == ()


def cohort_table(n: np.ndarray) -> pd.DataFrame:
    rows = []
    for c in range(n.shape[0]):
        for k in range(n.shape[1]):
            rows.append((dt.date(2025, 1, 6) + dt.timedelta(weeks=c), k, int(n[c, k]), 0))
    return pd.DataFrame(rows, columns=["cohort", "stage_index", "reached", "won"])


def test_an_alias_of_the_won_stage_is_never_the_key_stage() -> None:
    """Stage 3 is reached by exactly the won deals: it is the won stage under another name."""
    rng = np.random.default_rng(0)
    leads = rng.poisson(200, size=30)
    s1 = rng.binomial(leads, rng.uniform(0.2, 0.7, size=30))  # swings
    s2 = rng.binomial(s1, 0.5)  # steady
    won = rng.binomial(s2, 0.6)
    n = np.column_stack([leads, s1, s2, won, won])
    tp = find_turning_point(cohort_table(n), 4, mature_before=dt.date(2030, 1, 1))
    assert not tp.shares[3].candidate
    assert tp.best == 1 and tp.status == "clear"


def test_dispersion_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three cohorts × (leads, won): leave-one-out rates, Pearson dispersion, its χ² test."""
    n = np.array([[100, 10], [200, 30], [100, 20]])
    w = n[:, 1].astype(float)
    rate = np.array([50 / 300, 30 / 200, 40 / 300])  # the others' wins / leads
    z2 = (w - n[:, 0] * rate) ** 2 / (n[:, 0] * rate * (1 - rate))
    table = cohort_table(np.column_stack([n[:, 0], n[:, 0], n[:, 1]]))
    monkeypatch.setitem(find_turning_point.__globals__, "MIN_COHORTS", 3)
    tp = find_turning_point(table, 2, mature_before=dt.date(2030, 1, 1))
    assert tp.shares[0].undecided == pytest.approx(z2.mean() - 1)
    assert tp.shares[0].steady_p == pytest.approx(stats.chi2.sf(z2.sum(), 2))


@pytest.mark.shared
def test_bpic2012_key_stage_is_an_intermediate_stage(shared_data: Path) -> None:
    import voronka

    path = shared_data / "bpic2012-loan-applications" / "bpic2012_application_stage_history.csv"
    log = voronka.load(path, funnel=TESTS / "data" / "bpic2012.toml")
    funnel = log.require_funnel()
    ks = build_key_stage(log, funnel)
    assert ks.status in ("clear", "close")
    assert ks.stage not in ("approved", funnel.line[0].id)
    assert 0 < funnel.index(ks.stage) < funnel.won_index
