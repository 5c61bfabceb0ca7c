"""Reach, conversion and won/lost/open of the audit against an independent pandas computation, on the
public reference logs (../shared/data; skipped when absent) and on the demo data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import voronka
from voronka.demo import generate_demo, write_demo

TESTS = Path(__file__).resolve().parent


def pandas_funnel(
    events: pd.DataFrame, line: list[str], won_names: set[str], lost_names: set[str],
    lost_status: pd.Series | None = None, won_status: pd.Series | None = None,
) -> tuple[list[int], dict[str, int]]:
    """The oracle: PRODUCT.md's semantics in plain pandas.

    ``events`` has deal_id, stage (a name of ``line``, a won name or a lost name), entered_at; rows
    with a missing date or an unknown stage are dropped first. Reach of stage k = deals whose
    furthest stage is k or later; won = reached the won stage (or a won status); lost = not won and
    a lost event (or a lost status); open = the rest.
    """
    ev = events.dropna(subset=["entered_at"])
    index = {name: i for i, name in enumerate(line)}
    for name in won_names:
        index[name] = len(line) - 1
    ev = ev[ev["stage"].isin(set(index) | lost_names)]
    deals = ev["deal_id"].unique()
    furthest = ev[ev["stage"].isin(index)].assign(i=lambda d: d["stage"].map(index))
    furthest = furthest.groupby("deal_id")["i"].max().reindex(deals)
    reached = [int((furthest >= k).sum()) for k in range(len(line))]
    won = furthest == len(line) - 1
    if won_status is not None:
        won |= won_status.reindex(deals).fillna(False).astype(bool)
    lost_event = ev[ev["stage"].isin(lost_names)]["deal_id"].unique()
    lost = pd.Series(np.isin(deals, lost_event), index=deals)
    if lost_status is not None:
        lost |= lost_status.reindex(deals).fillna(False).astype(bool)
    lost &= ~won
    totals = {"deals": len(deals), "won": int(won.sum()), "lost": int(lost.sum()),
              "open": int(len(deals) - won.sum() - lost.sum())}
    return reached, totals


def assert_matches(result: voronka.AuditResult, reached: list[int], totals: dict[str, int]) -> None:
    stages = result.funnel.stages
    assert [s.reached for s in stages] == reached
    for k in range(len(stages) - 1):
        expected = reached[k + 1] / reached[k] if reached[k] else None
        # The naive rate equals pandas; the reported one is censoring-aware (open deals are not
        # losses, docs/methods.md) and therefore at least the naive one where deals are open.
        assert stages[k].raw_conversion == pytest.approx(expected)
        if expected is not None and stages[k].conversion is not None:
            assert stages[k].conversion >= expected - 1e-9
    funnel = result.funnel
    assert {"deals": funnel.deals, "won": funnel.won, "lost": funnel.lost, "open": funnel.open} == totals


@pytest.mark.shared
def test_bpic2012_matches_pandas(shared_data: Path) -> None:
    path = shared_data / "bpic2012-loan-applications" / "bpic2012_application_stage_history.csv"
    result = voronka.audit(path, funnel=TESTS / "data" / "bpic2012.toml")
    raw = pd.read_csv(path, dtype={"deal_id": str})
    line = ["A_SUBMITTED", "A_PARTLYSUBMITTED", "A_PREACCEPTED", "A_ACCEPTED", "A_FINALIZED",
            "A_APPROVED"]
    reached, totals = pandas_funnel(raw, line, {"A_REGISTERED", "A_ACTIVATED"},
                                    {"A_DECLINED", "A_CANCELLED"})
    assert_matches(result, reached, totals)
    # The dataset's own documentation (SOURCE.md) gives these outcome counts.
    assert (totals["won"], totals["open"]) == (2246, 399)
    dq = result.data_quality
    for file, read in dq.rows_read.items():
        assert read == dq.rows_used[file] + dq.rows_rejected[file]


@pytest.mark.shared
def test_maven_matches_pandas(shared_data: Path) -> None:
    path = shared_data / "maven-crm-sales-opportunities" / "maven_stage_history.csv"
    result = voronka.audit(path)
    raw = pd.read_csv(path, dtype={"deal_id": str})
    # The funnel is inferred from the data (no template fits): Engaging → Won, Lost an outcome.
    assert result.funnel.origin == "inferred"
    assert [s.name for s in result.funnel.stages] == ["Engaging", "Won"]
    reached, totals = pandas_funnel(raw, ["Engaging", "Won"], set(), {"Lost"})
    assert_matches(result, reached, totals)
    # 500 Prospecting rows have no date: rejected with their reason, not silently dropped.
    missing = next(i for i in result.data_quality.issues if i.kind == "missing_value")
    assert missing.count == int(raw["entered_at"].isna().sum()) == 500


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    data = generate_demo(20_000, seed=7)
    folder = tmp_path_factory.mktemp("demo")
    return data, folder, write_demo(data, folder)


def test_demo_matches_pandas(demo_files: tuple) -> None:
    data, _, files = demo_files
    result = voronka.audit(files.events, deals=files.deals, spend=files.spend, funnel=files.funnel)
    funnel = data.funnel
    # The oracle reads the files the CRM "exported" with pandas and applies the same row rules.
    events = pd.read_csv(files.events, sep=";", dtype=str)
    events.columns = ["deal_id", "stage", "entered_at", *events.columns[3:]]
    events["entered_at"] = pd.to_datetime(events["entered_at"], format="%d.%m.%Y %H:%M",
                                          errors="coerce")
    events = events.drop_duplicates(["deal_id", "stage", "entered_at"])
    deals = pd.read_csv(files.deals, sep=";", dtype=str)
    status = deals.set_index(deals.columns[0])
    status_col = next(c for c in deals.columns if c.lower().startswith("статус"))
    lost_status = status[status_col].str.lower().str.startswith("провал")
    won_status = status[status_col].str.lower().str.startswith("успеш")
    line = [s.name for s in funnel.line]
    reached, totals = pandas_funnel(events, line, set(), set(funnel.lost_names), lost_status,
                                    won_status)
    assert_matches(result, reached, totals)
