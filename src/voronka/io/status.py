"""Deal status words (Russian and English) normalised to ``open``, ``won`` or ``lost``."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from voronka.io.numbers import as_chunked, map_distinct

# fmt: off
STATUS_WORDS: Mapping[str, tuple[str, ...]] = {
    "won": (
        "won", "win", "success", "successful", "closed won", "closedwon", "closed/won", "paid",
        "выиграна", "выиграно", "выигран", "успешно реализовано", "успешно реализована",
        "сделка успешна", "успешно", "успешна", "успех", "оплачено", "оплачена", "реализовано",
        "выигрыш", "победа", "завершена успешно", "закрыта успешно",
    ),
    "lost": (
        "lost", "lose", "loss", "closed lost", "closedlost", "closed/lost", "failed", "fail",
        "rejected", "declined", "cancelled", "canceled", "проиграна", "проиграно", "проигран",
        "закрыто и не реализовано", "закрыта и не реализована", "сделка провалена", "отказ",
        "провалена", "провал", "проигрыш", "не реализовано", "отменена", "отменено", "отклонена",
        "потеряна",
    ),
    "open": (
        "open", "opened", "active", "in progress", "in work", "pending", "new", "в работе",
        "открыта", "открыто", "активна", "активно", "активная", "в процессе", "новая",
        "не закрыта",
    ),
}
# fmt: on
"""Accepted words (normalised: lower case, ``ё``→``е``, single spaces) per status."""

UNKNOWN_WORDS = ("unknown", "not_won_or_open", "not won or open", "n/a", "na", "-", "—", "?")
"""Words that say the status is not known: read as empty (null), not as a bad value."""

_LOOKUP = {word: status for status, words in STATUS_WORDS.items() for word in words}
_SPACES = re.compile(r"[\s_]+")


def status_of(text: str) -> str | None:
    """The status a word means (``open``/``won``/``lost``), ``""`` for a word that says it is not
    known, or ``None`` for a word not recognised.

    Besides :data:`STATUS_WORDS`, a word starting with ``won``/``lost`` followed by a detail
    (``lost_declined``, ``Won - paid``) counts, as do ``Closed Won``/``Closed Lost`` variants.
    """
    key = _SPACES.sub(" ", text.strip().lower().replace("ё", "е")).strip(" .!")
    if not key or key in UNKNOWN_WORDS or text.strip().lower() in UNKNOWN_WORDS:
        return ""
    if key in _LOOKUP:
        return _LOOKUP[key]
    head = re.split(r"[\s\-:/(,]+", key, maxsplit=1)[0]
    for status in ("won", "lost"):
        if head == status or key.startswith(f"closed {status}"):
            return status
    for prefix in ("успешно", "выиграна", "проиграна", "закрыто и не реализовано"):
        if key.startswith(prefix):
            return "won" if prefix in ("успешно", "выиграна") else "lost"
    return None


def normalize_status(values: pa.Array | pa.ChunkedArray) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """``(status, recognised)``: the status column as ``open``/``won``/``lost`` (null when empty,
    unknown or not recognised) and a boolean column that is false for a non-empty value that was
    not recognised (a ``bad_status`` reject in the readers)."""
    col = as_chunked(values)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        col = col.cast(pa.string())
    meaning = map_distinct(col, status_of, pa.string())
    recognised = pc.fill_null(pc.invert(pc.is_null(meaning)), True)
    recognised = pc.or_(recognised, pc.is_null(col))
    status = pc.if_else(pc.equal(pc.fill_null(meaning, ""), ""), None, meaning)
    return status.cast(pa.string()), recognised
