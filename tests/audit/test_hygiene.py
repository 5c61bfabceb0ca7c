"""Stage hygiene: pile-ups, stuck deals and entry criteria against a pandas computation on a
synthetic log, hand computations for Little's law and the flag rule, and the demo with process
statuses."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from voronka.audit.entry import build_entry_criteria
from voronka.audit.pileups import (
    FLAG_RATIO,
    build_pileups,
    pileups_from_aggregates,
    residence_days,
)
from voronka.audit.statuses import StatusVerdict, build_statuses
from voronka.audit.stuck import build_stuck, stuck_limits
from voronka.engine import EventLog, hygiene
from voronka.funnel import Funnel, Stage

AS_OF = dt.datetime(2024, 6, 1)
NAMES = ["Новая заявка", "Переговоры", "Счёт выставлен", "Оплачено"]


def _funnel() -> Funnel:
    return Funnel(
        name="t",
        stages=(
            Stage("new", NAMES[0], key_task="Позвонить"),
            Stage("talk", NAMES[1], max_days=10, requires=("meeting_at",), key_task="Договориться"),
            Stage("inv", NAMES[2], requires=("amount", "note", "absent_col"), key_task="Получить"),
            Stage("paid", NAMES[3]),
        ),
        won_stage="paid",
        lost_names=("Отказ",),
    )


@pytest.fixture(scope="module")
def synthetic() -> tuple[pd.DataFrame, pd.DataFrame]:
    """400 deals with random paths (skips included), some lost, blank and null attributes."""
    rng = np.random.default_rng(7)
    rows, deals = [], []
    t0 = dt.datetime(2024, 1, 1)
    for d in range(400):
        t = t0 + dt.timedelta(days=float(rng.uniform(0, 150)))
        path = sorted(rng.choice(4, size=int(rng.integers(1, 4)), replace=False))
        if 0 not in path:
            path = [0, *path]
        for s in path:
            if t >= AS_OF:
                break
            rows.append((f"d{d}", NAMES[s], t))
            t += dt.timedelta(days=float(rng.exponential(9)))
        if rng.random() < 0.2 and t < AS_OF:
            rows.append((f"d{d}", "Отказ", t))
        deals.append(
            (
                f"d{d}",
                rng.choice(["Аня", "Боря", "Вика"]) if rng.random() > 0.1 else None,
                t0 if rng.random() < 0.7 else None,
                100.0 if rng.random() < 0.8 else None,
                rng.choice(["ok", "", "  ", None]),
            )
        )
    events = pd.DataFrame(rows, columns=["deal_id", "stage", "entered_at"])
    frame = pd.DataFrame(deals, columns=["deal_id", "manager", "meeting_at", "amount", "note"])
    return events, frame


@pytest.fixture(scope="module")
def log(synthetic: tuple[pd.DataFrame, pd.DataFrame]) -> EventLog:
    events, deals = synthetic
    return EventLog.build(events, deals, _funnel(), as_of=AS_OF)


def _oracle_open(events: pd.DataFrame) -> pd.DataFrame:
    """Per open deal (pandas): current stage index and days in it."""
    idx = {n: i for i, n in enumerate(NAMES)}
    ev = events.assign(k=events["stage"].map(idx))
    lost = set(ev.loc[ev["k"].isna(), "deal_id"])
    won = set(ev.loc[ev["k"] == 3, "deal_id"])
    line = ev.dropna(subset=["k"]).sort_values(["deal_id", "entered_at"])
    last = line.groupby("deal_id").tail(1)
    last = last[~last["deal_id"].isin(lost | won)]
    days = (AS_OF - last["entered_at"]).dt.total_seconds() / 86400
    return pd.DataFrame({"deal_id": last["deal_id"], "k": last["k"].astype(int), "days": days})


def test_stuck_counts_equal_pandas(log: EventLog, synthetic: tuple) -> None:
    """Stuck = open deals whose days in the current stage exceed the limit; pandas is the oracle."""
    events, deals = synthetic
    limits = {0: 20.0, 1: 10.0, 2: 5.0}
    got = hygiene.stuck_counts(log, limits)
    oracle = _oracle_open(events)
    oracle["limit"] = oracle["k"].map(limits)
    oracle["stuck"] = oracle["days"] > oracle["limit"]
    expected_open = oracle.groupby("k").size().reindex(range(4), fill_value=0)
    expected_stuck = oracle.groupby("k")["stuck"].sum().reindex(range(4), fill_value=0)
    assert got["open"].tolist() == expected_open.tolist()
    assert got["stuck"].tolist() == expected_stuck.astype(int).tolist()
    assert sum(got["stuck"]) > 0

    per_manager = hygiene.stuck_by_column(log, limits, "manager")
    merged = oracle.merge(deals, on="deal_id")
    exp = merged.groupby(merged["manager"].fillna("<none>"))["stuck"].sum().astype(int)
    got_m = {
        ("<none>" if v is None else v): s
        for v, s in zip(per_manager["value"], per_manager["stuck"], strict=True)
    }
    assert got_m == exp.to_dict()


def test_worst_stuck_is_bounded_and_worst_first(log: EventLog, synthetic: tuple) -> None:
    events, deals = synthetic
    limits = {0: 20.0, 1: 10.0, 2: 5.0}
    worst = hygiene.worst_stuck(log, limits, limit=7)
    assert len(worst) == 7
    oracle = _oracle_open(events)
    oracle["ratio"] = oracle["days"] / oracle["k"].map(limits)
    top = oracle[oracle["ratio"] > 1].sort_values("ratio", ascending=False).head(7)
    assert worst["deal_id"].tolist() == top["deal_id"].tolist()
    managers = deals.set_index("deal_id")["manager"]
    assert worst["manager"].tolist() == [managers[d] for d in top["deal_id"]]


def test_entry_criteria_equal_pandas(log: EventLog, synthetic: tuple) -> None:
    """A deal reached stage k if it entered k or a later stage of the line; a required column
    is empty when null or blank text. Absent columns are listed, not counted."""
    events, deals = synthetic
    idx = {n: i for i, n in enumerate(NAMES)}
    furthest = events.assign(k=events["stage"].map(idx)).groupby("deal_id")["k"].max()
    d = deals.set_index("deal_id")

    def empty(col: str) -> pd.Series:
        s = d[col]
        return s.isna() | s.astype(str).str.strip().eq("") if s.dtype == object else s.isna()

    result = {e.stage: e for e in build_entry_criteria(log)}
    at1 = furthest[furthest >= 1].index
    assert result["talk"].reached == len(at1)
    assert result["talk"].by_field == {"meeting_at": int(d.loc[at1, "meeting_at"].isna().sum())}
    assert result["talk"].violations == int(d.loc[at1, "meeting_at"].isna().sum())
    at2 = furthest[furthest >= 2].index
    amount_empty = d.loc[at2, "amount"].isna()
    note_empty = d.loc[at2, "note"].isna() | d.loc[at2, "note"].fillna("").str.strip().eq("")
    assert result["inv"].by_field == {
        "amount": int(amount_empty.sum()),
        "note": int(note_empty.sum()),
    }
    assert result["inv"].violations == int((amount_empty | note_empty).sum())
    assert result["inv"].missing_columns == ("absent_col",)
    assert result["inv"].violations > 0


def test_throughput_and_ages_equal_pandas(log: EventLog, synthetic: tuple) -> None:
    """Leaving = the next event of another stage after the first entry, in the 13 weeks before
    as_of; ages are the open deals' days in stage (quantiles as numpy's linear)."""
    events, _ = synthetic
    idx = {n: i for i, n in enumerate(NAMES)}
    ev = events.assign(k=events["stage"].map(idx).fillna(-1)).sort_values(["deal_id", "entered_at"])
    ev["next_k"] = ev.groupby("deal_id")["k"].shift(-1)
    ev["next_at"] = ev.groupby("deal_id")["entered_at"].shift(-1)
    leaving = ev[(ev["k"] >= 0) & ev["next_at"].notna() & (ev["next_k"] != ev["k"])]
    left_at = leaving.groupby(["deal_id", "k"])["next_at"].min().reset_index()
    start = AS_OF - dt.timedelta(weeks=13)
    window = left_at[(left_at["next_at"] > start) & (left_at["next_at"] <= AS_OF)]
    expected = window.groupby("k").size().reindex(range(4), fill_value=0)
    got = hygiene.stage_throughput(log)
    assert got["left"].tolist() == expected.tolist()
    assert got["weekly_throughput"].tolist() == pytest.approx((expected / 13).tolist())

    ages = hygiene.open_ages(log)
    oracle = _oracle_open(events)
    for k in range(3):
        days = oracle.loc[oracle["k"] == k, "days"].to_numpy()
        row = ages.iloc[k]
        assert row["open"] == len(days)
        assert row["median_days"] == pytest.approx(np.quantile(days, 0.5))
        assert row["p90_days"] == pytest.approx(np.quantile(days, 0.9))
        assert row["age_90_plus"] == int((days >= 90).sum())


def test_residence_is_littles_law() -> None:
    """W = L / λ: 30 open deals, 5 leaving a week → 6 weeks = 42 days."""
    assert residence_days(30, 5.0) == pytest.approx(42.0)
    assert residence_days(0, 0.0) == 0.0
    assert residence_days(3, 0.0) is None


def test_pileup_flag_rule_by_hand() -> None:
    """Residences 7, 14, 70 days (median 14): only the 70-day stage (5× > 2×) is flagged, and it
    is marked as having a process name."""
    funnel = Funnel(
        name="t",
        stages=(Stage("a", "A"), Stage("b", "B"), Stage("c", "C"), Stage("won", "W")),
        won_stage="won",
    )
    throughput = pd.DataFrame(
        {
            "stage_id": ["a", "b", "c", "won"],
            "stage_index": [0, 1, 2, 3],
            "left": [130, 65, 13, 0],
            "weekly_throughput": [10.0, 5.0, 1.0, 0.0],
        }
    )
    ages = pd.DataFrame(
        {
            "stage_id": ["a", "b", "c", "won"],
            "stage_index": [0, 1, 2, 3],
            "open": [10, 10, 10, 0],
            **{
                c: [1.0, 2.0, 3.0, np.nan]
                for c in ["p25_days", "median_days", "p75_days", "p90_days", "max_days"]
            },
            **{c: [0, 0, 0, 0] for c in ["age_0_7", "age_7_30", "age_30_90", "age_90_plus"]},
        }
    )
    statuses = [StatusVerdict("c", "C", "process", "", None)]
    out = pileups_from_aggregates(funnel, throughput, ages, statuses)
    assert [p.residence_days for p in out] == pytest.approx([7.0, 14.0, 70.0, 0.0])
    assert [p.flagged for p in out] == [False, False, True, False]
    assert out[2].ratio_to_median == pytest.approx(5.0) and out[2].ratio_to_median > FLAG_RATIO
    assert out[2].process_name and not out[1].process_name


def test_stuck_limit_sources() -> None:
    funnel = _funnel()
    tis = pd.DataFrame(
        {
            "stage_id": ["new", "talk", "inv", "paid"],
            "n_left": [50, 50, 3, 0],
            "p90_days": [12.5, 99.0, 4.0, np.nan],
        }
    )
    limits = stuck_limits(funnel, tis)
    assert limits["new"] == (12.5, "history")
    assert limits["talk"] == (10.0, "funnel")
    assert limits["inv"] == (None, "none")
    assert limits["paid"] == (None, "none")


def test_build_stuck_reports_sources_managers_and_key_tasks(log: EventLog) -> None:
    report = build_stuck(log, list_limit=5)
    by_stage = {s.stage: s for s in report.stages}
    assert by_stage["talk"].limit_source == "funnel" and by_stage["talk"].max_days == 10.0
    assert by_stage["new"].limit_source == "history"
    assert len(report.deals) == 5
    assert all(d.key_task in ("Позвонить", "Договориться", "Получить") for d in report.deals)
    ratios = [d.overdue_ratio for d in report.deals]
    assert ratios == sorted(ratios, reverse=True)
    assert report.total_stuck == sum(s.stuck for s in report.stages)
    assert sum(m.stuck for m in report.by_manager) == report.total_stuck


def test_demo_process_statuses_pile_up() -> None:
    """The demo with two stages renamed to process names: both judged process, both flagged,
    and they have the longest residences of the funnel."""
    from voronka.demo.generate import generate_demo
    from voronka.demo.profile import DemoEffects

    effects = dataclasses.replace(
        DemoEffects.default(),
        process_stages={"meeting_held": "Думают", "invoice_sent": "На согласовании"},
        data_errors=False,
    )
    demo = generate_demo(4000, seed=3, effects=effects)
    events = demo.events.drop(columns=["entered_at_text"], errors="ignore")
    log = EventLog.build(events, demo.deals, demo.funnel, as_of=demo.as_of)
    statuses = build_statuses(demo.funnel)
    verdicts = {s.stage: s.verdict for s in statuses}
    assert verdicts["meeting_held"] == verdicts["invoice_sent"] == "process"
    assert [s.stage for s in statuses if s.verdict == "process"] == ["meeting_held", "invoice_sent"]
    piles = build_pileups(log, statuses)
    ranked = sorted(piles, key=lambda p: -(p.residence_days or 0.0))
    assert {p.stage for p in ranked[:2]} == {"meeting_held", "invoice_sent"}
    assert all(p.flagged and p.process_name for p in ranked[:2])
