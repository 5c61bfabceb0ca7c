"""The ``sources`` section: traffic-source economics.

Per source (and per campaign where the deals have one): leads, spend, CPL, won, revenue (sum of
won amounts), CAC, ROMI = (revenue − spend) / spend, win rate with its Wilson interval, and the
share of leads that reached each stage. Sources without spend keep null cost figures (not zero).
ROMI has a simulated interval and the probability that the source pays off
(:func:`voronka.audit.stats.economics_intervals`). Sources with spend are ranked by ``romi_low``, the
10 % lower bound of ROMI shrunk toward the sources' pooled win rate and amount
(:mod:`voronka.audit.source_rank`), so a small source's lucky deal does not put it first; sources
without spend follow, by revenue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa

from voronka.audit.censored import step_rates
from voronka.audit.maturity import build_maturity
from voronka.audit.source_rank import shrunk_romi
from voronka.audit.stats import economics_intervals, wilson_interval
from voronka.engine import EventLog, SpendTotals, deal_counts, spend_key, spend_totals


@dataclass(frozen=True)
class SourceEconomics:
    """One traffic source. Cost figures are None (not zero) where there is no spend data.

    Attributes:
        source: the source's name.
        leads: deals created from it.
        spend: ad spend on it.
        cpl: spend / leads.
        won: won deals.
        revenue: sum of won amounts.
        cac: spend / won.
        romi: (revenue − spend) / spend.
        win_rate: won / leads.
        campaign: the campaign for a campaign row (None for a whole source).
        win_rate_ci: Wilson 95% interval of ``win_rate``.
        romi_ci: 90% interval of ROMI from posterior simulation (win rate and mean amount).
        cac_ci: 90% interval of CAC from the same simulation.
        p_profitable: probability that ROMI > 0 under the same simulation.
        reached: stage id → leads of the source that reached the stage.
        conversion: stage id → ``reached / leads``.
        campaigns: the source's campaigns (same fields), when the deals name campaigns.
        open_share: share of the leads still open (their outcome is not known yet).
        expected_won: leads × P(won | lead) with open deals accounted for (the product of the
            source's censoring-aware step conversions, docs/methods.md); ``won`` is the raw count.
        final_win_rate: ``expected_won / leads``: the win rate once every open lead is decided.
        final_cac: ``spend / expected_won``.
        final_romi: ``(expected_won × mean won amount − spend) / spend``.
        romi_shrunk: ROMI with the win rate (censoring-aware) and the mean won amount shrunk
            toward all sources' (campaigns': toward all campaigns').
        romi_low: the 10 % quantile of that shrunk ROMI's posterior: the rank's measure.
    """

    source: str
    leads: int
    spend: float | None
    cpl: float | None
    won: int
    revenue: float | None
    cac: float | None
    romi: float | None
    win_rate: float | None
    campaign: str | None = None
    win_rate_ci: tuple[float, float] | None = None
    romi_ci: tuple[float, float] | None = None
    cac_ci: tuple[float, float] | None = None
    p_profitable: float | None = None
    reached: Mapping[str, int] = field(default_factory=dict)
    conversion: Mapping[str, float] = field(default_factory=dict)
    campaigns: tuple[SourceEconomics, ...] = ()
    open_share: float | None = None
    expected_won: float | None = None
    final_win_rate: float | None = None
    final_cac: float | None = None
    final_romi: float | None = None
    romi_shrunk: float | None = None
    romi_low: float | None = None


def _group_figures(counts: pd.DataFrame, keys: list[str], won_index: int) -> pd.DataFrame:
    """Leads, won, revenue, amount moments and reach per group of ``counts`` (deal_counts)."""
    won = counts["outcome"] == "won"
    frame = counts.assign(
        won=np.where(won, counts["deals"], 0),
        won_amount_n=np.where(won, counts["amount_n"], 0),
        revenue=np.where(won, counts["amount_sum"], 0.0),
        revenue_sq=np.where(won, counts["amount_sumsq"], 0.0),
    )
    totals = frame.groupby(keys, dropna=False, sort=False)[
        ["deals", "won", "won_amount_n", "revenue", "revenue_sq"]
    ].sum()
    reach = frame.pivot_table(
        index=keys,
        columns="max_stage_index",
        values="deals",
        aggfunc="sum",
        fill_value=0,
        dropna=False,
    )
    reach = reach.reindex(columns=range(-1, won_index + 1), fill_value=0)
    # reached[k] = deals whose furthest stage is k or later: a suffix sum over the columns.
    suffix = reach.iloc[:, ::-1].cumsum(axis=1).iloc[:, ::-1]
    suffix.columns = [f"reached_{c}" for c in suffix.columns]
    return totals.join(suffix).reset_index()


def _rows(
    figures: pd.DataFrame,
    spend: pd.Series | None,
    stage_ids: tuple[str, ...],
    has_amount: bool,
    seed: int,
    campaign: bool,
) -> list[SourceEconomics]:
    leads = figures["deals"].to_numpy(dtype=float)
    won = figures["won"].to_numpy(dtype=float)
    cost = np.full(len(figures), np.nan) if spend is None else spend.to_numpy(dtype=float)
    amount_n = figures["won_amount_n"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(amount_n > 0, figures["revenue"] / amount_n, np.nan)
        var = np.where(
            amount_n > 1,
            (figures["revenue_sq"] - amount_n * mean**2) / (amount_n - 1),
            np.nan,
        )
    pooled_sd = float(np.sqrt(np.nanmean(var))) if np.isfinite(var).any() else 0.0
    sd = np.where(np.isfinite(var), np.sqrt(np.maximum(var, 0)), pooled_sd)
    sim = economics_intervals(
        leads, won, mean if has_amount else np.full(len(leads), np.nan), sd, cost, seed=seed
    )
    lo, hi = wilson_interval(won, leads)
    out = []
    for i, row in enumerate(figures.itertuples(index=False)):
        n, w = int(leads[i]), int(won[i])
        revenue = float(row.revenue) if has_amount else None
        spent = float(cost[i]) if np.isfinite(cost[i]) else None
        reached = {stage_ids[k]: int(getattr(row, f"reached_{k}")) for k in range(len(stage_ids))}
        out.append(
            SourceEconomics(
                source=str(row.source),
                leads=n,
                spend=spent,
                cpl=spent / n if spent is not None and n > 0 else None,
                won=w,
                revenue=revenue,
                cac=spent / w if spent is not None and w > 0 else None,
                romi=(revenue - spent) / spent
                if spent is not None and spent > 0 and revenue is not None
                else None,
                win_rate=w / n if n > 0 else None,
                campaign=(None if row.campaign is None else str(row.campaign))
                if campaign
                else None,
                win_rate_ci=(float(lo[i]), float(hi[i])) if n > 0 else None,
                romi_ci=_pair(sim.romi, i),
                cac_ci=_pair(sim.cac, i),
                p_profitable=float(sim.p_profitable[i])
                if np.isfinite(sim.p_profitable[i])
                else None,
                reached=reached,
                conversion={s: c / n for s, c in reached.items()} if n > 0 else {},
            )
        )
    return out


def _pair(bounds: tuple[np.ndarray, np.ndarray], i: int) -> tuple[float, float] | None:
    lo, hi = float(bounds[0][i]), float(bounds[1][i])
    return (lo, hi) if np.isfinite(lo) and np.isfinite(hi) else None


def _rank(rows: list[SourceEconomics]) -> list[SourceEconomics]:
    """Lower bound of shrunk ROMI first (best first; raw ROMI where it cannot be shrunk), then sources without
    spend by revenue, then the rest."""

    def key(r: SourceEconomics) -> tuple[int, float, str]:
        if r.romi_low is not None:
            return (0, -r.romi_low, r.source)
        if r.romi is not None:
            return (0, -r.romi, r.source)
        if r.revenue is not None:
            return (1, -r.revenue, r.source)
        return (2, -r.leads, r.source)

    return sorted(rows, key=key)


def _spend_for(figures: pd.DataFrame, spend: SpendTotals, keys: list[str]) -> pd.Series:
    """Spend per group of ``figures`` (NaN where the spend file has no row for it), from the
    engine's totals."""
    sources = figures["source"].map(spend_key)
    campaigns = figures["campaign"].map(spend_key) if "campaign" in keys else None
    costs = [spend.total(s, campaigns.iloc[i] if campaigns is not None else ...)
             for i, s in enumerate(sources)]
    return pd.Series([np.nan if c is None else c for c in costs], index=figures.index,
                     dtype=float)


def build_sources(
    log: EventLog,
    spend: SpendTotals | pa.Table | pd.DataFrame | None = None,
    *,
    seed: int = 0,
) -> tuple[SourceEconomics, ...]:
    """The sources section of ``log`` with the spend table of ``voronka.io`` (``source``,
    ``campaign``, ``month``, ``cost``), ranked by profitability.

    Leads are the deals of the log's population by their ``source`` (deals without one are not
    a source and are left out); spend is the total of the spend table per source (per source and
    campaign for campaign rows), matched case- and space-insensitively. Returns () when the log
    has no ``source`` column.
    """
    funnel = log.funnel
    if funnel is None:
        raise ValueError("build_sources needs a log with a funnel")
    columns = log.deal_columns()
    if "source" not in columns:
        return ()
    has_amount = "amount" in columns
    stage_ids = funnel.stage_ids[: funnel.won_index + 1]
    spend_frame = spend_totals(spend) if spend is not None else None
    counts = deal_counts(log, ["source"])
    counts = counts[counts["source"].notna()]
    figures = _group_figures(counts, ["source"], funnel.won_index)
    figures["campaign"] = None
    rows = _rows(
        figures,
        _spend_for(figures, spend_frame, ["source"]) if spend_frame is not None else None,
        stage_ids,
        has_amount,
        seed,
        campaign=False,
    )
    if "campaign" in columns:
        by_campaign = deal_counts(log, ["source", "campaign"])
        by_campaign = by_campaign[by_campaign["source"].notna() & by_campaign["campaign"].notna()]
        if len(by_campaign):
            cfig = _group_figures(by_campaign, ["source", "campaign"], funnel.won_index)
            cspend = (
                _spend_for(cfig, spend_frame, ["source", "campaign"])
                if spend_frame is not None
                else None
            )
            camp_rows = _rows(cfig, cspend, stage_ids, has_amount, seed + 1, campaign=True)
            camp_rows = _with_shrunk(camp_rows, cfig)
            rows = [
                _with_campaigns(r, [c for c in camp_rows if c.source == r.source]) for r in rows
            ]
    return tuple(_rank(_with_shrunk(_with_final(log, rows, counts), figures)))


def _with_shrunk(rows: list[SourceEconomics], figures: pd.DataFrame) -> list[SourceEconomics]:
    """Rows (in ``figures`` order) with ``romi_shrunk`` and ``romi_low``: wins are the censoring-aware expected
    ones where known, amounts the won amounts of ``figures``."""
    k = figures["won_amount_n"].to_numpy(dtype=float)
    total = figures["revenue"].to_numpy(dtype=float)
    square = figures["revenue_sq"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(k > 0, total / k, np.nan)
        sd = np.where(k > 1, np.sqrt(np.maximum(square - k * mean**2, 0) / (k - 1)), np.nan)
    won = [r.expected_won if r.expected_won is not None else r.won for r in rows]
    spend = [np.nan if r.spend is None else r.spend for r in rows]
    shrunk = shrunk_romi([r.leads for r in rows], won, mean, sd, k, spend)
    return [
        replace(r, romi_shrunk=float(v), romi_low=float(lo))
        if np.isfinite(v) and np.isfinite(lo) and r.romi is not None
        else r
        for r, v, lo in zip(rows, shrunk.point, shrunk.low, strict=True)
    ]


def _with_final(
    log: EventLog, rows: list[SourceEconomics], counts: pd.DataFrame
) -> list[SourceEconomics]:
    """Each source with its censoring-aware win rate, CAC and ROMI beside the raw ones."""
    maturity = build_maturity(log)
    rates = step_rates(log, maturity, by="source")
    open_deals = counts[counts["outcome"] == "open"].groupby("source")["deals"].sum()
    out = []
    for r in rows:
        src = rates.get(r.source)
        p = src.p_won(0) if src is not None else None
        if p is None or r.leads == 0:
            out.append(r)
            continue
        expected = r.leads * p
        mean = src.mean_amount if src is not None else None
        spent = r.spend
        out.append(
            replace(
                r,
                open_share=float(open_deals.get(r.source, 0)) / r.leads,
                expected_won=expected,
                final_win_rate=p,
                final_cac=spent / expected if spent is not None and expected > 0 else None,
                final_romi=(expected * mean - spent) / spent
                if spent is not None and spent > 0 and mean is not None
                else None,
            )
        )
    return out


def _with_campaigns(row: SourceEconomics, campaigns: list[SourceEconomics]) -> SourceEconomics:
    return replace(row, campaigns=tuple(_rank(campaigns)))
