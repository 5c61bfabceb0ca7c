"""What a CRM connector is: named phases fetched page by page, then assembled into records."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import httpx

from voronka.io.crm.errors import CrmError, CrmRequestError
from voronka.io.crm.http import Clock, CrmHttp
from voronka.io.crm.model import CrmPipeline, Page, Pulled, RunWindow
from voronka.io.crm.store import Staging


class Connector(ABC):
    """One CRM's pull.

    A pull runs :attr:`phases` in order. :meth:`fetch` returns one page of a phase from a cursor
    (None at the phase's start); the runner stages the page and saves the next cursor, so a pull
    can stop anywhere and resume. When every phase is done, :meth:`assemble` turns the staged
    records into pipelines, deals and stage entries.
    """

    crm: ClassVar[str]
    """The CRM's name (``amocrm`` …)."""

    phases: ClassVar[tuple[str, ...]]
    """The phases, in the order they run."""

    def __init__(self, http: CrmHttp, window: RunWindow, staging: Staging) -> None:
        self.http = http
        self.window = window
        self.staging = staging

    @classmethod
    @abstractmethod
    def connect(
        cls, credentials: Mapping[str, str], *, clock: Clock, client: httpx.Client | None
    ) -> CrmHttp:
        """The HTTP client for the account the credentials name (checks the token locally when
        it can, e.g. an expired JWT)."""

    @abstractmethod
    def fetch(self, phase: str, cursor: Any) -> Page:
        """One page of ``phase`` from ``cursor``."""

    @abstractmethod
    def assemble(self) -> Pulled:
        """Pipelines, deals and stage entries from the staged records."""

    def fetch_deal(self, deal_id: str) -> bool:
        """Stage the one deal ``deal_id`` — its record and its whole stage history — in this
        connector's own shapes, as its pull stages them, so that :meth:`assemble` reads it as
        in a full pull (the pipelines staged beforehand). False when the CRM says the deal is
        gone (deleted, archived); any other CRM error is raised."""
        raise NotImplementedError(f"{self.crm} cannot fetch a single deal")

    def marks(self) -> dict[str, Any]:
        """High-water marks for the next incremental pull (beyond the window's ``until``)."""
        return {}

    def staged_pipelines(self) -> tuple[CrmPipeline, ...]:
        """The pipelines staged by the ``pipelines`` phase."""
        return tuple(CrmPipeline.from_json(r) for r in self.staging.records("pipelines"))


def stage_owner(pipelines: tuple[CrmPipeline, ...]) -> dict[str, str]:
    """Stage key → pipeline key, for CRMs whose stage ids are unique across pipelines."""
    return {s.key: p.key for p in pipelines for s in p.stages}


GONE = object()
"""What :func:`fetch_or_gone` gives for a record the CRM says does not exist."""


def fetch_or_gone(call: Callable[[], Any]) -> Any:
    """``call()``'s answer, or :data:`GONE` when the CRM answers that the record does not exist
    (any other CRM error is raised)."""
    try:
        return call()
    except CrmError as exc:
        if is_missing(exc):
            return GONE
        raise


def is_missing(exc: CrmError) -> bool:
    """Whether a CRM's error answer says the record does not exist."""
    if not isinstance(exc, CrmRequestError):
        return False
    status = exc.params.get("status")
    detail = str(exc.params.get("detail", "")).lower()
    return status in (404, 410) or (status == 400 and "not found" in detail)
