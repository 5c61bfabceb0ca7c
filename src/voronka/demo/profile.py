"""The parameters of the demo company: stages, sources, managers, and the effects tests can plant.

Everything here is plain data. :mod:`voronka.demo.generate` turns it into a CRM history; the
:class:`DemoTruth` of a generated data set records the values actually used, so tests can compare
what the audit finds with what was planted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

STAGE_IDS: tuple[str, ...] = (
    "new_request",
    "qualified",
    "meeting_scheduled",
    "meeting_held",
    "sent_to_work",
    "design_approved",
    "invoice_sent",
    "prepayment_received",
    "in_production",
    "delivered",
    "paid",
)
"""The 11 stages of the reference funnel (``load_template("reference")``), in order."""

BASE_CONVERSION: Mapping[str, float] = {
    "new_request": 0.55,  # reach the client at all: the calling stage loses most
    "qualified": 0.60,
    "meeting_scheduled": 0.80,
    "meeting_held": 0.65,
    "sent_to_work": 0.72,
    "design_approved": 0.86,
    "invoice_sent": 0.75,
    "prepayment_received": 0.97,
    "in_production": 0.97,
    "delivered": 0.95,
}
"""Conversion from each stage to the next for an average source and manager."""

MEAN_DAYS: Mapping[str, float] = {
    "new_request": 1.2,
    "qualified": 3.0,
    "meeting_scheduled": 5.0,
    "meeting_held": 4.0,
    "sent_to_work": 8.0,
    "design_approved": 3.0,
    "invoice_sent": 6.0,
    "prepayment_received": 2.0,
    "in_production": 14.0,
    "delivered": 6.0,
}
"""Mean working days (11 working hours each) a deal that moves on spends in each stage (gamma)."""

GAMMA_SHAPE = 1.8
"""Shape of the gamma distribution of days in stage (right-skewed, mode above zero)."""

STALL_SHARE = 0.04
"""Share of deals that fail at a stage but are never closed in the CRM: they stay open, stuck."""

PROCESS_STAGE_SLOWDOWN = 3.0
"""How much longer deals stay in a stage with a process name ("Думают")."""

PROCESS_STAGE_STALL_SHARE = 0.35
"""Share of failing deals that are never closed when their stage has a process name."""

LOST_STAGE_NAME = "Закрыто и не реализовано"
"""The stage name of a lost event (an outcome of the reference funnel)."""

LOST_EVENT_SHARE = 0.5
"""Share of lost deals whose history has a lost event (the others are lost by status only)."""


@dataclass(frozen=True)
class SourceProfile:
    """One traffic source of the demo company.

    Attributes:
        name: the source as the CRM writes it.
        share: share of leads at the start of the period.
        conversion: multipliers of the base conversion for some stages (the rest are 1).
        median_amount: median deal amount, roubles (amounts are lognormal).
        cost_per_lead: ad spend per lead, roubles; None for sources without spend.
        campaigns: advertising campaigns of the source (their spend shares are equal).
    """

    name: str
    share: float
    conversion: Mapping[str, float]
    median_amount: float
    cost_per_lead: float | None
    campaigns: tuple[str, ...] = ()


SOURCES: tuple[SourceProfile, ...] = (
    SourceProfile(
        "Яндекс Директ", 0.28, {"new_request": 0.95, "qualified": 0.95}, 160_000, 2_400,
        ("Поиск — бренд", "Поиск — общие", "РСЯ"),
    ),
    SourceProfile(
        "Google Ads", 0.14, {"new_request": 0.9, "qualified": 0.9}, 180_000, 3_100,
        ("Search — общие", "Performance Max"),
    ),
    SourceProfile("SEO", 0.20, {"new_request": 1.05}, 200_000, None),
    SourceProfile(
        "Рекомендации", 0.10,
        {"new_request": 1.45, "qualified": 1.3, "meeting_held": 1.15}, 280_000, None,
    ),
    SourceProfile(
        "Выставки", 0.08, {"new_request": 1.2, "qualified": 1.1}, 420_000, 9_000,
        ("Выставка «Металлообработка»", "Выставка «Иннопром»"),
    ),
    SourceProfile(
        "Холодные звонки", 0.20, {"new_request": 0.6, "qualified": 0.85}, 130_000, 900,
        ("Колл-центр",),
    ),
)
"""The six traffic sources: different volumes, conversions, deal sizes and spend."""

SOURCE_NAMES: tuple[str, ...] = tuple(s.name for s in SOURCES)
"""Names of the six sources."""

EXHIBITION_MONTHS = (3, 9, 11)
"""Calendar months with trade shows: the "Выставки" source brings leads (and costs) mostly then."""


@dataclass(frozen=True)
class ManagerProfile:
    """One sales manager.

    Attributes:
        name: as the CRM writes it (``Ответственный``).
        share: share of leads assigned to the manager.
        skill: multiplier of the conversion of the calling and meeting stages.
    """

    name: str
    share: float
    skill: float


MANAGERS: tuple[ManagerProfile, ...] = (
    ManagerProfile("Смирнов Алексей", 0.13, 1.06),
    ManagerProfile("Иванова Мария", 0.12, 1.04),
    ManagerProfile("Кузнецов Дмитрий", 0.11, 1.00),
    ManagerProfile("Попова Елена", 0.11, 1.02),
    ManagerProfile("Васильев Сергей", 0.10, 1.00),
    ManagerProfile("Петрова Анна", 0.10, 0.99),
    ManagerProfile("Соколов Андрей", 0.09, 0.97),
    ManagerProfile("Михайлова Ольга", 0.09, 1.03),
    ManagerProfile("Новиков Павел", 0.08, 0.96),
    ManagerProfile("Фёдорова Наталья", 0.07, 0.98),
)
"""The ten managers, with mildly different skills."""

MANAGER_NAMES: tuple[str, ...] = tuple(m.name for m in MANAGERS)
"""Names of the ten managers."""

SKILL_STAGES = ("new_request", "qualified", "meeting_scheduled", "meeting_held", "invoice_sent")
"""Stages whose conversion depends on the manager's skill (calls, meetings, closing)."""

