"""Which columns of a one-row-per-deal table date which stage.

A header that dates something is read as ``<what> <date word>`` (``engage_date``,
``first_contact_date``, ``won_date``, ``Дата встречи``, ``Date entered "Proposal"``,
``meeting_at``): :func:`stage_words` drops the date words and keeps ``<what>``. That part then

* names a stage of the data (the deal's current stage column holds it) when one of the data's
  stage names starts the same way (``engage`` ↔ ``Engaging``, at least five letters in common):
  the column dates the entry into that stage;
* or reads as an outcome (``won_date``, ``lost_at``): the entry into that outcome (``Won``);
* or says *closed* (``close_date``, ``Дата закрытия``): the column dates the deal's outcome, the
  won or lost stage it ended in;
* or says *created* (``created_at``, ``Дата создания``): the deal's creation, the date of its
  current stage when nothing else dates it (the snapshot rule of CRM exports);
* otherwise, in a table without a stage column (the *wide* layout: one date column per stage),
  it is a stage of its own, named after the header (``first_contact_date`` → ``First contact``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from voronka.funnel import normalize_stage_name
from voronka.io.status import status_of

Role = Literal["stage", "closed", "created", "other"]

_DATE_WORDS = re.compile(
    r"(?:^|[\s_\-.:])(?:date|datetime|dt|time|timestamp|at|on|when|day|entered|entry|reached|"
    r"moved|дата|время|день|вход|входа|перехода|переход)(?=$|[\s_\-.:])",
    re.IGNORECASE,
)
_HAS_DATE_WORD = re.compile(
    r"(?:^|[\s_\-.:])(?:date|datetime|time|timestamp|at|on|entered|дата|время)(?=$|[\s_\-.:])"
    r"|date|дата",
    re.IGNORECASE,
)
_QUOTES = re.compile(r"[\"“”'«»()]")
_CLOSED = re.compile(r"^(?:close|closed|closing|закрыт\w*|завершен\w*|завершени\w*)$")
_CREATED = re.compile(r"^(?:create|created|creation|создан\w*|создани\w*|add|added)$")
MIN_STEM = 5
"""Letters a header and a stage name must share at their start to be the same stage."""


@dataclass(frozen=True)
class DateColumn:
    """A date column of a one-row-per-deal table and what it dates.

    Attributes:
        header: the header as written.
        role: ``stage`` (the entry into :attr:`stage`), ``closed`` (the outcome), ``created``
            (the deal's creation) or ``other`` (a date that dates no stage).
        stage: the stage it dates, for ``role == "stage"``.
    """

    header: str
    role: Role
    stage: str | None = None


def stage_words(header: str) -> str:
    """The part of a date header that says what it dates, lower case, single spaces
    (``"first_contact_date"`` → ``"first contact"``)."""
    text = _QUOTES.sub(" ", header)
    text = _DATE_WORDS.sub(" ", f" {text} ")
    text = _DATE_WORDS.sub(" ", text)
    return " ".join(re.split(r"[\s_\-.:]+", text.strip().lower())).strip()


def looks_dated(header: str) -> bool:
    """Whether a header says it holds dates (``..._date``, ``..._at``, ``Дата …``)."""
    return bool(_HAS_DATE_WORD.search(header))


def stage_title(words: str) -> str:
    """A stage name made from a header's words (``"first contact"`` → ``"First contact"``)."""
    return words[:1].upper() + words[1:] if words else words


def _same_stage(words: str, stage: str) -> bool:
    a = normalize_stage_name(words)
    b = normalize_stage_name(stage)
    if not a or not b:
        return False
    if a == b:
        return True
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= MIN_STEM and common >= 0.7 * min(len(a), len(b))


def classify(
    headers: Sequence[str], stages: Iterable[str] | None, *, closed: str | None = None,
    created: str | None = None,
) -> tuple[DateColumn, ...]:
    """What each date column in ``headers`` dates (module docstring).

    Args:
        headers: the date columns, in file order.
        stages: the data's stage names (its current-stage column), or None for a table without
            one (the wide layout).
        closed: the header the readers took as the closing date, if any.
        created: the header the readers took as the creation date, if any.
    """
    names = sorted(set(stages or ()), key=lambda s: -len(s))
    out: list[DateColumn] = []
    for header in headers:
        words = stage_words(header)
        match = next((s for s in names if _same_stage(words, s)), None)
        if match is not None:
            out.append(DateColumn(header, "stage", match))
        elif words and status_of(words) in ("won", "lost"):
            out.append(DateColumn(header, "stage", stage_title(words)))  # won_date → Won
        elif header == closed or _CLOSED.match(words):
            out.append(DateColumn(header, "closed"))
        elif header == created or _CREATED.match(words):
            out.append(DateColumn(header, "created"))
        elif stages is None and words:
            out.append(DateColumn(header, "stage", stage_title(words)))
        else:
            out.append(DateColumn(header, "other"))
    return tuple(out)


def describe_mapping(columns: Sequence[DateColumn], outcome_names: Sequence[str] = ()) -> str:
    """``Engaging ← engage_date; Won, Lost ← close_date`` for the notes."""
    parts = []
    for c in columns:
        if c.role == "stage":
            parts.append(f"{c.stage} ← {c.header}")
        elif c.role == "closed":
            parts.append(f"{', '.join(outcome_names) or 'outcome'} ← {c.header}")
    return "; ".join(parts)


def could_be_deal_rows(headers: Sequence[str]) -> bool:
    """Whether a deals table's ``headers`` could give events: a stage column, or a date column
    that dates a stage (not only creation or closing)."""
    from voronka.io.aliases import COLUMN_ALIASES, normalize_header

    normalized = {normalize_header(h) for h in headers}
    if any(normalize_header(a) in normalized for a in COLUMN_ALIASES["stage"]):
        return True
    dated = [h for h in headers if looks_dated(h)]
    return any(c.role == "stage" for c in classify(dated, None))
