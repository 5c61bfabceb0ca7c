"""The audit result: one frozen object with a field per section of the JSON contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voronka.audit.anomalies import Anomaly, ConversionSeries
from voronka.audit.entry import EntryCriteria
from voronka.audit.forecast import Forecast
from voronka.audit.funnel_result import FunnelReport
from voronka.audit.key_stage_result import KeyStage
from voronka.audit.leaks import Leak
from voronka.audit.lost_reasons import LostReason
from voronka.audit.maturity import MaturityReport
from voronka.audit.pileups import Pileup
from voronka.audit.quality_result import DataQuality
from voronka.audit.reverse import ReverseFunnel, ReverseFunnelRow
from voronka.audit.serialize import to_plain
from voronka.audit.sources import SourceEconomics
from voronka.audit.statuses import StatusVerdict
from voronka.audit.stuck import StuckReport
from voronka.audit.what_if import WhatIf

SCHEMA_VERSION = 1

@dataclass(frozen=True)
class AuditResult:
    """Everything the audit found. Each field is one section of the JSON contract.

    Attributes:
        as_of: the moment the data describes.
        funnel: reach, conversion and time in stage.
        data_quality: rows read, used and rejected per file, and issues by kind.
        leaks: stages and segments losing deals, most costly first.
        anomalies: significant shifts in conversion or volume.
        sources: traffic-source economics.
        statuses: result-or-process verdict on each stage name.
        stuck: open deals past their stage's limit.
        pileups: stages where deals accumulate.
        entry_criteria: deals missing data their stage requires.
        key_stage: the stage that decides the sales (None until computed).
        forecast: plan probability (None without a plan).
        reverse_funnel: what each stage needs for the plan (None without a plan).
        language: the language people-facing output defaults to (``ru`` or ``en``).
        maturity: raw and mature conversion per stage, with the horizons used (an extension of
            the contract; None when it could not be computed).
        reverse_funnel_detail: the whole planning table behind ``reverse_funnel``: leads needed,
            their cost per source at the current CPL, the conversions used (None without a plan).
        series: funnel-wide settled conversion per period for each step, with intervals and
            p-chart limits (the series the anomaly scan reads; for charts).
        lost_reasons: why deals were lost, per stage, with significant recent changes.
        what_if: the forecast if the costliest funnel-level leaks closed (each stage at its
            target), from the forecast's own model (:mod:`voronka.audit.what_if`); more with
            :func:`voronka.what_if`.
    """

    as_of: datetime
    funnel: FunnelReport
    data_quality: DataQuality
    leaks: tuple[Leak, ...] = ()
    anomalies: tuple[Anomaly, ...] = ()
    sources: tuple[SourceEconomics, ...] = ()
    statuses: tuple[StatusVerdict, ...] = ()
    stuck: StuckReport = field(default_factory=StuckReport)
    pileups: tuple[Pileup, ...] = ()
    entry_criteria: tuple[EntryCriteria, ...] = ()
    key_stage: KeyStage | None = None
    forecast: Forecast | None = None
    reverse_funnel: tuple[ReverseFunnelRow, ...] | None = None
    language: str = "ru"
    maturity: MaturityReport | None = None
    reverse_funnel_detail: ReverseFunnel | None = None
    series: tuple[ConversionSeries, ...] = ()
    lost_reasons: tuple[LostReason, ...] = ()
    what_if: tuple[WhatIf, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (schema_version 1) as plain data."""
        out: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        plain = to_plain(self)
        assert isinstance(plain, dict)
        out.update(plain)
        return out

    def _repr_html_(self) -> str:
        """The HTML report, for Jupyter (the report is imported here, when a notebook asks)."""
        import importlib

        # By name: the audit layer does not import the report layer; a notebook asking for the
        # report is the one place where a result needs it.
        report = importlib.import_module("voronka.report")
        html: str = report.render_html(self)
        return html