LOST_REASONS: tuple[tuple[tuple[str, float], ...], ...] = (
    # early stages: the client was not reached or is not a client
    (("Не дозвонились", 0.35), ("Нецелевой запрос", 0.25), ("Нет бюджета", 0.2),
     ("Дорого", 0.1), ("Выбрали конкурента", 0.1)),
    # meetings and proposals
    (("Дорого", 0.3), ("Выбрали конкурента", 0.3), ("Нет бюджета", 0.15),
     ("Отложили покупку", 0.15), ("Не устроили сроки", 0.1)),
    # invoice and later
    (("Дорого", 0.25), ("Выбрали конкурента", 0.35), ("Отложили покупку", 0.2),
     ("Не устроили сроки", 0.2)),
)
"""Lost reasons and their weights for stages 0–1, 2–4 and 5+ (10% of lost deals have none)."""

MEETING_PLACES = (
    "Офис клиента", "Производство клиента", "Склад клиента", "Объект клиента", "Наш офис",
)
"""Values of the ``meeting_place`` deal column."""


# -- plantable effects ------------------------------------------------------------------------


@dataclass(frozen=True)
class ManagerLeak:
    """One manager converts a stage worse (or better) than the others.

    Attributes:
        manager: the manager's name (one of :data:`MANAGER_NAMES`).
        stage: the stage id whose conversion to the next stage changes.
        factor: multiplier of that conversion (0.5 halves it).
    """

    manager: str
    stage: str
    factor: float


@dataclass(frozen=True)
class ConversionShift:
    """A source's conversion changes from a date on (deals created on or after it).

    Attributes:
        source: the source's name (one of :data:`SOURCE_NAMES`).
        stage: the stage id whose conversion to the next stage changes; None: every stage.
        start: deals created on or after this date convert differently.
        factor: multiplier of the conversion (above 1: better, below 1: worse).
    """

    source: str
    stage: str | None
    start: date
    factor: float


@dataclass(frozen=True)
class VolumeShift:
    """A source's lead volume changes from a date on.

    Attributes:
        source: the source's name.
        start: the first day of the new volume.
        factor: multiplier of the source's daily lead intensity.
    """

    source: str
    start: date
    factor: float


