"""From a request to what the engine and the templates need: the filter in the URL, the deal
selection behind a number, and links that keep the filter.

Filter parameters (a link reproduces the view): ``from``, ``to`` (ISO dates, deals created in
the period), ``source``, ``manager``, ``pipeline`` (a column's value), ``where=column=value``
(any other deal column, repeatable), ``by`` (breakdown columns, repeatable), ``plan`` (won deals
wanted), ``cmp`` (``previous`` or ``year``: the period to compare with), ``lang``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from voronka.audit import AuditResult
from voronka.engine import DealFilter, DealSelection
from voronka.errors import Msg, UsageError, any_of
from voronka.i18n import normalize_language
from voronka.web.workspace import Query, period_of

NAMED_FILTERS = ("source", "manager", "pipeline")
"""Deal columns with their own filter parameter."""

FILTER_KEYS = ("from", "to", *NAMED_FILTERS, "where", "by", "plan", "cmp", "lang")


@dataclass(frozen=True)
class Params:
    """The filter part of a URL, as ``(name, value)`` pairs in a stable order."""

    pairs: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, multi: Sequence[tuple[str, str]]) -> Params:
        """The filter parameters among a request's query parameters (blank values dropped)."""
        return cls(tuple((k, v) for k, v in multi if k in FILTER_KEYS and v.strip()))

    def get(self, name: str) -> str | None:
        """The first value of ``name``."""
        return next((v for k, v in self.pairs if k == name), None)

    def all(self, name: str) -> list[str]:
        """Every value of ``name``."""
        return [v for k, v in self.pairs if k == name]

    def url(self, path: str, **extra: object) -> str:
        """``path`` with these parameters and ``extra`` ones (None values left out)."""
        pairs = list(self.pairs) + [(k, str(v)) for k, v in extra.items() if v is not None]
        return f"{path}?{urlencode(pairs)}" if pairs else path

    def without(self, *names: str) -> Params:
        """These parameters without ``names``."""
        return Params(tuple((k, v) for k, v in self.pairs if k not in names))


def where_pairs(params: Params) -> tuple[tuple[str, str], ...]:
    """The ``column=value`` conditions of the parameters."""
    pairs = [(name, v) for name in NAMED_FILTERS for v in params.all(name)]
    for item in params.all("where"):
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise UsageError(Msg("errors.raised.where_is_not_of_the_form", item=repr(item)))
        pairs.append((column.strip(), value.strip()))
    return tuple(pairs)


def query_of(params: Params, default_lang: str = "ru") -> Query:
    """The :class:`Query` the parameters describe."""
    plan_text = params.get("plan")
    try:
        plan = float(plan_text) if plan_text else None
    except ValueError:
        raise UsageError(
            Msg("errors.raised.plan_is_not_a_number", plan_text=repr(plan_text))
        ) from None
    if plan is not None and not 0 < plan < 1e9:
        raise UsageError(Msg("errors.msg.plan_positive"))
    return Query(
        flt=DealFilter(
            created_from=period_of(params.get("from")),
            created_to=period_of(params.get("to")),
            where=where_pairs(params),
        ),
        by=tuple(params.all("by")),
        plan=plan,
        lang=normalize_language(params.get("lang") or default_lang),
    )


SELECTION_PARAMS = ("sel", "stage", "col", "val")


def selection_of(
    result: AuditResult, stage_ids: Sequence[str], args: Mapping[str, str]
) -> DealSelection:
    """The deals behind a number: ``sel`` (a selection kind), ``stage`` (a stage id), and an
    optional ``col``/``val`` condition. A stuck selection takes the stage's limit from the
    audit of the same filter, so the list has exactly as many deals as the number."""
    kind = args.get("sel", "all")
    stage = args.get("stage")
    index = None
    if stage:
        if stage not in stage_ids:
            raise UsageError(
                Msg("errors.raised.unknown_stage", stage=repr(stage)), expected=any_of(stage_ids)
            )
        index = list(stage_ids).index(stage)
    limit = None
    if kind == "stuck" and stage:
        limit = next((s.max_days for s in result.stuck.stages if s.stage == stage), None)
    extra: tuple[tuple[str, str], ...] = ()
    if args.get("col"):
        extra = ((args["col"], args.get("val", "")),)
    return DealSelection(kind=kind, stage_index=index, limit_days=limit, where=extra)
