"""The funnel an audit uses: the one given (a file, the CRM's stage list, or a ``Funnel``), the
one found in the input folder, a built-in template that fits the data's stage names, or the order
inferred from the events — and, for an inferred one, how far the data bears its order out."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from voronka.engine import EventLog
from voronka.engine.stage_order import check_stage_order
from voronka.funnel import Funnel, choose_template, infer_funnel
from voronka.i18n import note
from voronka.io.exports.pipeline_file import read_funnel_file
from voronka.io.inputs import InputSet

PathLike = str | Path


def given_path(funnel: Funnel | PathLike | None) -> PathLike | None:
    """The funnel file the user gave (None for a ``Funnel`` object or none)."""
    return None if funnel is None or isinstance(funnel, Funnel) else funnel


def funnel_of(inputs: InputSet, funnel: Funnel | PathLike | None) -> Funnel | PathLike | None:
    """The funnel given, else the funnel file found in a folder, else the one the export implies."""
    if funnel is not None:
        return funnel
    return inputs.funnel_path or inputs.funnel


def resolve_funnel(
    log: EventLog, funnel: Funnel | PathLike | None, *, templates: bool = True
) -> Funnel:
    """The funnel to audit with: the one given, else a built-in template that fits the data's
    stage names (unless ``templates`` is False: a CRM export whose own pipeline has stages the
    CRM's default lacks), else one inferred from the order of events (``funnel.origin`` says
    which)."""
    if isinstance(funnel, Funnel):
        return funnel
    if funnel is not None:  # a funnel file (TOML) or the CRM's stage list (JSON)
        return read_funnel_file(funnel, log.stage_name_counts)
    template = choose_template(log.stage_name_counts()) if templates else None
    if template is not None:
        return template
    return infer_funnel(log.stage_name_stats())


def order_notes(log: EventLog, notes: Sequence[str] = ()) -> tuple[str, ...]:
    """When the funnel's order was inferred from the data: the order used and how far the data
    bears it out — deals that entered two or more open stages, and how many of them first entered
    a later stage before an earlier one. A snapshot (one stage per deal) cannot check it: the note says
    so and how to give the real order (the CRM's stage list, ``--funnel``)."""
    funnel = log.funnel
    if funnel is None or funnel.origin != "inferred" or funnel.won_index < 2:
        return ()  # one open stage before the won one: there is no order to infer
    order = " → ".join(s.name for s in funnel.line)
    check = check_stage_order(log)
    if check.checked == 0:
        if "exports.limit.stage_order_unknown" in notes:
            return (note("inputs2.order_unchecked_export", order=order),)
        return (note("inputs2.order_unchecked", order=order),)
    share = round(100 * check.against / check.checked, 1)
    return (note("inputs2.order_inferred", order=order, against=check.against,
                 checked=check.checked, share=share),)
