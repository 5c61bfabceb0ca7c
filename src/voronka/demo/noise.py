"""Planting the irregularities of real CRM histories into the demo's events.

Some are how sales really go (stages skipped, a step back); the rest are data-entry errors a
reader must report and survive: unreadable dates, stage names that match no stage, duplicated
rows, events dated before their deal was created, events of deleted deals, deals without history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from voronka.demo import clock
from voronka.demo.clock import US_PER_DAY, US_PER_MINUTE
from voronka.demo.profile import PlantedErrors

LOST_CODE = 11
"""Stage code of a lost event (the 11 stages are 0…10)."""

UNKNOWN_CODE = -1

SKIP_SHARE = 0.05
"""Share of deals with at least three events that skip one intermediate stage."""

BACKWARD_SHARE = 0.01
"""Share of deals with at least three events that go back one stage once."""

BAD_DATE_SHARE = 0.003
UNKNOWN_STAGE_SHARE = 0.001
DUPLICATE_SHARE = 0.002

UNKNOWN_NAMES = ("Старая воронка: КП", "Тест", "Архив")
"""Stage names of no stage: an old pipeline's stage, a test, an archive."""

NAT = np.iinfo(np.int64).min


@dataclass
class EventArrays:
    """Events as parallel arrays: deal index, stage code (0…10, :data:`LOST_CODE`), time in µs.

    Before planting, the stage events of each deal are contiguous and in stage order.
    """

    deal: np.ndarray
    stage: np.ndarray
    time: np.ndarray

    def take(self, rows: np.ndarray) -> EventArrays:
        """The events at ``rows`` (indexes or a boolean mask)."""
        return EventArrays(self.deal[rows], self.stage[rows], self.time[rows])

    def append(self, other: EventArrays) -> EventArrays:
        """These events followed by ``other``."""
        return EventArrays(
            np.concatenate([self.deal, other.deal]),
            np.concatenate([self.stage, other.stage]),
            np.concatenate([self.time, other.time]),
        )


