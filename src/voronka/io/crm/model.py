"""What every connector hands to the writer: pipelines, deals and stage entries, CRM-neutral."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Outcome = Literal["open", "won", "lost"]


@dataclass(frozen=True)
class CrmStage:
    """One stage of a CRM pipeline.

    Attributes:
        key: the CRM's stage id (amoCRM status id, Bitrix24 ``STATUS_ID``, HubSpot stage id,
            Pipedrive stage id; ``won``/``lost`` for Pipedrive's status outcomes).
        name: the stage's name in the CRM.
        outcome: ``open`` for a stage of the line, ``won`` or ``lost`` for a closing stage.
        order: the CRM's sort position (smaller first).
    """

    key: str
    name: str
    outcome: Outcome
    order: float


@dataclass(frozen=True)
class CrmPipeline:
    """A pipeline (amoCRM ``воронка``, Bitrix24 ``направление``) with its stages.

    Attributes:
        key: the CRM's pipeline id, as a string.
        name: the pipeline's name.
        is_main: whether the CRM calls it the main (default) pipeline.
        order: the CRM's sort position.
        stages: every stage, open and closing.
    """

    key: str
    name: str
    is_main: bool
    order: float
    stages: tuple[CrmStage, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form, for the pull's staging files."""
        return {
            "key": self.key, "name": self.name, "is_main": self.is_main, "order": self.order,
            "stages": [
                {"key": s.key, "name": s.name, "outcome": s.outcome, "order": s.order}
                for s in self.stages
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CrmPipeline:
        """Inverse of :meth:`to_json`."""
        return cls(
            key=str(data["key"]), name=str(data["name"]), is_main=bool(data["is_main"]),
            order=float(data["order"]),
            stages=tuple(
                CrmStage(str(s["key"]), str(s["name"]), s["outcome"], float(s["order"]))
                for s in data["stages"]
            ),
        )


@dataclass(frozen=True)
class DealRow:
    """One deal in the canonical columns of ``deals.csv`` (docs/internals.md).

    Attributes:
        deal_id: the CRM's deal id.
        pipeline_key: the deal's current pipeline id (written as the pipeline's name).
        status: ``open``, ``won`` or ``lost``.
        created_at: when the deal was created (UTC).
        closed_at: when it was won or lost (UTC), None while open.
        amount: the deal's amount (budget, value).
        manager: the responsible user (the CRM's user id).
        source: where the deal came from (UTM source, else the CRM's source/channel).
        utm_source: ``utm_source`` where the CRM keeps it.
        utm_medium: ``utm_medium`` where the CRM keeps it.
        utm_campaign: ``utm_campaign`` (or the CRM's campaign) where it keeps one.
        lost_reason: why a lost deal was lost.
    """

    deal_id: str
    pipeline_key: str
    status: Outcome
    created_at: datetime | None = None
    closed_at: datetime | None = None
    amount: float | None = None
    manager: str | None = None
    source: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    lost_reason: str | None = None


@dataclass(frozen=True)
class StageEntry:
    """A deal entering a stage: one row of ``events.csv`` once the stage has its name.

    Attributes:
        deal_id: the deal.
        pipeline_key: the pipeline the stage belongs to (None: find it by the stage key).
        stage_key: the CRM's stage id.
        entered_at: when the deal entered the stage (UTC).
    """

    deal_id: str
    pipeline_key: str | None
    stage_key: str
    entered_at: datetime


@dataclass(frozen=True)
class Pulled:
    """What one run of a connector fetched, ready to merge into the folder.

    Attributes:
        pipelines: every pipeline of the account, main first.
        deals: deals created or changed in the window of the run.
        entries: stage entries found in the run.
    """

    pipelines: tuple[CrmPipeline, ...]
    deals: tuple[DealRow, ...]
    entries: tuple[StageEntry, ...]


@dataclass(frozen=True)
class Page:
    """One page of one phase of a pull.

    Attributes:
        records: JSON-able records to stage (the connector's own shape).
        next_cursor: the cursor to resume the phase after this page (JSON-able).
        done: whether the phase is complete after this page.
        total: how many records the phase holds in all, when the CRM says.
    """

    records: list[dict[str, Any]]
    next_cursor: Any
    done: bool
    total: int | None = None


@dataclass(frozen=True)
class RunWindow:
    """The span of time one pull covers.

    Attributes:
        since: fetch what changed at or after this instant (UTC); None: everything.
        until: the pull's start (UTC): the next incremental pull starts here.
        marks: high-water marks the previous pull left (e.g. Bitrix24's last history id).
    """

    since: datetime | None
    until: datetime
    marks: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PullProgress:
    """Where a pull is, for a progress bar.

    Attributes:
        phase: the phase running (``pipelines``, ``deals``, ``events`` …).
        records: records fetched in this phase so far (in this run and any run it resumes).
        total: the phase's record count when the CRM tells it, else None.
        requests: HTTP requests sent so far in this run.
    """

    phase: str
    records: int
    total: int | None
    requests: int


ProgressCallback = Callable[[PullProgress], None]
"""Called after every page a pull fetches."""


@dataclass(frozen=True)
class PullSummary:
    """What a pull did.

    Attributes:
        crm: ``amocrm``, ``bitrix24``, ``hubspot`` or ``pipedrive``.
        out_dir: the folder written.
        since: the start of the window fetched (None: the whole history).
        incremental: whether the pull continued from an earlier one in the same folder.
        resumed: whether it resumed an interrupted pull.
        deals_fetched: deals fetched in this pull (created or changed in the window).
        deals_total: deals in ``deals.csv`` after the pull.
        events_added: new rows of ``events.csv`` (stage entries not there before).
        events_total: rows of ``events.csv`` after the pull.
        events_skipped: stage entries dropped because their stage is in no pipeline any more.
        pipelines: pipeline names, the main one first.
        funnel_files: funnel files written, ``funnel.toml`` (the main pipeline) first.
        requests: HTTP requests sent in this run.
    """

    crm: str
    out_dir: Path
    since: datetime | None
    incremental: bool
    resumed: bool
    deals_fetched: int
    deals_total: int
    events_added: int
    events_total: int
    events_skipped: int
    pipelines: tuple[str, ...]
    funnel_files: tuple[str, ...]
    requests: int


def to_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime (a naive one is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def from_unix(value: Any) -> datetime | None:
    """A Unix timestamp in seconds (int or str) as UTC, None when empty."""
    if value in (None, "", 0):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def from_iso(value: Any) -> datetime | None:
    """An ISO 8601 string (``Z``, an offset, or none = UTC; a space for ``T``) as UTC."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    return to_utc(datetime.fromisoformat(text))
