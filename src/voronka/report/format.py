"""Locale formatting of numbers, percentages, money, days and dates for every report format.

Russian groups thousands with a no-break space and uses a decimal comma (``1 234,5``); English
uses ``1,234.5``. The no-break space keeps a number on one line in a table or a sentence.
Missing values (None, NaN, inf) show as an em dash rather than ``nan`` or ``0``.
"""

from __future__ import annotations

import math
from datetime import date, datetime

from voronka.i18n import MONTHS_EN, normalize_language, plural_ru, t

NBSP = "\u00a0"
"""The Russian thousands separator (a no-break space)."""

MISSING = "—"
"""What a missing value shows as."""

_SEPARATORS = {"ru": (NBSP, ","), "en": (",", ".")}


def separators(lang: str | None) -> tuple[str, str]:
    """``(thousands, decimal)`` separators of ``lang``."""
    return _SEPARATORS[normalize_language(lang)]


def plotly_separators(lang: str | None) -> str:
    """Plotly's ``layout.separators`` for ``lang``: the decimal then the thousands separator."""
    thousands, decimal = separators(lang)
    return decimal + thousands


def _finite(value: float | int | None) -> bool:
    return value is not None and math.isfinite(float(value))


def format_number(value: float | int | None, lang: str | None, digits: int = 0) -> str:
    """``value`` with ``digits`` decimals and the locale's separators (``1 234,5`` / ``1,234.5``)."""
    if value is None or not _finite(value):
        return MISSING
    thousands, decimal = separators(lang)
    text = f"{float(value):,.{digits}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0" for values that round to zero
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def format_int(value: float | int | None, lang: str | None) -> str:
    """A count, rounded to a whole number, with grouping."""
    return format_number(value, lang, 0)


def shown_deals(value: float) -> float:
    """An expected number of deals (a leak's lost deals) as it is shown: whole from one up;
    below one, to one decimal, so that 0.3 deals lost beside a revenue lost is not "0 deals"."""
    return round(value, 1) if 0 < abs(value) < 0.95 else float(round(value))


def format_deals(value: float | None, lang: str | None) -> str:
    """:func:`shown_deals` with the language's separators."""
    if value is None or not _finite(value):
        return format_int(value, lang)
    shown = shown_deals(value)
    return format_number(shown, lang, 0 if shown.is_integer() else 1)


def format_percent(fraction: float | None, lang: str | None, digits: int = 1) -> str:
    """A fraction 0..1 as a percentage: ``12,3 %`` (Russian typography) / ``12.3%``."""
    if fraction is None or not _finite(fraction):
        return MISSING
    number = format_number(fraction * 100, lang, digits)
    return f"{number}{NBSP}%" if normalize_language(lang) == "ru" else f"{number}%"


def format_interval(interval: tuple[float, float] | None, lang: str | None, digits: int = 1) -> str:
    """A confidence interval of fractions as ``12,3–45,6 %`` / ``12.3–45.6%``."""
    if interval is None or not (_finite(interval[0]) and _finite(interval[1])):
        return MISSING
    low = format_number(interval[0] * 100, lang, digits)
    high = format_number(interval[1] * 100, lang, digits)
    return f"{low}–{high}{NBSP}%" if normalize_language(lang) == "ru" else f"{low}–{high}%"


def format_money(value: float | None, lang: str | None) -> str:
    """An amount of money in whole units with grouping (the data carries no currency)."""
    return format_number(value, lang, 0)


_SCALES = ((1e9, "billion"), (1e6, "million"), (1e3, "thousand"))


def format_money_short(value: float | None, lang: str | None) -> str:
    """An amount of money rounded for reading: ``77,3 млн`` / ``77.3 M``, ``845 тыс.`` / ``845 K``.

    Three significant digits at most (one decimal below 100 of the unit, none above); amounts
    under 10 000 stay whole. No currency sign: the data does not say which currency it is.
    Tables keep the exact :func:`format_money`.
    """
    if value is None or not _finite(value):
        return MISSING
    size = abs(float(value))
    for scale, unit in _SCALES:
        if size >= scale and size >= 10_000:
            scaled = float(value) / scale
            digits = 1 if abs(round(scaled, 1)) < 100 else 0
            return f"{format_number(scaled, lang, digits)}{NBSP}{t(f'report.money.{unit}', lang)}"
    return format_number(value, lang, 0)


def format_signed_percent(fraction: float | None, lang: str | None, digits: int = 0) -> str:
    """A ratio such as ROMI as a signed percentage (``+120 %``, ``−35 %``)."""
    if fraction is None or not _finite(fraction):
        return MISSING
    text = format_percent(abs(fraction), lang, digits)
    if round(fraction * 100, digits) == 0:
        return text
    return ("+" if fraction > 0 else "−") + text


def format_days(days: float | None, lang: str | None, digits: int = 1) -> str:
    """Days with one decimal (``3,5`` / ``3.5``); the unit is in the column header or sentence.

    A positive time too short to show with ``digits`` decimals (minutes, in web-session logs) gets
    two significant digits (``0.0049``) rather than reading as no time at all (``0.0``)."""
    if days is not None and _finite(days) and 0 < abs(days) < 0.5 * 10.0**-digits:
        digits = max(digits, 1 - math.floor(math.log10(abs(days))))
        _, decimal = separators(lang)
        return format_number(days, lang, digits).rstrip("0").rstrip(decimal)
    return format_number(days, lang, digits)


def format_limit_days(days: float | None, lang: str | None) -> str:
    """A stage's time limit in days: whole days without a decimal (``3``), else one decimal
    (``14.8``), so that findings and tables state the same limit the web app and HTML show."""
    if days is None:
        return format_days(days, lang)
    whole = round(days, 1) == round(days)
    return format_days(days, lang, 0 if whole else 1)


def format_date(value: date | datetime | None, lang: str | None) -> str:
    """A date: ``05.03.2024`` in Russian, ``5 Mar 2024`` in English."""
    if value is None:
        return MISSING
    if normalize_language(lang) == "ru":
        return f"{value.day:02d}.{value.month:02d}.{value.year}"
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"


def format_datetime(value: datetime | None, lang: str | None) -> str:
    """A moment: the date, plus the time when it is not midnight."""
    if value is None:
        return MISSING
    text = format_date(value, lang)
    if (value.hour, value.minute) != (0, 0):
        text += f" {value.hour:02d}:{value.minute:02d}"
    return text


def plural_form(count: float, lang: str | None) -> str:
    """``one``, ``few`` or ``many``: the form of a word that agrees with ``count`` in ``lang``.

    Russian: 1 сделка, 2 сделки, 5 сделок (:func:`voronka.i18n.plural_ru`), and the genitive
    singular after a fraction (2,5 сделки). English: ``one`` for exactly 1, else ``many``.
    """
    n = int(round(count)) if _finite(count) else 0
    if normalize_language(lang) == "ru":
        return "few" if not float(count).is_integer() else plural_ru(n, "one", "few", "many")
    return "one" if n == 1 and float(count) == 1 else "many"


def plural(key: str, count: float, lang: str | None) -> str:
    """The word of ``report.plural.<key>`` that agrees with ``count`` (1 сделка, 5 сделок)."""
    return t(f"report.plural.{key}.{plural_form(count, lang)}", lang)
