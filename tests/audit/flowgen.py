"""A small generating process for funnel histories with a known truth (tests of issue 5 only).

Each deal arrives (Poisson per day, weekday pattern), then from every stage of the line it moves
to the next stage, skips one, or is lost, with fixed probabilities; the time it takes depends on
the outcome (Weibull with rising hazard for moves, falling hazard for losses), so an old deal in a
stage is more likely to be lost than a fresh one. :func:`truth_forward` simulates the same process
forward from the state at ``as_of``, conditioning each open deal on the time it has already
waited: the exact distribution the forecast estimates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import gamma as gamma_fn

from voronka.funnel import Funnel, Stage

MOVE_SHAPE = 1.8
LOST_SHAPE = 0.7
WEEKDAY_FACTORS = np.array([1.2, 1.2, 1.2, 1.1, 1.0, 0.4, 0.3])


@dataclass(frozen=True)
class Process:
    """The true process. ``p_next``/``p_skip`` per stage before the won one; the rest is lost."""

    p_next: tuple[float, ...] = (0.6, 0.55, 0.7, 0.8)
    p_skip: tuple[float, ...] = (0.05, 0.05, 0.05, 0.0)
    move_days: tuple[float, ...] = (3.0, 6.0, 8.0, 10.0)
    lost_days: tuple[float, ...] = (10.0, 20.0, 25.0, 30.0)
    leads_per_day: float = 30.0
    amount_mu: float = 11.0
    amount_sigma: float = 0.6
    stage_ids: tuple[str, ...] = field(default=("new", "qualified", "meeting", "invoice", "paid"))

    @property
    def won_index(self) -> int:
        return len(self.stage_ids) - 1

    def funnel(self) -> Funnel:
        return Funnel(
            name="test",
            stages=tuple(Stage(id=s, name=s) for s in self.stage_ids),
            won_stage=self.stage_ids[-1],
        )

    def step(
        self, stage: np.ndarray, age: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Remaining time in stage and destination (-1 lost) given the age already spent.

        Durations are Weibull, ``S(t) = exp(−(t/λ)^c)``: moves with c = 1.8 (rising hazard),
        losses with c = 0.7 (falling hazard). Given survival to age ``a`` the outcome is drawn with
        weights ``p_j S_j(a)`` and the duration as ``λ((a/λ)^c + E)^(1/c)``, ``E ~ Exp(1)``.
        """
        wait = np.zeros(stage.shape[0])
        dest = np.full(stage.shape[0], -1, dtype=np.int64)
        for k in np.unique(stage):
            sel = np.flatnonzero(stage == k)
            a = age[sel]
            lam_m = self.move_days[k] / gamma_fn(1 + 1 / MOVE_SHAPE)
            lam_l = self.lost_days[k] / gamma_fn(1 + 1 / LOST_SHAPE)
            s_move = np.exp(-((a / lam_m) ** MOVE_SHAPE))
            s_lost = np.exp(-((a / lam_l) ** LOST_SHAPE))
            pn, ps = self.p_next[k], self.p_skip[k]
            w_next, w_skip, w_lost = pn * s_move, ps * s_move, (1 - pn - ps) * s_lost
            u = rng.random(sel.size) * (w_next + w_skip + w_lost)
            kind = np.where(u < w_next, 0, np.where(u < w_next + w_skip, 1, 2))
            e = rng.exponential(size=sel.size)
            t_move = lam_m * ((a / lam_m) ** MOVE_SHAPE + e) ** (1 / MOVE_SHAPE)
            t_lost = lam_l * ((a / lam_l) ** LOST_SHAPE + e) ** (1 / LOST_SHAPE)
            total = np.where(kind == 2, t_lost, t_move)
            wait[sel] = np.maximum(total - a, 0.0)
            dest[sel] = np.where(kind == 0, k + 1, np.where(kind == 1, k + 2, -1))
        dest = np.where(dest > self.won_index, self.won_index, dest)
        return wait, dest

    def arrivals(self, start: float, end: float, origin: dt.datetime, rng: np.random.Generator,
                 factor: float = 1.0) -> np.ndarray:
        """Arrival times (days from ``origin``) in ``[start, end)``, weekday pattern applied."""
        out = []
        day = np.floor(start)
        while day < end:
            weekday = (origin + dt.timedelta(days=float(day))).weekday()
            lo, hi = max(day, start), min(day + 1, end)
            n = rng.poisson(self.leads_per_day * factor * WEEKDAY_FACTORS[weekday] * (hi - lo))
            out.append(lo + rng.random(n) * (hi - lo))
            day += 1
        return np.sort(np.concatenate(out)) if out else np.zeros(0)


