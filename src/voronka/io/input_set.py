"""What was read from the user's inputs (:class:`InputSet`), and the types the readers of
:mod:`voronka.io.inputs` share."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from voronka.funnel import Funnel
from voronka.io.result import ReadResult

InputKind = Literal["events", "folder", "export", "snapshots", "milestones"]

FileProgress = Callable[[str, int, int], None]
"""``progress(file, done_bytes, total_bytes)``, called while files are read."""

PathLike = str | os.PathLike[str]

FastReader = Callable[..., ReadResult | None]
"""``fast(path, kind, column_map=…, strict=…, progress=…)``: the file read by the engine's
backend (``voronka.engine.read.read_fast``), or None when the Python readers must read it."""


@dataclass(frozen=True)
class InputSet:
    """Everything read from the user's inputs.

    Attributes:
        events: the events (read from an events file, or made from CRM exports).
        deals: the deals, when there are any (a deals file, or the export's deals).
        spend: the ad-spend file, when given or found.
        funnel_path: the funnel file found in the folder (None when given on the command line or
            absent).
        funnel: a funnel the inputs imply: the detected CRM's default pipeline when the export's
            stage names match it.
        kind: ``events`` (an events file), ``folder``, ``export`` (one CRM export) or
            ``snapshots`` (several exports of one CRM on different dates).
        crm: the CRM whose export was read, else None.
        limitations: message keys of what these inputs cannot give (``exports.limit.*``).
        earlier: reads of the earlier snapshots of a series (for the row accounting).
    """

    events: ReadResult
    deals: ReadResult | None = None
    spend: ReadResult | None = None
    funnel_path: Path | None = None
    funnel: Funnel | None = None
    kind: InputKind = "events"
    crm: str | None = None
    limitations: tuple[str, ...] = ()
    earlier: tuple[ReadResult, ...] = field(default=())
    tables: tuple[ReadResult, ...] = field(default=())

    @property
    def reads(self) -> dict[str, ReadResult]:
        """Every file read: ``{"events": …, "deals": …, "spend": …}`` (those present), then
        ``"snapshot:<file>"`` for the earlier snapshots of a series, ``"table:<file>"`` for the
        tables of milestones joined into one."""
        found = {"events": self.events, "deals": self.deals, "spend": self.spend}
        out = {kind: read for kind, read in found.items() if read is not None}
        for read in self.earlier:
            out[f"snapshot:{read.file}"] = read
        for read in self.tables:
            out[f"table:{read.file}"] = read
        return out
