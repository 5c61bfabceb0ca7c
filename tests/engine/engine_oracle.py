"""A plain pandas computation of the funnel semantics, the oracle the engine is tested against.

Written from the definitions (PRODUCT.md, docs/internals.md) with per-deal Python loops, on purpose
unlike the engine's set-based Ibis code, so that a shared mistake is unlikely.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from voronka.funnel import LOST, Funnel

LOST_INDEX = -1


@dataclass
class Oracle:
    """The expected per-deal facts and counts of a small log."""

    deals: pd.DataFrame  # one row per deal of the population
    durations: pd.DataFrame  # deal_id, stage_index, days (deals that left after the first entry)
    reached_at: pd.DataFrame  # deal_id, stage_index, reached_at
    quality: dict[str, int] = field(default_factory=dict)
    examples: dict[str, set[str]] = field(default_factory=dict)
    events_used: int = 0


def _none(v: object) -> object:
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    return v


def compute(
    events: pd.DataFrame, deals: pd.DataFrame | None, funnel: Funnel, as_of: dt.datetime
) -> Oracle:
    """Every per-deal fact of the log, from the raw rows."""
    index_of = {sid: i for i, sid in enumerate(funnel.stage_ids)}
    won = funnel.won_index
    ev = events.copy()
    matched = [funnel.match(s) if _none(s) is not None else None for s in ev["stage"]]
    ev["idx"] = [LOST_INDEX if m == LOST else (index_of[m] if m else None) for m in matched]
    quality: dict[str, int] = {}
    examples: dict[str, set[str]] = {}
    unknown = ev[ev["idx"].isna()]
    quality["unknown_stage"] = len(unknown)
    examples["unknown_stage"] = {str(s) for s in unknown["stage"] if _none(s) is not None}
    ev = ev[ev["idx"].notna()].copy()
    ev["idx"] = ev["idx"].astype(int)
    ev = ev.sort_values("_row")
    dup = ev.duplicated(["deal_id", "idx", "entered_at"], keep="first")
    quality["duplicate_event"] = int(dup.sum())
    examples["duplicate_event"] = {str(r) for r in ev.loc[dup, "_row"]}
    ev = ev[~dup]

    d_first: dict[str, dict[str, object]] = {}
    deal_rows: dict[str, int] = {}
    dup_deal_rows: set[str] = set()
    if deals is not None:
        for row in deals.sort_values("_row").to_dict("records"):
            if row["deal_id"] in d_first:
                dup_deal_rows.add(str(row["_row"]))
                continue
            d_first[row["deal_id"]] = row
            deal_rows[row["deal_id"]] = int(row["_row"])
    quality["duplicate_deal"] = len(dup_deal_rows)
    examples["duplicate_deal"] = dup_deal_rows

    attr_cols = [c for c in events.columns if c not in ("deal_id", "stage", "entered_at", "_row")]
    deal_attr_cols = (
        [c for c in deals.columns if c not in ("deal_id", "_row")] if deals is not None else []
    )
    raw_sorted = events.sort_values("_row")

    records = []
    durations = []
    reached = []
    backward_rows: set[str] = set()
    backward_deals: set[str] = set()
    before_rows: set[str] = set()
    for deal_id, part in ev.groupby("deal_id", sort=True):
        part = part.sort_values(["entered_at", "idx", "_row"])
        idx = list(part["idx"])
        times = list(part["entered_at"])
        rows = list(part["_row"])
        rec: dict[str, object] = {"deal_id": deal_id}
        raw = raw_sorted[raw_sorted["deal_id"] == deal_id]
        for c in dict.fromkeys([*deal_attr_cols, *attr_cols]):
            value = None
            if deal_id in d_first and c in d_first[deal_id]:
                value = _none(d_first[deal_id][c])
            if value is None and c in raw.columns:
                non_null = [v for v in raw[c] if _none(v) is not None]
                value = non_null[0] if non_null else None
            rec[c] = value
        created = rec.get("created_at")
        rec["created_at"] = created if created is not None else min(times)
        line_idx = [i for i in idx if 0 <= i <= won]
        rec["max_stage_index"] = max(line_idx) if line_idx else None
        funnel_pos = [p for p, i in enumerate(idx) if i >= 0]
        rec["current_stage_index"] = idx[funnel_pos[-1]] if funnel_pos else None
        rec["current_entered_at"] = times[funnel_pos[-1]] if funnel_pos else None
        status = rec.get("status")
        status = str(status).lower() if status is not None else None
        is_won = rec["max_stage_index"] == won or status == "won"
        is_lost = not is_won and (status == "lost" or LOST_INDEX in idx)
        rec["outcome"] = "won" if is_won else ("lost" if is_lost else "open")
        rec["days_in_stage"] = (
            (as_of - rec["current_entered_at"]).total_seconds() / 86400
            if rec["outcome"] == "open"
            else None
        )
        rec["n_events"] = len(idx)
        rec["entered"] = frozenset(idx)
        rec["deals_row"] = deal_rows.get(deal_id)
        records.append(rec)
        # time in stage: first entry into k to the next event of another stage
        for k in set(i for i in idx if i >= 0 and i != won):
            first = idx.index(k)
            nxt = next((p for p in range(first + 1, len(idx)) if idx[p] != k), None)
            if nxt is not None:
                days = (times[nxt] - times[first]).total_seconds() / 86400
                durations.append((deal_id, k, days))
        for k in range(won + 1):
            later = [t for i, t in zip(idx, times, strict=True) if k <= i <= won]
            if later:
                reached.append((deal_id, k, min(later)))
        for p in range(1, len(idx)):
            if 0 <= idx[p] <= won and idx[p - 1] >= 0 and idx[p] < idx[p - 1]:
                backward_rows.add(str(rows[p]))
                backward_deals.add(str(deal_id))
        if created is not None:
            before_rows |= {str(r) for r, t in zip(rows, times, strict=True) if t < created}

    summary = pd.DataFrame.from_records(records)
    quality["backward_move"] = len(backward_rows)
    examples["backward_move"] = backward_deals
    quality["event_before_created"] = len(before_rows)
    examples["event_before_created"] = before_rows
    population = set(summary["deal_id"]) if len(summary) else set()
    without_events = {d for d in d_first if d not in population}
    quality["deal_without_events"] = len(without_events)
    examples["deal_without_events"] = without_events
    without_deal = {d for d in population if deals is not None and d not in d_first}
    quality["event_without_deal"] = len(without_deal)
    examples["event_without_deal"] = without_deal
    won_by_status = {str(r["deal_id"]) for r in records
                     if r["outcome"] == "won" and r["max_stage_index"] != won}
    quality["won_without_won_stage"] = len(won_by_status)
    examples["won_without_won_stage"] = won_by_status
    return Oracle(
        deals=summary,
        durations=pd.DataFrame(durations, columns=["deal_id", "stage_index", "days"]),
        reached_at=pd.DataFrame(reached, columns=["deal_id", "stage_index", "reached_at"]),
        quality=quality,
        examples=examples,
        events_used=len(ev),
    )


def period_of(ts: pd.Timestamp | dt.datetime, period: str) -> dt.date:
    """Monday of the week, or the first day of the month."""
    day = pd.Timestamp(ts).date()
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def keyed(oracle: Oracle, by: str | None, period: str | None) -> pd.DataFrame:
    """The oracle's deals with ``segment`` / ``period`` columns (object, None for null)."""
    d = oracle.deals.copy()
    if by is not None:
        d["segment"] = pd.Series([_none(v) for v in d[by]], dtype=object)
    if period is not None:
        d["period"] = pd.Series([period_of(t, period) for t in d["created_at"]], dtype=object)
    return d