@dataclass(frozen=True)
class DemoEffects:
    """What to plant in the demo data (see :func:`voronka.demo.generate_demo`).

    Attributes:
        manager_leaks: managers who convert one stage differently.
        conversion_shifts: sources whose conversion moves up or down from a date.
        volume_shifts: sources whose lead volume moves from a date.
        process_stages: stage id → a process name the CRM uses for it (``"Думают"``); such stages
            also hold deals longer and more of their failing deals are never closed (pile-ups).
        key_stage: a stage id after which winning is near-certain (conversion 0.985 from it on),
            while the stages before it convert lower and noisily (month-to-month noise).
        stable: constant rates: every source and manager converts alike, no growth, seasonality
            or trade-show months (for false-positive tests); planted effects still apply.
        data_errors: plant data-entry errors (bad dates, unknown stages, duplicates, events before
            creation, events without a deal, deals without events).
    """

    manager_leaks: tuple[ManagerLeak, ...] = ()
    conversion_shifts: tuple[ConversionShift, ...] = ()
    volume_shifts: tuple[VolumeShift, ...] = ()
    process_stages: Mapping[str, str] = field(default_factory=dict)
    key_stage: str | None = None
    stable: bool = False
    data_errors: bool = True

    @classmethod
    def default(cls, start: date = date(2025, 5, 1), months: int = 18) -> DemoEffects:
        """The demo's story: a manager who loses leads on the first call, Google Ads getting
        better at qualification from the middle of the period, Яндекс Директ bringing worse
        leads from two thirds of it on."""
        return cls(
            manager_leaks=(ManagerLeak("Кузнецов Дмитрий", "new_request", 0.55),),
            conversion_shifts=(
                ConversionShift("Google Ads", "qualified", add_months(start, months * 4 // 9), 1.4),
                ConversionShift(
                    "Яндекс Директ", "new_request", add_months(start, months * 2 // 3), 0.7
                ),
            ),
        )

    @classmethod
    def stable_funnel(cls, *, data_errors: bool = True) -> DemoEffects:
        """A funnel with constant rates and nothing planted: the audit should find nothing."""
        return cls(stable=True, data_errors=data_errors)

    def validate(self) -> None:
        """Raise ``ValueError`` when an effect names an unknown manager, source or stage."""
        conv_stages = set(BASE_CONVERSION)
        for leak in self.manager_leaks:
            _check(leak.manager, MANAGER_NAMES, "manager")
            _check(leak.stage, conv_stages, "stage with a next stage")
        for shift in self.conversion_shifts:
            _check(shift.source, SOURCE_NAMES, "source")
            if shift.stage is not None:
                _check(shift.stage, conv_stages, "stage with a next stage")
        for vol in self.volume_shifts:
            _check(vol.source, SOURCE_NAMES, "source")
        for stage_id in self.process_stages:
            _check(stage_id, STAGE_IDS, "stage")
        if self.key_stage is not None:
            _check(self.key_stage, STAGE_IDS[1:-1], "intermediate stage")


def _check(value: str, known: object, what: str) -> None:
    if value not in known:  # type: ignore[operator]
        raise ValueError(f"unknown {what} {value!r}")


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# -- what was generated -----------------------------------------------------------------------


@dataclass(frozen=True)
class PlantedErrors:
    """The data-entry errors planted in the events (deal ids are strings as in the frames).

    Attributes:
        bad_dates: event rows whose date is unreadable text ("31.02.2025", "вчера", empty).
        unknown_stage_rows: event rows whose stage name matches no stage (typos, old stages).
        unknown_stage_names: the distinct unknown names used.
        duplicate_rows: event rows that repeat another row exactly.
        events_before_created: deals with an event dated before the deal was created.
        backward_moves: deals that went back to an earlier stage once.
        skipped_stages: deals whose history skips a stage (it entered a later one).
        events_without_deal: deal ids that have events but no row in the deals table.
        deals_without_events: deals with no event at all.
        missing_meeting_at: deals that reached ``meeting_scheduled`` without ``meeting_at``.
        missing_meeting_place: deals that reached ``meeting_scheduled`` without ``meeting_place``.
    """

    bad_dates: int
    unknown_stage_rows: int
    unknown_stage_names: tuple[str, ...]
    duplicate_rows: int
    events_before_created: tuple[str, ...]
    backward_moves: tuple[str, ...]
    skipped_stages: tuple[str, ...]
    events_without_deal: tuple[str, ...]
    deals_without_events: tuple[str, ...]
    missing_meeting_at: int
    missing_meeting_place: int


@dataclass(frozen=True)
class DemoTruth:
    """The parameters the demo data was generated with.

    Attributes:
        seed: the random seed.
        n_deals: deals generated (rows of the deals table).
        start: the first day of lead arrival.
        months: months of lead arrival.
        as_of: the moment the data describes (the end of the period; nothing is later).
        effects: the planted effects (:class:`DemoEffects`).
        stage_names: stage id → the name the CRM writes (process names applied).
        conversion: stage id → base conversion to the next stage as used (key-stage mode changes it).
        mean_days: stage id → mean days in stage before moving on (process stages slowed down).
        source_share: source → share of leads at the start.
        source_conversion: source → {stage id: multiplier of the base conversion} (all 1 if stable).
        source_median_amount: source → median deal amount, roubles.
        source_cost_per_lead: source → spend per lead (None: no spend).
        manager_skill: manager → multiplier on :data:`SKILL_STAGES` (all 1 if stable).
        errors: the planted data-entry errors.
    """

    seed: int
    n_deals: int
    start: date
    months: int
    as_of: datetime
    effects: DemoEffects
    stage_names: Mapping[str, str]
    conversion: Mapping[str, float]
    mean_days: Mapping[str, float]
    source_share: Mapping[str, float]
    source_conversion: Mapping[str, Mapping[str, float]]
    source_median_amount: Mapping[str, float]
    source_cost_per_lead: Mapping[str, float | None]
    manager_skill: Mapping[str, float]
    errors: PlantedErrors
