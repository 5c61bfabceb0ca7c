"""What the server keeps between requests: each dataset's log on the engine and recent audits.

A :class:`Workspace` belongs to one app (no module-level state). Reading a dataset and putting it
on the engine is done once; each distinct filter's audit is computed once and kept in a bounded
LRU cache. Engine work is serialised by one lock: a DuckDB connection is not shared between
threads mid-query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from voronka import api
from voronka.audit import AuditResult
from voronka.audit.compare import PeriodComparison, compare_funnels, previous_period
from voronka.engine import (
    DealFilter,
    DealPage,
    DealSelection,
    EventLog,
    apply_filter,
    deal_page,
)
from voronka.errors import Msg, UsageError
from voronka.web.store import Dataset, Store, shape_key

NOT_DATA_SUFFIXES = (".toml", ".json", ".md", ".html", ".pdf", ".png", ".jpg")
"""Files of a dataset folder that do not hold data (the funnel file is ``*.toml``); the readers
tell the format of the others by their first bytes, not their names."""


@dataclass(frozen=True)
class Query:
    """What a page or API call asks of a dataset: the filter, the breakdown and the plan.

    Attributes:
        flt: which deals (period, column values).
        by: breakdown columns for leaks and anomalies.
        plan: won deals wanted (None: the saved plan).
        lang: the language of people-facing text.
    """

    flt: DealFilter = field(default_factory=DealFilter)
    by: tuple[str, ...] = ()
    plan: float | None = None
    lang: str = "ru"

    def key(self) -> tuple[object, ...]:
        """A hashable key (for the cache)."""
        return (self.flt.key(), self.by, self.plan, self.lang)


@dataclass
class Loaded:
    """A dataset on the engine.

    Attributes:
        dataset: the stored dataset.
        inputs: what was read from its files.
        log: the event log with its funnel.
    """

    dataset: Dataset
    inputs: api.Inputs
    log: EventLog


def data_files(folder: Path) -> list[Path]:
    """The data files of a dataset folder (recursively: a ZIP may hold a folder)."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() not in NOT_DATA_SUFFIXES and not p.name.startswith(".")
    )


def dataset_source(folder: Path) -> Path:
    """What to read for a dataset: its one data file, else the folder holding its files."""
    files = data_files(folder)
    if len(files) == 1:
        return files[0]
    parents = {p.parent for p in files}
    return parents.pop() if len(parents) == 1 else folder


class UnknownDataset(LookupError):
    """No dataset has this id."""


class NothingToCompare(Exception):
    """The period compared with holds no deal (the current one does): not an error of the
    request, a fact the page and the API state in words."""

    def __init__(self, kind: str, current: tuple[date, date], previous: tuple[date, date]) -> None:
        super().__init__(f"no deal in {previous[0]} to {previous[1]}")
        self.kind = kind
        self.current = current
        self.previous = previous

    def message(self, lang: str) -> str:
        """What the page says, in ``lang``."""
        from voronka.i18n import t

        return t(f"web.compare.nothing.{self.kind}", lang, start=self.previous[0].isoformat(),
                 end=self.previous[1].isoformat())

    def to_dict(self, lang: str) -> dict[str, object]:
        """The API's answer: the periods, ``nothing_to_compare`` and the message."""
        return {
            "kind": self.kind,
            "current_from": self.current[0].isoformat(),
            "current_to": self.current[1].isoformat(),
            "previous_from": self.previous[0].isoformat(),
            "previous_to": self.previous[1].isoformat(),
            "nothing_to_compare": True,
            "message": self.message(lang),
            "counts": [],
            "steps": [],
        }