def group_items(d: pd.DataFrame, keys: list[str]) -> list[tuple[tuple[object, ...], pd.DataFrame]]:
    """(key tuple, rows) per group, None a key of its own."""
    if not keys:
        return [((), d)]
    out: dict[tuple[object, ...], list[int]] = {}
    for pos, row in enumerate(d[keys].itertuples(index=False, name=None)):
        out.setdefault(tuple(_none(v) for v in row), []).append(pos)
    return [(k, d.iloc[v]) for k, v in out.items()]


def expected_reach(
    oracle: Oracle, funnel: Funnel, by: str | None = None, period: str | None = None
) -> dict[tuple[object, ...], tuple[int, int, int]]:
    """{(*keys, stage_id): (reached, open_here, lost_here)}."""
    keys = [k for k, v in (("segment", by), ("period", period)) if v is not None]
    d = keyed(oracle, by, period)
    won = funnel.won_index
    out = {}
    for key, part in group_items(d, keys):
        for i, stage in enumerate(funnel.stages):
            if i <= won:
                reached = sum(1 for m in part["max_stage_index"] if _none(m) is not None and m >= i)
            else:
                reached = sum(1 for e in part["entered"] if i in e)
            open_here = int(
                ((part["outcome"] == "open") & (part["current_stage_index"] == i)).sum()
            )
            lost_here = int(
                ((part["outcome"] == "lost") & (part["current_stage_index"] == i)).sum()
            )
            out[(*key, stage.id)] = (reached, open_here, lost_here)
    return out


def expected_outcomes(
    oracle: Oracle, by: str | None = None, period: str | None = None
) -> dict[tuple[object, ...], tuple[int, int, int, int]]:
    """{keys: (deals, won, lost, open)}."""
    keys = [k for k, v in (("segment", by), ("period", period)) if v is not None]
    d = keyed(oracle, by, period)
    return {
        key: (
            len(part),
            int((part["outcome"] == "won").sum()),
            int((part["outcome"] == "lost").sum()),
            int((part["outcome"] == "open").sum()),
        )
        for key, part in group_items(d, keys)
    }


def expected_time_in_stage(
    oracle: Oracle, funnel: Funnel, by: str | None = None
) -> dict[tuple[object, ...], tuple[int, float, float]]:
    """{(*keys, stage_id): (n_left, median, p90)} with pandas' linear quantiles."""
    keys = ["segment"] if by is not None else []
    d = keyed(oracle, by, None)
    durations = oracle.durations
    out = {}
    for key, part in group_items(d, keys):
        mine = durations[durations["deal_id"].isin(set(part["deal_id"]))]
        for i, stage in enumerate(funnel.stages):
            days = mine.loc[mine["stage_index"] == i, "days"]
            if len(days):
                out[(*key, stage.id)] = (len(days), days.quantile(0.5), days.quantile(0.9))
            else:
                out[(*key, stage.id)] = (0, np.nan, np.nan)
    return out
