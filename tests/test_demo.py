"""The demo-data generator: determinism, realism, planted effects and errors, written files.

Every check recomputes its property from the generated frames with plain pandas; the planted
effects are compared with ``data.truth`` (simulation with a planted effect, measured back).
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from voronka.demo import (
    MANAGER_NAMES,
    SOURCE_NAMES,
    STAGE_IDS,
    ConversionShift,
    DemoData,
    DemoEffects,
    ManagerLeak,
    VolumeShift,
    generate_demo,
    write_demo,
)
from voronka.demo.write import DEAL_HEADERS, EVENT_HEADERS, SPEND_HEADERS
from voronka.funnel import LOST, funnel_to_dict, load_funnel

MATURE_DAYS = 90
"""Deals created this long before ``as_of`` have (almost all) finished their early stages."""


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate_demo(20_000, seed=0)


@pytest.fixture(scope="module")
def stable() -> DemoData:
    return generate_demo(20_000, seed=3, effects=DemoEffects.stable_funnel())


def stage_index(data: DemoData, names: pd.Series) -> pd.Series:
    """The funnel position of each stage name (NaN for lost and unknown names)."""
    index = {sid: i for i, sid in enumerate(data.funnel.stage_ids)}
    known = {n: index.get(data.funnel.match(n) or "", np.nan) for n in names.unique()}
    return names.map(known).astype(float)


def matches(data: DemoData, names: pd.Series) -> pd.Series:
    """``funnel.match`` of each name (computed once per distinct name)."""
    return names.map({n: data.funnel.match(n) for n in names.unique()})


def furthest_stage(data: DemoData) -> pd.DataFrame:
    """Deals with ``max_index``: the furthest funnel stage entered by a usable event (the reach
    semantics of PRODUCT.md), computed with pandas only; -1 for deals without one."""
    events = data.events.dropna(subset=["entered_at"])
    mapped = stage_index(data, events["stage"])
    furthest = mapped.groupby(events["deal_id"]).max()
    deals = data.deals.set_index("deal_id")
    deals["max_index"] = furthest.reindex(deals.index).fillna(-1).astype(int)
    return deals.reset_index()


def mature(data: DemoData, deals: pd.DataFrame) -> pd.DataFrame:
    cutoff = pd.Timestamp(data.as_of) - pd.Timedelta(days=MATURE_DAYS)
    return deals[deals["created_at"] < cutoff]


def rate(deals: pd.DataFrame, stage: str) -> float:
    """Conversion from ``stage`` to the next: reached k + 1 / reached k."""
    k = STAGE_IDS.index(stage)
    return float((deals["max_index"] >= k + 1).sum() / (deals["max_index"] >= k).sum())


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_data() -> None:
    a = generate_demo(3_000, seed=7)
    b = generate_demo(3_000, seed=7)
    for name in ("events", "deals", "spend"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert a.truth == b.truth
    assert a.funnel == b.funnel


def test_other_seed_gives_other_data() -> None:
    a = generate_demo(3_000, seed=7)
    b = generate_demo(3_000, seed=8)
    assert not a.deals["created_at"].equals(b.deals["created_at"])


# -- realism ----------------------------------------------------------------------------------


def test_default_demo_has_the_promised_shape(demo: DemoData) -> None:
    deals = demo.deals
    assert len(deals) == 20_000
    assert deals["deal_id"].is_unique
    months = deals["created_at"].dt.to_period("M").nunique()
    assert months >= 18
    assert deals["created_at"].min() >= pd.Timestamp(2025, 5, 1)
    assert demo.as_of == datetime(2026, 11, 1)
    assert demo.events["entered_at"].max() < pd.Timestamp(demo.as_of)
    assert sorted(deals["source"].unique()) == sorted(SOURCE_NAMES)
    assert sorted(deals["manager"].unique()) == sorted(MANAGER_NAMES)
    assert len(demo.funnel.stages) == 11
    assert demo.funnel.stage_ids == STAGE_IDS
    counts = deals["status"].value_counts()
    assert set(counts.index) == {"open", "won", "lost"}
    assert counts["won"] > 500 and counts["open"] > 500
    # Sources differ in volume and in deal size.
    volume = deals["source"].value_counts()
    assert volume.max() > 2 * volume.min()
    median_amount = deals.groupby("source")["amount"].median()
    assert median_amount["Выставки"] > 2 * median_amount["Холодные звонки"]
    assert (deals["amount"] > 0).all()


def test_open_deals_are_mostly_recent(demo: DemoData) -> None:
    deals = demo.deals
    recent = deals["created_at"] >= pd.Timestamp(demo.as_of) - pd.Timedelta(days=60)
    open_share_recent = (deals.loc[recent, "status"] == "open").mean()
    open_share_old = (deals.loc[~recent, "status"] == "open").mean()
    assert open_share_recent > 3 * open_share_old
    # Closed deals carry a close date, open ones do not.
    assert deals.loc[deals["status"] != "open", "closed_at"].notna().all()
    assert deals.loc[deals["status"] == "open", "closed_at"].isna().all()


def test_lost_deals_have_reasons_and_some_lost_events(demo: DemoData) -> None:
    lost = demo.deals[demo.deals["status"] == "lost"]
    reasons = lost["lost_reason"].value_counts(normalize=True)
    assert {"Дорого", "Выбрали конкурента", "Нет бюджета", "Не дозвонились"} <= set(reasons.index)
    assert 0.85 < lost["lost_reason"].notna().mean() < 0.95
    lost_events = demo.events[matches(demo, demo.events["stage"]) == LOST]
    share = lost_events["deal_id"].nunique() / len(lost)
    assert 0.4 < share < 0.6
    assert set(lost_events["deal_id"]) <= set(lost["deal_id"])


def test_spend_only_for_paid_sources(demo: DemoData) -> None:
    spend = demo.spend
    assert set(spend["source"]) == {"Яндекс Директ", "Google Ads", "Выставки", "Холодные звонки"}
    assert spend["month"].dt.to_period("M").nunique() == 18
    assert (spend["cost"] > 0).all()
    # Spend follows leads: a campaign's cost per lead is its source's, within the noise.
    leads = demo.deals.assign(month=demo.deals["created_at"].dt.to_period("M").dt.start_time)
    per = leads.groupby(["source", "campaign", "month"]).size().rename("leads").reset_index()
    joined = spend.merge(per, on=["source", "campaign", "month"])
    cpl = (joined["cost"] / joined["leads"]).groupby(joined["source"]).median()
    truth = demo.truth.source_cost_per_lead
    for source, value in cpl.items():
        assert value == pytest.approx(truth[source], rel=0.1)


def test_weekday_pattern_and_growth(demo: DemoData) -> None:
    created = demo.deals["created_at"]
    per_weekday = created.dt.day_of_week.value_counts()
    assert per_weekday[[0, 1, 2, 3]].min() > 3 * per_weekday[[5, 6]].max()
    per_month = created.dt.to_period("M").value_counts().sort_index()
    assert per_month.iloc[-6:].mean() > 1.2 * per_month.iloc[:6].mean()


def test_events_fall_in_office_hours_except_lead_arrival(demo: DemoData) -> None:
    events = demo.events.dropna(subset=["entered_at"])
    later = events[events["stage"] != demo.funnel.stage("new_request").name]
    hours = later["entered_at"].dt.hour
    assert ((hours >= 9) & (hours < 20)).mean() > 0.999
    assert later["entered_at"].dt.day_of_week.isin([5, 6]).mean() < 0.001


# -- irregularities and errors ------------------------------------------------------------------


def test_skipped_stages_exist_and_keep_reach(demo: DemoData) -> None:
    skipped = set(demo.truth.errors.skipped_stages)
    events = demo.events.dropna(subset=["entered_at"])
    mapped = events.assign(k=stage_index(demo, events["stage"]))
    mapped = mapped.dropna(subset=["k"])
    per_deal = mapped.groupby("deal_id")["k"].agg(["max", "nunique"])
    with_gap = set(per_deal.index[per_deal["max"] + 1 > per_deal["nunique"]])
    # A bad date or typo on the stage after the gap can hide a skip: almost all stay visible.
    assert len(skipped & with_gap) > 0.97 * len(skipped)
    # The other gaps come from rows a reader drops: one bad date or unknown name makes one gap.
    errors = demo.truth.errors
    assert len(with_gap - skipped) <= errors.bad_dates + errors.unknown_stage_rows
    eligible = (per_deal["nunique"] + per_deal.index.isin(list(skipped)) >= 3).sum()
    assert 0.035 < len(skipped) / eligible < 0.065


def test_backward_moves_are_visible(demo: DemoData) -> None:
    planted = set(demo.truth.errors.backward_moves)
    events = demo.events.dropna(subset=["entered_at"])
    line = events.assign(k=stage_index(demo, events["stage"])).dropna(subset=["k"]).sort_values(["deal_id", "entered_at", "k"])
    went_back = line.groupby("deal_id")["k"].diff() < 0
    found = set(line.loc[went_back, "deal_id"])
    assert found <= planted
    assert len(found) >= 0.9 * len(planted) > 50


def test_data_entry_errors_match_truth_and_rates(demo: DemoData) -> None:
    events, deals, errors = demo.events, demo.deals, demo.truth.errors
    rows = len(events)
    bad = events["entered_at"].isna()
    assert bad.sum() == errors.bad_dates
    assert 0.002 < errors.bad_dates / rows < 0.004
    assert events.loc[bad, "entered_at_text"].notna().all()
    assert events.loc[~bad, "entered_at_text"].isna().all()
    assert events.loc[bad, "entered_at_text"].str.contains("31.02|30.02|31.04|вчера|сегодня").all()

    unknown = matches(demo, events["stage"]).isna()
    assert unknown.sum() == errors.unknown_stage_rows
    assert 0.0005 < errors.unknown_stage_rows / rows < 0.002
    assert set(events.loc[unknown, "stage"]) == set(errors.unknown_stage_names)

    assert events.duplicated().sum() == errors.duplicate_rows
    assert 0.001 < errors.duplicate_rows / rows < 0.003

    created = deals.set_index("deal_id")["created_at"]
    early = events["entered_at"] < events["deal_id"].map(created)
    assert set(events.loc[early, "deal_id"]) == set(errors.events_before_created)
    assert len(errors.events_before_created) >= 2

    assert set(events["deal_id"]) - set(deals["deal_id"]) == set(errors.events_without_deal)
    assert set(deals["deal_id"]) - set(events["deal_id"]) == set(errors.deals_without_events)
    assert len(errors.events_without_deal) >= 2 and len(errors.deals_without_events) >= 2


def test_meeting_requirements_mostly_filled(demo: DemoData) -> None:
    stage = demo.funnel.stage("meeting_scheduled")
    assert stage.requires == ("meeting_at", "meeting_place")
    reach = furthest_stage(demo)
    reached = reach["max_index"] >= STAGE_IDS.index("meeting_scheduled")
    # Deals whose history was cut (bad dates, typos) may look unreached but still hold a meeting.
    filled = reach["meeting_at"].notna()
    assert filled[reached].mean() > 0.9
    assert reach.loc[reached, "meeting_at"].isna().sum() >= demo.truth.errors.missing_meeting_at * 0.9
    assert reach.loc[~reached & filled].shape[0] < 0.01 * len(reach)
    assert 0 < demo.truth.errors.missing_meeting_place < reached.sum() * 0.1


def test_clean_data_has_no_errors() -> None:
    data = generate_demo(3_000, seed=1, effects=DemoEffects(data_errors=False))
    assert data.events["entered_at"].notna().all()
    assert matches(data, data.events["stage"]).notna().all()
    assert not data.events.duplicated().any()
    assert set(data.events["deal_id"]) == set(data.deals["deal_id"])


# -- planted effects ------------------------------------------------------------------------------


def test_default_manager_leak_is_visible(demo: DemoData) -> None:
    leak = demo.truth.effects.manager_leaks[0]
    deals = mature(demo, furthest_stage(demo))
    per_manager = {m: rate(g, leak.stage) for m, g in deals.groupby("manager")}
    others = rate(deals[deals["manager"] != leak.manager], leak.stage)
    assert per_manager[leak.manager] / others == pytest.approx(leak.factor, abs=0.08)
    for manager, value in per_manager.items():
        if manager != leak.manager:
            assert 0.85 < value / others < 1.15


@pytest.mark.parametrize("which", [0, 1])
def test_default_source_shifts_are_visible(demo: DemoData, which: int) -> None:
    shift = demo.truth.effects.conversion_shifts[which]
    assert shift.stage is not None
    deals = mature(demo, furthest_stage(demo))
    deals = deals[deals["source"] == shift.source]
    after = deals["created_at"] >= pd.Timestamp(shift.start)
    ratio = rate(deals[after], shift.stage) / rate(deals[~after], shift.stage)
    assert ratio == pytest.approx(shift.factor, rel=0.15)
    # The two default shifts go in opposite directions.
    factors = sorted(s.factor for s in demo.truth.effects.conversion_shifts)
    assert factors[0] < 1 < factors[1]


def test_planted_shift_on_every_stage_and_volume_shift() -> None:
    start = date(2026, 1, 1)
    effects = DemoEffects(
        stable=True,
        conversion_shifts=(ConversionShift("SEO", None, start, 0.8),),
        volume_shifts=(VolumeShift("Рекомендации", start, 3.0),),
    )
    data = generate_demo(20_000, seed=11, effects=effects)
    deals = mature(data, furthest_stage(data))
    seo = deals[deals["source"] == "SEO"]
    after = seo["created_at"] >= pd.Timestamp(start)
    for stage in ("new_request", "qualified"):
        assert rate(seo[after], stage) / rate(seo[~after], stage) == pytest.approx(0.8, rel=0.12)
    share = data.deals.groupby(data.deals["created_at"] >= pd.Timestamp(start))["source"].apply(
        lambda s: (s == "Рекомендации").mean()
    )
    odds = (share[True] / (1 - share[True])) / (share[False] / (1 - share[False]))
    assert odds == pytest.approx(3.0, rel=0.2)


def test_stable_funnel_has_constant_rates(stable: DemoData) -> None:
    """Chi-square tests of homogeneity (scipy) of the first-stage conversion across sources,
    managers and months: with constant rates none should reject at the 0.1% level."""
    assert set(stable.truth.manager_skill.values()) == {1.0}
    deals = mature(stable, furthest_stage(stable)).copy()
    deals["month"] = deals["created_at"].dt.to_period("M")
    deals["moved"] = deals["max_index"] >= 1
    for column in ("source", "manager", "month"):
        table = pd.crosstab(deals[column], deals["moved"])
        p_value = stats.chi2_contingency(table.to_numpy())[1]
        assert p_value > 0.001, column
    per_month = stable.deals["created_at"].dt.to_period("M").value_counts()
    assert per_month.max() < 1.25 * per_month.min()


def test_manager_leak_on_a_stable_funnel() -> None:
    effects = DemoEffects(stable=True, manager_leaks=(ManagerLeak("Попова Елена", "qualified", 0.5),))
    data = generate_demo(20_000, seed=5, effects=effects)
    deals = mature(data, furthest_stage(data))
    mine = deals["manager"] == "Попова Елена"
    ratio = rate(deals[mine], "qualified") / rate(deals[~mine], "qualified")
    assert ratio == pytest.approx(0.5, abs=0.08)
    assert rate(deals[mine], "new_request") / rate(deals[~mine], "new_request") == pytest.approx(
        1.0, abs=0.08
    )


def test_process_stages_are_renamed_and_pile_up() -> None:
    effects = DemoEffects(process_stages={"meeting_held": "Думают", "invoice_sent": "На согласовании"})
    plain = generate_demo(20_000, seed=2)
    slow = generate_demo(20_000, seed=2, effects=effects)
    assert slow.funnel.stage("meeting_held").name == "Думают"
    assert slow.funnel.match("Думают") == "meeting_held"
    assert slow.funnel.match("Встреча состоялась") == "meeting_held"  # the old name stays an alias
    assert (slow.events["stage"] == "Думают").sum() > 1000
    assert (slow.events["stage"] == "Встреча состоялась").sum() == 0
    assert slow.truth.stage_names["invoice_sent"] == "На согласовании"

    def open_in(data: DemoData, name: str) -> int:
        current = data.events.dropna(subset=["entered_at"]).sort_values("entered_at")
        last = current.groupby("deal_id")["stage"].last()
        open_ids = data.deals.loc[data.deals["status"] == "open", "deal_id"]
        return int((last.reindex(open_ids) == name).sum())

    assert open_in(slow, "Думают") > 3 * open_in(plain, "Встреча состоялась")


def test_key_stage_decides_the_outcome() -> None:
    data = generate_demo(20_000, seed=4, effects=DemoEffects(key_stage="meeting_held"))
    deals = mature(data, furthest_stage(data))
    deals = deals[deals["created_at"] < pd.Timestamp(data.as_of) - pd.Timedelta(days=200)]
    won = deals["status"] == "won"
    key = STAGE_IDS.index("meeting_held")
    assert won[deals["max_index"] >= key].mean() > 0.8
    assert won[deals["max_index"] >= key - 1].mean() < 0.7
    assert won[deals["max_index"] >= 1].mean() < 0.4
    # Before the key stage the rate wanders from month to month more than binomial noise allows.
    deals = deals.assign(month=deals["created_at"].dt.to_period("M"))
    table = pd.crosstab(deals["month"], deals["max_index"] >= 1)
    assert stats.chi2_contingency(table.to_numpy())[1] < 1e-6


def test_unknown_effect_names_are_refused() -> None:
    with pytest.raises(ValueError, match="manager"):
        generate_demo(100, effects=DemoEffects(manager_leaks=(ManagerLeak("Никто", "qualified", 0.5),)))
    with pytest.raises(ValueError, match="stage"):
        generate_demo(100, effects=DemoEffects(key_stage="paid"))
    with pytest.raises(ValueError, match="source"):
        generate_demo(100, effects=DemoEffects(volume_shifts=(VolumeShift("TV", date(2025, 6, 1), 2),)))


# -- written files ------------------------------------------------------------------------------


def test_csv_is_written_as_a_crm_export(tmp_path: pytest.TempPathFactory) -> None:
    data = generate_demo(2_000, seed=9)
    files = write_demo(data, tmp_path)  # type: ignore[arg-type]
    raw = files.events.read_bytes()
    assert raw.decode("utf-8").splitlines()[0].split(";")[0].strip('"') == "ID сделки"
    events = pd.read_csv(files.events, sep=";", dtype=str, keep_default_na=False)
    assert list(events.columns) == list(EVENT_HEADERS.values())
    assert len(events) == len(data.events)
    when = pd.to_datetime(events["Дата перехода"], format="%d.%m.%Y %H:%M", errors="coerce")
    assert when.isna().sum() == data.truth.errors.bad_dates
    assert (when.dropna().to_numpy() == data.events["entered_at"].dropna().to_numpy()).all()
    assert (events["Этап"].to_numpy() == data.events["stage"].to_numpy()).all()

    deals = pd.read_csv(files.deals, sep=";", dtype=str, keep_default_na=False)
    assert list(deals.columns) == list(DEAL_HEADERS.values())
    assert set(deals["Статус"]) == {"Успешно", "Провалена", "В работе"}
    assert (deals["Бюджет"].astype(float).to_numpy() == data.deals["amount"].to_numpy()).all()
    created = pd.to_datetime(deals["Дата создания"], format="%d.%m.%Y %H:%M")
    assert (created.to_numpy() == data.deals["created_at"].to_numpy()).all()

    spend = pd.read_csv(files.spend, sep=";", dtype=str)
    assert list(spend.columns) == list(SPEND_HEADERS.values())
    assert spend["Месяц"].str.fullmatch(r"\d{4}-\d{2}").all()
    assert spend["Расход"].astype(float).sum() == pytest.approx(data.spend["cost"].sum())

    assert funnel_to_dict(load_funnel(files.funnel)) == funnel_to_dict(data.funnel)


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_other_formats_hold_the_same_table(tmp_path: pytest.TempPathFactory, fmt: str) -> None:
    data = generate_demo(500, seed=9)
    files = write_demo(data, tmp_path, fmt=fmt)  # type: ignore[arg-type]
    csv_files = write_demo(data, tmp_path / "csv")  # type: ignore[operator]
    for kind in ("events", "deals", "spend"):
        path = getattr(files, kind)
        assert path.suffix == f".{fmt}"
        table = pd.read_excel(path, engine="calamine") if fmt == "xlsx" else pd.read_parquet(path)
        reference = pd.read_csv(getattr(csv_files, kind), sep=";", dtype=str)
        assert list(table.columns) == list(reference.columns)
        assert len(table) == len(reference)
        left = table.astype(str).replace({"nan": "", "None": "", "<NA>": ""})
        right = reference.astype(str).replace({"nan": ""})
        pd.testing.assert_frame_equal(left, right, check_dtype=False)


def test_unknown_format_is_refused(tmp_path: pytest.TempPathFactory) -> None:
    with pytest.raises(ValueError, match="format"):
        write_demo(generate_demo(100), tmp_path, fmt="json")  # type: ignore[arg-type]


# -- the benchmark's bare query ----------------------------------------------------------------


def test_bare_benchmark_query_equals_pandas(tmp_path: pytest.TempPathFactory) -> None:
    """``bench/bare_duckdb.py`` (the benchmark's reference) against a pandas computation of reach
    and time in stage with the same semantics, on a written demo export."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "bare_duckdb.py"
    spec = importlib.util.spec_from_file_location("bare_duckdb", path)
    assert spec is not None and spec.loader is not None
    bare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bare)

    data = generate_demo(3_000, seed=12)
    write_demo(data, tmp_path)  # type: ignore[arg-type]
    stages, _ = bare.run(tmp_path)

    reach = furthest_stage(data)
    orphans = data.events[data.events["deal_id"].isin(data.truth.errors.events_without_deal)]
    orphan_max = stage_index(data, orphans["stage"]).groupby(orphans["deal_id"]).max()
    for k, row in enumerate(stages):
        expected = (reach["max_index"] >= k).sum() + (orphan_max >= k).sum()
        assert row["reached"] == expected, row["id"]

    # Time in stage: first entry → the next event of another stage (lost counts), deals that left.
    events = data.events.dropna(subset=["entered_at"]).copy()
    events["k"] = stage_index(data, events["stage"])
    events.loc[matches(data, events["stage"]) == LOST, "k"] = -1
    events = events.dropna(subset=["k"]).drop_duplicates(["deal_id", "k", "entered_at"])
    events = events.sort_values(["deal_id", "entered_at", "k"])
    events["next_k"] = events.groupby("deal_id")["k"].shift(-1)
    events["next_at"] = events.groupby("deal_id")["entered_at"].shift(-1)
    leaving = events["next_k"].notna() & (events["next_k"] != events["k"])
    events["left_at"] = events["next_at"].where(leaving)
    per = events.groupby(["deal_id", "k"]).agg(first=("entered_at", "min"), left=("left_at", "min"))
    per = per.dropna().reset_index()
    per["days"] = (per["left"] - per["first"]).dt.total_seconds() / 86_400
    for row in stages[:-1]:
        days = per.loc[per["k"] == row["stage_index"], "days"]
        assert row["n_left"] == len(days)
        assert row["median_days"] == pytest.approx(days.quantile(0.5))
        assert row["p90_days"] == pytest.approx(days.quantile(0.9))
