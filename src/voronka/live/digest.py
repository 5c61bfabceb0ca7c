"""A digest: what one recipient is told after one watch run, in their language.

Every word comes from ``messages/live.toml``; numbers and money are formatted by the report's
formatters. ``Digest.text`` is Markdown (it reads as plain text in e-mail and Telegram too);
``Digest.to_dict`` is the JSON the ``json`` and ``webhook`` channels carry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from voronka.i18n import t
from voronka.live.findings import Finding, News
from voronka.report.format import format_money_short, format_number


@dataclass(frozen=True)
class Digest:
    """What one recipient is told.

    Attributes:
        recipient: the recipient's name.
        role: ``team`` or ``manager``.
        language: ``ru`` or ``en``.
        at: when the watch ran (UTC).
        news: the new findings.
        today: a manager's stuck deals, most overdue first (their list for today).
        subject: the one-line title.
        text: the Markdown body.
    """

    recipient: str
    role: str
    language: str
    at: datetime
    news: tuple[News, ...]
    today: tuple[Finding, ...] = ()
    subject: str = ""
    text: str = ""
    keys: tuple[str, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The digest as JSON (the ``json`` and ``webhook`` channels)."""
        return {
            "recipient": self.recipient, "role": self.role, "language": self.language,
            "at": self.at.isoformat(), "subject": self.subject, "text": self.text,
            "news": [
                {"key": n.finding.key, "kind": n.finding.kind, "reason": n.reason,
                 "value": n.finding.value, "before": n.before, "manager": n.finding.manager,
                 "detail": dict(n.finding.data)}
                for n in self.news
            ],
            "today": [dict(f.data) for f in self.today],
        }


def _stage(names: Mapping[str, str], sid: Any) -> str:
    return names.get(str(sid), str(sid)) if sid is not None else "—"


def _segment(row: Mapping[str, Any], lang: str) -> str:
    seg = row.get("segment")
    if not seg:
        return ""
    return t("live.digest.segment", lang, by=seg.get("by"), value=seg.get("value"))


def _pct(value: Any, lang: str) -> str:
    return format_number(100.0 * float(value), lang) + "%" if value is not None else "—"


def _line(n: News, names: Mapping[str, str], lang: str) -> str:
    f, row = n.finding, n.finding.data
    if f.kind == "leak":
        step = t("live.digest.step", lang, stage=_stage(names, row.get("stage")),
                 next=_stage(names, row.get("next_stage")))
        deals = format_number(f.value, lang)
        money = format_money_short(row.get("lost_revenue"), lang)
        if n.reason == "grew":
            return t("live.digest.leak_grew", lang, step=step, segment=_segment(row, lang),
                     before=format_number(n.before, lang), deals=deals, money=money)
        key = "live.digest.leak_reopened" if n.reason == "reopened" else "live.digest.leak_new"
        return t(key, lang, step=step, segment=_segment(row, lang),
                 deals=deals, money=money, conversion=_pct(row.get("conversion"), lang),
                 expected=_pct(row.get("expected"), lang))
    if f.kind == "anomaly":
        step = t("live.digest.step", lang, stage=_stage(names, row.get("stage")),
                 next=_stage(names, row.get("next_stage")))
        key = "live.digest.anomaly_up" if row.get("direction") == "up" else "live.digest.anomaly_down"
        return t(key, lang, step=step, segment=_segment(row, lang),
                 before=_pct(row.get("before"), lang), after=_pct(row.get("after"), lang),
                 since=row.get("since"))
    if f.kind == "stuck":
        return _stuck_line(f, names, lang)
    if n.reason == "moved":
        return t("live.digest.plan_moved", lang, before=format_number(n.before, lang),
                 after=format_number(f.value, lang), plan=format_number(row.get("plan"), lang))
    return t("live.digest.plan_new", lang, after=format_number(f.value, lang),
             plan=format_number(row.get("plan"), lang))


def _stuck_line(f: Finding, names: Mapping[str, str], lang: str) -> str:
    row = f.data
    task = row.get("key_task")
    text = t("live.digest.stuck", lang, deal=row.get("deal_id"),
             stage=_stage(names, row.get("stage")), days=format_number(row.get("days"), lang))
    if task:
        text += " — " + t("live.digest.task", lang, task=task)
    return text


def build_digest(
    recipient: str,
    role: str,
    lang: str,
    at: datetime,
    news: Sequence[News],
    today: Sequence[Finding],
    stage_names: Mapping[str, str],
    *,
    max_stuck: int = 20,
    title: str | None = None,
) -> Digest:
    """The digest of one recipient: sections for leaks, anomalies, the plan, newly stuck deals,
    and (for a manager) today's list."""
    by_kind: dict[str, list[News]] = {"leak": [], "anomaly": [], "plan": [], "stuck": []}
    for n in news:
        by_kind[n.finding.kind].append(n)
    date = at.date().isoformat()
    heading = t("live.digest.title_team" if role == "team" else "live.digest.title_manager", lang,
                date=date, name=recipient, title=title or "")
    lines = [f"# {heading}", ""]
    for kind in ("leak", "anomaly", "plan"):
        items = by_kind[kind]
        if items:
            lines.append(f"## {t(f'live.digest.section.{kind}', lang)}")
            lines.extend(f"- {_line(n, stage_names, lang)}" for n in items)
            lines.append("")
    stuck = sorted(by_kind["stuck"], key=lambda n: -(n.finding.value or 0.0))
    if stuck:
        lines.append(f"## {t('live.digest.section.stuck', lang, count=len(stuck))}")
        lines.extend(f"- {_line(n, stage_names, lang)}" for n in stuck[:max_stuck])
        if len(stuck) > max_stuck:
            lines.append(f"- {t('live.digest.more', lang, count=len(stuck) - max_stuck)}")
        lines.append("")
    ordered_today = sorted(today, key=lambda f: -(f.value or 0.0))
    if role == "manager" and ordered_today:
        lines.append(f"## {t('live.digest.section.today', lang, count=len(ordered_today))}")
        lines.extend(f"- {_stuck_line(f, stage_names, lang)}" for f in ordered_today[:max_stuck])
        if len(ordered_today) > max_stuck:
            lines.append(f"- {t('live.digest.more', lang, count=len(ordered_today) - max_stuck)}")
        lines.append("")
    counts = {k: len(v) for k, v in by_kind.items()}
    subject = t("live.digest.subject", lang, date=date, leaks=counts["leak"],
                anomalies=counts["anomaly"], stuck=counts["stuck"])
    return Digest(recipient, role, lang, at, tuple(news), tuple(ordered_today), subject,
                  "\n".join(lines).rstrip() + "\n", tuple(n.finding.key for n in news))
