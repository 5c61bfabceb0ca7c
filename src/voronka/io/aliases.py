"""Column aliases: which header in a file holds which canonical column.

Headers are compared after :func:`normalize_header` (case, spaces, ``ё``/``е``, punctuation and a
trailing currency word do not matter), so ``"Бюджет, руб."`` matches the alias ``бюджет``. Each
canonical column lists its aliases best first: when a file has several candidate headers (say
``Этап сделки`` and ``Статус сделки``), the better alias wins and the other header is kept as an
ordinary extra column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from voronka.errors import InputError, Msg

Kind = Literal["events", "deals", "spend"]
"""The three kinds of input file."""

# fmt: off
COLUMN_ALIASES: Mapping[str, tuple[str, ...]] = {
    "deal_id": (
        "deal_id", "deal id", "id сделки", "сделка id", "id", "dealid", "deal", "record id",
        "opportunity_id", "opportunity id", "lead_id", "lead id", "идентификатор сделки",
        "номер сделки", "сделка", "case id", "case", "mql_id", "hs_object_id",
        "case:concept:name",  # process-mining (XES) logs
    ),
    "stage": (
        "stage", "этап", "этап сделки", "стадия", "стадия сделки", "deal stage", "dealstage",
        "deal_stage", "stage name", "stage_name", "pipeline stage", "status name", "concept:name",
        "activity", "статус сделки",
    ),
    "entered_at": (
        "entered_at", "entered at", "дата перехода", "дата изменения", "дата", "дата и время",
        "время", "date", "datetime", "timestamp", "changed_at", "changed at", "change date",
        "time", "event_time", "event time", "moved at", "stage date", "дата этапа",
        "time:timestamp",
    ),
    "created_at": (
        "created_at", "created at", "дата создания", "создана", "создано", "дата создания сделки",
        "created", "create date", "created date", "createdate", "deal created on",
        "creation date", "engage_date", "first_contact_date",
    ),
    "source": (
        "source", "источник", "источник сделки", "utm source", "utm_source", "lead source",
        "original source", "hs_analytics_source", "origin", "channel", "канал",
        "источник трафика", "traffic source",
    ),
    "manager": (
        "manager", "ответственный", "менеджер", "ответственный менеджер", "owner", "deal owner",
        "responsible", "sales_agent", "sales agent", "assigned to", "assigned_to", "user",
        "sales rep", "salesperson",
    ),
    "amount": (
        "amount", "бюджет", "сумма", "сумма сделки", "бюджет сделки", "value", "deal value",
        "close_value", "close value", "revenue", "price", "стоимость сделки",
    ),
    "status": (
        "status", "статус", "outcome", "результат", "итог", "deal status", "state",
        "won/lost", "исход",
    ),
    "closed_at": (
        "closed_at", "closed at", "дата закрытия", "закрыта", "closed", "close date",
        "close_date", "closedate", "won time", "won_time", "lost time", "won_date",
        "дата завершения",
    ),
    "lost_reason": (
        "lost_reason", "lost reason", "причина отказа", "причина проигрыша", "причина отказа сделки",
        "closed lost reason", "причина закрытия",
    ),
    "cost": (
        "cost", "расход", "расходы", "затраты", "стоимость", "spend", "amount spent",
        "amount_spent", "spent", "cost_rub", "бюджет", "сумма", "amount",
    ),
    "date": ("date", "дата", "день", "day", "дата расхода"),
    "month": ("month", "месяц", "period", "период"),
    "campaign": (
        "campaign", "кампания", "рекламная кампания", "utm campaign", "utm_campaign",
        "campaign name", "название кампании",
    ),
}
# fmt: on
"""Canonical column → accepted headers (normalised), best first."""

REQUIRED: Mapping[Kind, tuple[str, ...]] = {
    "events": ("deal_id", "stage", "entered_at"),
    "deals": ("deal_id",),
    "spend": ("source", "cost"),
}
"""Columns a file of each kind cannot do without (spend also needs ``date`` or ``month``)."""

_DEAL_OPTIONAL = (
    "created_at",
    "source",
    "campaign",
    "manager",
    "amount",
    "status",
    "closed_at",
    "lost_reason",
)

OPTIONAL: Mapping[Kind, tuple[str, ...]] = {
    "events": _DEAL_OPTIONAL,
    "deals": _DEAL_OPTIONAL,
    "spend": ("date", "month", "campaign"),
}
"""Canonical columns recognised but not required, per kind."""

_MOJIBAKE = re.compile("\ufffd|Р[\u0400-\u040f\u0450-\u045f°-ї]|С[\u0450-\u045f]|Ð|Ñ")
_PUNCT = re.compile(r"[\s_\-./,:;()\[\]{}\"'«»#№]+")
_CURRENCY_TAIL = re.compile(r"(?: (?:руб|р|rub|rur|usd|eur|₽|\$|€|в рублях|in rub))+$")


EXAMPLES: Mapping[str, str] = {
    "deal_id": "deal_id, ID сделки, ID, Deal ID",
    "stage": "stage, Этап, Этап сделки, Stage, Deal Stage",
    "entered_at": "entered_at, Дата перехода, Дата, Date, Timestamp",
    "source": "source, Источник, utm_source, Source",
    "cost": "cost, Расход, Затраты, Cost, Spend",
    "date or month": "date, Дата, month, Месяц, Period",
}
"""Headers shown as examples when a required column is missing."""


def normalize_header(header: str) -> str:
    """A header reduced for comparison: lower case, ``ё``→``е``, punctuation and runs of spaces
    turned into one space, a trailing currency word (``руб``, ``USD``, ``₽`` …) dropped."""
    text = header.replace("\ufeff", "").strip().lower().replace("ё", "е")
    text = text.replace("₽", " ₽").replace("$", " $").replace("€", " €")
    text = _PUNCT.sub(" ", text).strip()
    stripped = _CURRENCY_TAIL.sub("", text).strip()
    return stripped or text


_NORMALIZED: dict[str, tuple[str, ...]] = {
    name: tuple(dict.fromkeys(normalize_header(a) for a in (name, *aliases)))
    for name, aliases in COLUMN_ALIASES.items()
}


def canonical_columns(kind: Kind) -> tuple[str, ...]:
    """Every canonical column a file of ``kind`` may have, required ones first."""
    return (*REQUIRED[kind], *OPTIONAL[kind])


@dataclass(frozen=True)
class ColumnMatch:
    """How a file's headers map onto canonical columns.

    Attributes:
        mapping: canonical name → header as written in the file.
        extras: headers kept as they are (not canonical).
    """

    mapping: Mapping[str, str]
    extras: tuple[str, ...]


def _find_header(headers: Sequence[str], wanted: str) -> str | None:
    """The header equal to ``wanted`` as written, else equal after normalisation."""
    if wanted in headers:
        return wanted
    key = normalize_header(wanted)
    for header in headers:
        if normalize_header(header) == key:
            return header
    return None


def match_columns(
    headers: Sequence[str],
    kind: Kind,
    *,
    column_map: Mapping[str, str] | None = None,
    file: str | None = None,
) -> ColumnMatch:
    """Map ``headers`` to the canonical columns of ``kind``.

    ``column_map`` (from ``--map canonical=header``) wins over aliases. The same map is given to
    every file of a run, so an entry for a column this file does not need is ignored when its
    header is absent; an entry for a *required* column whose header is absent is an
    :class:`InputError` listing the headers found.

    Raises:
        InputError: a required column (or its ``--map`` header) is not in the file.
    """
    wanted = canonical_columns(kind)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    renames: dict[str, str] = {}
    for name, header in (column_map or {}).items():
        found = _find_header(headers, header)
        if found is None:
            if name in REQUIRED[kind]:
                raise InputError(
                    Msg(
                        "errors.raised.the_header_given_for_with_map",
                        header=repr(header),
                        name=repr(name),
                    ),
                    file=file,
                    column=header,
                    expected=Msg("errors.expected.one_of_the_headers_found", value=_list(headers)),
                )
            continue
        if name in wanted:
            mapping[name] = found
        else:
            renames[name] = found
        used.add(found)

    normalized = {h: normalize_header(h) for h in headers}
    # Best alias first over all canonical columns, so a header that is an exact canonical name for
    # one column is not taken by a weaker alias of another.
    candidates: list[tuple[int, int, str, str]] = []
    for order, name in enumerate(wanted):
        if name in mapping:
            continue
        for rank, alias in enumerate(_NORMALIZED[name]):
            for header in headers:
                if normalized[header] == alias:
                    candidates.append((rank, order, name, header))
    for _rank, _order, name, header in sorted(candidates):
        if name in mapping or header in used:
            continue
        mapping[name] = header
        used.add(header)

    missing = [name for name in REQUIRED[kind] if name not in mapping]
    if kind == "spend" and "date" not in mapping and "month" not in mapping:
        missing.append("date or month")
    if missing:
        name = missing[0]
        aliases = EXAMPLES.get(name, name)
        mojibake = any(_MOJIBAKE.search(h) for h in headers)
        raise InputError(
            Msg("errors.raised.the_required_column_is_missing", name=repr(name)),
            file=file,
            column=name,
            expected=Msg(
                "errors.expected.a_header_such_as_or_map_2" if mojibake
                else "errors.expected.a_header_such_as_or_map",
                aliases=aliases, value=name.split()[0], value2=_list(headers),
            ),
        )
    extras = tuple(h for h in headers if h not in used)
    ordered = {name: mapping[name] for name in wanted if name in mapping}
    for name, header in renames.items():
        ordered[name] = header
    return ColumnMatch(mapping=ordered, extras=extras)


def _list(headers: Sequence[str]) -> str:
    """The headers for a message: each a short escaped excerpt (a header row may be any file's
    first line), at most 30."""
    from voronka.text_safety import excerpt

    shown = ", ".join(repr(excerpt(h)) for h in headers[:30])
    return shown + (f" … ({len(headers)} in all)" if len(headers) > 30 else "") or "(none)"
