"""One error hierarchy for voronka; the CLI turns these into exit codes in one place.

``InputError`` (and its subclasses) mean the user's input or usage is wrong: exit status 2 with a
one-paragraph message naming the file, row and column and what was expected. Any other exception
is an internal error (exit status 1).

Each message is a key of the ru/en message catalogue with its values (:class:`Msg`), set where the
error is raised: the English text is the catalogue's, and :meth:`InputError.describe_in` says the
same in Russian. There is one source of each sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from voronka.i18n import t


class Msg(str):
    """A sentence of the message catalogue: its ``key`` and the values of its placeholders.

    The string itself is the English text (so it reads, compares and formats as before);
    :meth:`say` gives it in another language. A value may itself be a :class:`Msg` (a phrase,
    said in the same language) or a list of them and of plain values (joined by ", ").
    """

    key: str
    params: Mapping[str, Any]

    def __new__(cls, key: str, /, **params: Any) -> Self:
        self = super().__new__(cls, _render(key, params, "en"))
        self.key = key
        self.params = params
        return self

    def say(self, lang: str | None) -> str:
        """The sentence in ``lang`` (``ru`` or ``en``)."""
        return _render(self.key, self.params, lang)

    def __reduce__(self) -> tuple[Any, ...]:
        return _msg, (self.key, dict(self.params))


def _msg(key: str, params: Mapping[str, Any]) -> Msg:
    return Msg(key, **params)


def said(value: Any, lang: str | None) -> Any:
    """A value of a message in ``lang``: a :class:`Msg` said, a list joined, else as it is."""
    if isinstance(value, Msg):
        return value.say(lang)
    if isinstance(value, list | tuple):
        return ", ".join(str(said(v, lang)) for v in value)
    return value


def any_of(names: Iterable[object], /, otherwise: str | None = None) -> Msg:
    """What was expected: one of ``names`` (values shown as they are, joined by ", "), or the
    message ``otherwise`` when there are none."""
    shown = ", ".join(str(name) for name in names)
    if not shown and otherwise is not None:
        return Msg(otherwise)
    return Msg("errors.expected.any_of", names=shown)


def either(options: Iterable[object], /) -> str:
    """``a or b or c`` (a :class:`Msg`, said in the user's language) of at least one option."""
    first, *rest = (str(option) for option in options)
    out = first
    for option in rest:
        out = Msg("errors.part.or", a=out, b=option)
    return out


def _render(key: str, params: Mapping[str, Any], lang: str | None) -> str:
    return t(key, lang, **{name: said(value, lang) for name, value in params.items()})


class VoronkaError(Exception):
    """Base class of every error voronka raises on purpose."""


@dataclass
class InputError(VoronkaError):
    """An input that cannot be used: a missing column, an unreadable file, a bad value in strict mode.

    Attributes:
        message: what is wrong: a catalogue key with its values (:class:`Msg`; as a string, the
            English text).
        file: the path of the offending file, when there is one.
        row: 1-based data row number (the header is row 0), when one row is at fault.
        column: the column (as written in the file) at fault, when one is.
        expected: what would have been accepted (a :class:`Msg`), e.g. "a date such as 2024-03-31".
        reason: the reject reason of a bad row in strict mode (``bad_date`` …).
        value: the offending cell, with ``reason``.
    """

    message: Msg
    file: str | None = None
    row: int | None = None
    column: str | None = None
    expected: Msg | None = None
    reason: str | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.describe())

    @property
    def key(self) -> str:
        """The catalogue key of the message."""
        return self.message.key

    @property
    def params(self) -> Mapping[str, Any]:
        """The values of the message's placeholders."""
        return self.message.params

    def describe_in(self, lang: str | None) -> str:
        """The one-paragraph message in ``lang``: where (file, row, column), what is wrong and
        what was expected, each in the catalogue's words."""
        where = []
        if self.file:
            where.append(t("errors.where.file", lang, file=self.file))
        if self.row is not None:
            where.append(t("errors.where.row", lang, row=self.row))
        if self.column:
            where.append(t("errors.where.column", lang, column=self.column))
        text = (", ".join(where) + ": " if where else "") + self.message.say(lang)
        if self.expected:
            text += " " + t("errors.where.expected", lang, expected=self.expected.say(lang))
        return text

    def describe(self) -> str:
        """The one-paragraph message in English."""
        return self.describe_in("en")

    def __str__(self) -> str:
        return self.describe()

    def __reduce__(self) -> tuple[Any, ...]:
        return _error, (type(self), dict(self.__dict__))


def _error(cls: type[InputError], state: dict[str, Any]) -> InputError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error.describe())
    return error


class FunnelError(InputError):
    """The funnel file (TOML) is malformed or inconsistent."""


class UsageError(InputError):
    """The command line or API call combines options that cannot work together."""