def plant_and_frame(
    rng: np.random.Generator,
    events: EventArrays,
    visible_count: np.ndarray,
    created: np.ndarray,
    deal_ids: np.ndarray,
    stage_names: tuple[str, ...],
    lost_name: str,
    as_of_us: int,
    plant: bool,
    missing_meeting: tuple[int, int],
) -> tuple[pd.DataFrame, PlantedErrors]:
    """Plant skipped stages, backward moves and (when ``plant``) data-entry errors; return the
    events frame, sorted by time, and what was planted.

    ``events`` starts with each deal's stage events (``visible_count[d]`` of them, contiguous, in
    stage order), followed by lost events.
    """
    n = len(deal_ids)
    base_len = int(visible_count.sum())
    offsets = np.concatenate([[0], np.cumsum(visible_count)[:-1]])
    eligible = visible_count >= 3

    # Skipped stages: drop one intermediate stage event (the deal still reached it).
    skip = eligible & (rng.random(n) < SKIP_SHARE)
    skip_deals = np.nonzero(skip)[0]
    skip_k = 1 + (rng.random(len(skip_deals)) * (visible_count[skip_deals] - 2)).astype(np.int64)
    drop = np.zeros(len(events.deal), dtype=bool)
    drop[offsets[skip_deals] + skip_k] = True

    # Backward moves: between entering stage k and k + 1, the deal is put back to k − 1 once.
    back = eligible & ~skip & (rng.random(n) < BACKWARD_SHARE)
    back_deals = np.nonzero(back)[0]
    back_k = 1 + (rng.random(len(back_deals)) * (visible_count[back_deals] - 2)).astype(np.int64)
    t_from = clock.to_work(events.time[offsets[back_deals] + back_k])
    t_to = clock.to_work(events.time[offsets[back_deals] + back_k + 1])
    roomy = t_to - t_from >= 3 * US_PER_MINUTE
    back_deals, back_k, t_from, t_to = (a[roomy] for a in (back_deals, back_k, t_from, t_to))
    back_work = t_from + (rng.uniform(0.2, 0.8, len(back_deals)) * (t_to - t_from)).astype(np.int64)
    back_work -= back_work % US_PER_MINUTE
    back_time = clock.to_wall(np.clip(back_work, t_from + US_PER_MINUTE, t_to - US_PER_MINUTE))
    backward = EventArrays(back_deals, back_k - 1, back_time)

    before_deals = np.array([], dtype=np.int64)
    no_event_deals = np.array([], dtype=np.int64)
    orphans = EventArrays(*(np.array([], dtype=np.int64) for _ in range(3)))
    n_orphans = 0
    if plant:
        taken = skip | back
        # Events dated before their deal was created: the first event a few days early.
        pool = np.nonzero((visible_count >= 2) & ~taken)[0]
        before_deals = rng.choice(pool, size=min(len(pool), max(2, n // 5000)), replace=False)
        early = clock.to_work(events.time[offsets[before_deals]])
        early -= rng.integers(1, 21, len(before_deals)) * clock.WORKDAY_US
        events.time[offsets[before_deals]] = clock.to_wall(early)
        taken[before_deals] = True
        # Deals whose history was lost: no events at all.
        pool = np.nonzero(~taken)[0]
        no_event_deals = rng.choice(pool, size=min(len(pool), max(2, n // 10000)), replace=False)
        drop |= np.isin(events.deal, no_event_deals)
        # Events of deals deleted from the CRM: the deal is not in the deals table.
        n_orphans = max(2, n // 10000)
        lo, hi = clock.to_work(np.array([created.min(), as_of_us - 10 * US_PER_DAY]))
        first = rng.integers(lo, hi, n_orphans)
        first -= first % US_PER_MINUTE
        then = first + rng.integers(1, 5, n_orphans) * clock.WORKDAY_US
        orphans = EventArrays(
            np.repeat(np.arange(n, n + n_orphans), 2),
            np.tile([0, 1], n_orphans),
            clock.to_wall(np.stack([first, then], axis=1)).ravel(),
        )
    del base_len

    ev = events.take(~drop).append(backward).append(orphans)
    all_ids = np.concatenate([
        deal_ids,
        np.array([str(int(deal_ids[-1]) + 1000 + j) for j in range(n_orphans)], dtype=object),
    ])
    names_table = np.array([*stage_names, lost_name], dtype=object)
    names = names_table[ev.stage]
    texts = np.full(len(ev.deal), None, dtype=object)
    time = ev.time.copy()
    unknown_rows = bad_rows = dup_rows = np.array([], dtype=np.int64)
    if plant:
        rows = len(ev.deal)
        stage_rows = np.nonzero(ev.stage != LOST_CODE)[0]
        unknown_rows = rng.choice(
            stage_rows, size=max(2, round(rows * UNKNOWN_STAGE_SHARE)), replace=False
        )
        typos = np.array([_typo(s) for s in stage_names], dtype=object)
        use_typo = rng.random(len(unknown_rows)) < 0.7
        names[unknown_rows] = np.where(
            use_typo,
            typos[ev.stage[unknown_rows]],
            np.array(UNKNOWN_NAMES, dtype=object)[rng.integers(0, 3, len(unknown_rows))],
        )
        clean = np.ones(rows, dtype=bool)
        clean[unknown_rows] = False
        bad_rows = rng.choice(
            np.nonzero(clean)[0], size=max(2, round(rows * BAD_DATE_SHARE)), replace=False
        )
        clean[bad_rows] = False
        texts[bad_rows] = [_bad_date(rng, t) for t in ev.time[bad_rows]]
        dup_rows = rng.choice(
            np.nonzero(clean)[0], size=max(2, round(rows * DUPLICATE_SHARE)), replace=False
        )

    # Export order: by time (a bad date sorts where its true time was), duplicates beside.
    order_rows = np.concatenate([np.arange(len(ev.deal)), dup_rows])
    order = np.lexsort((ev.stage[order_rows], ev.deal[order_rows], ev.time[order_rows]))
    order_rows = order_rows[order]
    time[bad_rows] = NAT
    frame = pd.DataFrame({
        "deal_id": all_ids[ev.deal[order_rows]],
        "stage": names[order_rows],
        "entered_at": time[order_rows].view("datetime64[us]"),
        "entered_at_text": texts[order_rows],
    })
    unknown_names = tuple(sorted(set(names[unknown_rows].tolist())))
    errors = PlantedErrors(
        bad_dates=len(bad_rows),
        unknown_stage_rows=len(unknown_rows),
        unknown_stage_names=unknown_names,
        duplicate_rows=len(dup_rows),
        events_before_created=_ids(deal_ids, before_deals),
        backward_moves=_ids(deal_ids, backward.deal),
        skipped_stages=_ids(deal_ids, skip_deals),
        events_without_deal=tuple(all_ids[n:].tolist()),
        deals_without_events=_ids(deal_ids, no_event_deals),
        missing_meeting_at=missing_meeting[0],
        missing_meeting_place=missing_meeting[1],
    )
    return frame, errors


def _ids(deal_ids: np.ndarray, index: np.ndarray) -> tuple[str, ...]:
    return tuple(deal_ids[np.sort(np.asarray(index, dtype=np.int64))].tolist())


def _typo(name: str) -> str:
    """``name`` with one letter doubled near its middle ("Встреча назнначена")."""
    for i in range(len(name) // 2, len(name)):
        if name[i].isalpha():
            return name[: i + 1] + name[i:]
    return name + name[-1]


def _bad_date(rng: np.random.Generator, time_us: int) -> str:
    """An unreadable date text a person might type instead of the real moment."""
    moment = pd.Timestamp(int(time_us), unit="us")
    hm = f"{moment.hour:02d}:{moment.minute:02d}"
    choices = (
        f"31.02.{moment.year} {hm}",
        f"30.02.{moment.year}",
        f"31.04.{moment.year} {hm}",
        "вчера",
        f"сегодня {hm}",
    )
    return choices[int(rng.integers(0, len(choices)))]