class Workspace:
    """Loaded datasets and a bounded cache of audits (see the module docstring)."""

    def __init__(self, store: Store, *, cache_size: int = 64, seed: int = 0) -> None:
        """``cache_size``: audits kept (least recently used dropped first)."""
        self.store = store
        self.lock = threading.RLock()
        self._loaded: dict[str, Loaded] = {}
        self._audits: OrderedDict[tuple[object, ...], AuditResult] = OrderedDict()
        self._filtered: OrderedDict[tuple[object, ...], EventLog] = OrderedDict()
        self._pages: OrderedDict[tuple[object, ...], Any] = OrderedDict()
        self._cache_size = cache_size
        self._seed = seed

    def column_map(self, folder: Path) -> dict[str, str] | None:
        """The mapping saved for the shape of the dataset's (single) file, if any."""
        files = data_files(folder)
        if len(files) != 1:
            return None
        from voronka.io.raw import read_raw

        headers = [c for c in read_raw(files[0]).table.column_names if c != "_row"]
        return self.store.mapping_for(shape_key(headers))

    def load(self, dataset_id: str) -> Loaded:
        """The dataset on the engine (read once); :class:`UnknownDataset` when unknown."""
        with self.lock:
            if dataset_id in self._loaded:
                return self._loaded[dataset_id]
            dataset = self.store.dataset(dataset_id)
            if dataset is None:
                raise UnknownDataset(dataset_id)
            funnel_text = self.store.funnel_text(dataset_id)
            funnel: Any = None
            if funnel_text is not None:
                import tomllib

                from voronka.funnel import funnel_from_dict

                funnel = funnel_from_dict(tomllib.loads(funnel_text), file="funnel.toml")
            inputs = api.read_inputs(
                dataset_source(dataset.folder), column_map=self.column_map(dataset.folder)
            )
            log = api.log_of(inputs, funnel)
            loaded = Loaded(dataset, inputs, log)
            self._loaded[dataset_id] = loaded
            return loaded

    def deal_url(self, dataset_id: str) -> str | None:
        """The funnel file's ``deal_url`` template (``…/leads/detail/{deal_id}``), if any."""
        import tomllib

        text = self.store.funnel_text(dataset_id)
        if text is None:
            dataset = self.store.dataset(dataset_id)
            files = sorted(dataset.folder.rglob("*.toml")) if dataset is not None else []
            text = files[0].read_text(encoding="utf-8-sig") if files else None
        try:
            url = tomllib.loads(text).get("deal_url") if text else None
        except tomllib.TOMLDecodeError:
            return None
        ok = isinstance(url, str) and url.startswith(("https://", "http://")) and "{deal_id}" in url
        return url if ok else None

    def forget(self, dataset_id: str) -> None:
        """Drop a dataset's log and audits (after its mapping or funnel changed)."""
        with self.lock:
            self._loaded.pop(dataset_id, None)
            for cache in (self._audits, self._filtered, self._pages):
                for key in [k for k in cache if k[0] == dataset_id]:
                    del cache[key]

    def _remember(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > self._cache_size:
            cache.popitem(last=False)

    def memo(self, key: tuple[object, ...], build: Callable[[], Any]) -> Any:
        """``build()`` kept under ``key`` (its first item the dataset id), e.g. a rendered panel:
        an audit does not change until its dataset does."""
        with self.lock:
            if key in self._pages:
                self._pages.move_to_end(key)
                return self._pages[key]
        value = build()
        with self.lock:
            self._remember(self._pages, key, value)
        return value

    def filtered_log(self, dataset_id: str, flt: DealFilter) -> EventLog:
        """The dataset's log restricted to ``flt`` (kept for the next page of deals)."""
        with self.lock:
            loaded = self.load(dataset_id)
            if flt.empty:
                return loaded.log
            key = (dataset_id, flt.key())
            if key in self._filtered:
                self._filtered.move_to_end(key)
                return self._filtered[key]
            log = apply_filter(loaded.log, flt)
            self._remember(self._filtered, key, log)
            return log

    def audit(self, dataset_id: str, query: Query) -> AuditResult:
        """The audit of the dataset under ``query`` (computed once per distinct query) — the same
        call as ``voronka audit --from --to --where`` makes."""
        with self.lock:
            key = (dataset_id, query.key())
            if key in self._audits:
                self._audits.move_to_end(key)
                return self._audits[key]
            loaded = self.load(dataset_id)
            saved = self.store.plan_for(dataset_id)
            plan = query.plan if query.plan is not None else saved.plan
            result = api.audit_log(
                self.filtered_log(dataset_id, query.flt),
                loaded.inputs.reads,
                notes=loaded.inputs.limitations,
                by=query.by or None,
                plan=plan,
                plan_revenue=None if plan is not None else saved.plan_revenue,
                plan_from=saved.plan_from,
                plan_until=saved.plan_until,
                lang=query.lang,
                seed=self._seed,
            )
            self._remember(self._audits, key, result)
            return result

    def has_audit(self, dataset_id: str, query: Query) -> bool:
        """Whether the audit of ``query`` is at hand (a page can then show it at once). Read
        without the engine lock, so it answers while another audit is being computed."""
        return (dataset_id, query.key()) in self._audits

    def loaded_now(self, dataset_id: str) -> Loaded:
        """The dataset on the engine: without waiting for the engine lock when it is loaded
        already (a page that shows no number need not wait for another request's audit)."""
        found = self._loaded.get(dataset_id)
        return found if found is not None else self.load(dataset_id)

    def peek(self, key: tuple[object, ...]) -> Any:
        """What :meth:`memo` keeps under ``key``, or None; without waiting for the engine lock."""
        return self._pages.get(key)

    def deals(
        self, dataset_id: str, query: Query, selection: DealSelection, **page: Any
    ) -> DealPage:
        """A bounded page of the deals behind a number (see :func:`voronka.engine.deal_page`)."""
        with self.lock:
            return deal_page(self.filtered_log(dataset_id, query.flt), selection, **page)

    def compare(self, dataset_id: str, query: Query, kind: str) -> PeriodComparison:
        """The query's period against the previous one (or a year earlier);
        :class:`NothingToCompare` when that one holds no deal."""
        start, end = query.flt.created_from, query.flt.created_to
        if start is None or end is None:
            raise UsageError(
                Msg("errors.raised.a_comparison_needs_a_period"),
                expected=Msg("errors.expected.from_and_to_dates"),
            )
        before = previous_period(start, end, kind)
        prior = replace(query, flt=replace(query.flt, created_from=before[0], created_to=before[1]))
        now = self.audit(dataset_id, query)
        try:
            then = self.audit(dataset_id, prior)
        except UsageError:
            # The current period, with the same conditions, has deals: the earlier one has none.
            raise NothingToCompare(kind, (start, end), before) from None
        return compare_funnels(
            now.funnel, then.funnel, kind=kind, current_period=(start, end), previous_period=before
        )


def period_of(value: str | None) -> date | None:
    """An ISO date from a query string (None when blank)."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            Msg("errors.raised.is_not_a_date_2", value=repr(value)),
            expected=Msg("errors.expected.yyyy_mm_dd"),
        ) from None