def run_paths(process: Process, stage: np.ndarray, age: np.ndarray, start: np.ndarray,
              rng: np.random.Generator, horizon: float = np.inf):
    """Every stage entry (deal, stage, time), won time and lost time, moving until closed."""
    n = stage.shape[0]
    entries = [(np.arange(n), stage.copy(), start - age)]
    won_at = np.full(n, np.nan)
    lost_at = np.full(n, np.nan)
    idx, k, a, t = np.arange(n), stage.copy(), age.copy(), start.copy()
    while idx.size:
        wait, dest = process.step(k, a, rng)
        t_exit = t + wait
        lost = dest < 0
        lost_at[idx[lost]] = t_exit[lost]
        mv = ~lost & (t_exit < horizon)
        entries.append((idx[mv], dest[mv], t_exit[mv]))
        won = mv & (dest == process.won_index)
        won_at[idx[won]] = t_exit[won]
        go = mv & ~won
        idx, k, a, t = idx[go], dest[go], np.zeros(int(go.sum())), t_exit[go]
    return entries, won_at, lost_at


@dataclass
class History:
    events: pd.DataFrame
    deals: pd.DataFrame
    as_of: dt.datetime
    open_stage: np.ndarray
    open_age: np.ndarray


def generate_history(process: Process, as_of: dt.datetime, days: int, seed: int) -> History:
    """Deals arriving over ``days`` before ``as_of``, cut at ``as_of`` like a CRM export."""
    rng = np.random.default_rng(seed)
    origin = as_of - dt.timedelta(days=days)
    arrive = process.arrivals(0.0, float(days), origin, rng)
    n = arrive.size
    entries, won_at, lost_at = run_paths(
        process, np.zeros(n, dtype=np.int64), np.zeros(n), arrive, rng
    )
    deal = np.concatenate([e[0] for e in entries])
    stage = np.concatenate([e[1] for e in entries])
    time = np.concatenate([e[2] for e in entries])
    keep = time <= days
    ids = np.array([f"D{i}" for i in range(n)])
    to_ts = lambda x: pd.Timestamp(origin) + pd.to_timedelta(x, unit="D")  # noqa: E731
    events = pd.DataFrame(
        {
            "deal_id": ids[deal[keep]],
            "stage": np.array(process.stage_ids)[stage[keep]],
            "entered_at": to_ts(time[keep]).astype("datetime64[us]"),
        }
    )
    won = won_at <= days
    lost = lost_at <= days
    status = np.where(won, "won", np.where(lost, "lost", "open"))
    closed = np.where(won, won_at, np.where(lost, lost_at, np.nan))
    amounts = rng.lognormal(process.amount_mu, process.amount_sigma, n)
    deals = pd.DataFrame(
        {
            "deal_id": ids,
            "created_at": to_ts(arrive).astype("datetime64[us]"),
            "status": status,
            "closed_at": to_ts(closed).astype("datetime64[us]"),
            "amount": amounts,
        }
    )
    # The state at as_of: the current stage of every open deal and its age there.
    last = pd.DataFrame({"deal": deal[keep], "stage": stage[keep], "time": time[keep]})
    last = last.sort_values("time").groupby("deal").last()
    is_open = status[last.index.to_numpy()] == "open"
    return History(
        events=events,
        deals=deals,
        as_of=as_of,
        open_stage=last["stage"].to_numpy()[is_open],
        open_age=days - last["time"].to_numpy()[is_open],
    )


def truth_forward(process: Process, history: History, period_end: dt.datetime, n_sims: int,
                  seed: int) -> np.ndarray:
    """Deals won from ``as_of`` to ``period_end`` in each of ``n_sims`` runs of the true process."""
    rng = np.random.default_rng(seed)
    horizon = (period_end - history.as_of).total_seconds() / 86400
    n_open = history.open_stage.size
    sims, times = [np.repeat(np.arange(n_sims), n_open)], [np.zeros(n_open * n_sims)]
    day = 0.0
    while day < horizon:
        weekday = (history.as_of + dt.timedelta(days=day)).weekday()
        length = min(np.floor(day) + 1, horizon) - day
        counts = rng.poisson(process.leads_per_day * WEEKDAY_FACTORS[weekday] * length, n_sims)
        sims.append(np.repeat(np.arange(n_sims), counts))
        times.append(day + rng.random(int(counts.sum())) * length)
        day = np.floor(day) + 1
    sim = np.concatenate(sims)
    start = np.concatenate(times)
    n_new = start.size - n_open * n_sims
    stage = np.concatenate([np.tile(history.open_stage, n_sims), np.zeros(n_new, dtype=np.int64)])
    age = np.concatenate([np.tile(history.open_age, n_sims), np.zeros(n_new)])
    _, won_at, _ = run_paths(process, stage, age, start, rng, horizon)
    return np.bincount(sim[won_at < horizon], minlength=n_sims)
