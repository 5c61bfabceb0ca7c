"""What in an audit is worth telling, and what of it is new to a recipient.

:func:`extract` turns an audit's JSON (the contract of CONTRACT.md) into :class:`Finding` rows:
significant leaks, significant anomalies, stuck deals and the plan's probability. :func:`news`
keeps those a recipient has not been told: a leak that opened or whose lost deals grew by more
than the threshold since they were last told, an anomaly not told before, a deal newly stuck, a
plan probability that moved by more than the set number of points.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["leak", "anomaly", "stuck", "plan"]


@dataclass(frozen=True)
class Finding:
    """One thing the audit says.

    Attributes:
        key: its identity across runs (``leak:new_request>qualified:manager=Иванов`` …).
        kind: ``leak``, ``anomaly``, ``stuck`` or ``plan``.
        value: what is compared between runs (lost deals; days stuck; plan probability in %).
        manager: the manager it concerns (a stuck deal's, a leak in a manager's segment).
        data: the audit's row, for the digest.
    """

    key: str
    kind: Kind
    value: float | None
    manager: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class News:
    """A finding to tell, and why: ``new``, ``reopened`` (told before, then closed: missing from
    enough runs in a row, and back), ``grew`` (leak) or ``moved`` (plan), with the value the
    recipient was told before (None when new or reopened)."""

    finding: Finding
    reason: Literal["new", "reopened", "grew", "moved"]
    before: float | None = None


def _segment(row: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
    seg = row.get("segment")
    if not seg:
        return "all", None, None
    by, value = str(seg.get("by")), str(seg.get("value"))
    return f"{by}={value}", by, value


def extract(result: Mapping[str, Any]) -> list[Finding]:
    """The findings of one audit (its ``to_dict()``)."""
    out: list[Finding] = []
    for row in result.get("leaks") or []:
        if not row.get("significant"):
            continue
        seg, by, value = _segment(row)
        out.append(Finding(
            f"leak:{row['stage']}>{row.get('next_stage')}:{seg}", "leak",
            float(row.get("lost_deals") or 0.0), value if by == "manager" else None, row,
        ))
    for row in result.get("anomalies") or []:
        if not row.get("significant"):
            continue
        seg, by, value = _segment(row)
        out.append(Finding(
            f"anomaly:{row['stage']}>{row.get('next_stage')}:{seg}:{row.get('direction')}"
            f":{row.get('since')}", "anomaly", row.get("after"),
            value if by == "manager" else None, row,
        ))
    stuck = result.get("stuck") or {}
    for row in stuck.get("deals") or []:
        manager = row.get("manager")
        out.append(Finding(
            f"stuck:{row['deal_id']}:{row['stage']}", "stuck", float(row.get("days") or 0.0),
            str(manager) if manager not in (None, "") else None, row,
        ))
    forecast = result.get("forecast") or {}
    p_plan = forecast.get("p_plan")
    if p_plan is None and isinstance(forecast.get("revenue"), Mapping):
        p_plan = forecast["revenue"].get("p_plan")
    if p_plan is not None:
        out.append(Finding("plan", "plan", round(100.0 * float(p_plan), 1), None, forecast))
    return out


def for_recipient(findings: list[Finding], role: str, manager: str | None) -> list[Finding]:
    """The findings a recipient hears about: the team everything; a manager their own stuck
    deals and the leaks and anomalies of their segment."""
    if role == "team":
        return list(findings)
    return [f for f in findings if f.manager is not None and f.manager == manager]


def news(
    findings: list[Finding],
    known: Mapping[str, tuple[float | None, bool]],
    *,
    leak_growth: float,
    plan_points: float,
    closed: frozenset[str] | set[str] = frozenset(),
) -> list[News]:
    """What of ``findings`` is new to a recipient who was told ``known`` (key → (value, _));
    ``closed``: keys told before and since closed (a finding among them is ``reopened``)."""
    out: list[News] = []
    for f in findings:
        if f.key not in known:
            out.append(News(f, "reopened" if f.key in closed else "new"))
            continue
        before = known[f.key][0]
        if f.kind == "leak" and before is not None and f.value is not None:
            if f.value > before * (1.0 + leak_growth):
                out.append(News(f, "grew", before))
        elif (f.kind == "plan" and before is not None and f.value is not None
              and abs(f.value - before) > plan_points):
            out.append(News(f, "moved", before))
    return out
