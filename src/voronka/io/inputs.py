"""One entry point for whatever the user gives ``voronka audit``: an events file, a folder, one CRM
export (a snapshot) or several (a series of snapshots).

::

    from voronka.io.inputs import open_inputs
    inputs = open_inputs(["export-2025-01-01.csv", "export-2025-02-01.csv"])
    inputs.kind           # "snapshots"
    inputs.crm            # "amocrm"
    inputs.limitations    # message keys: what these inputs cannot give
    inputs.reads          # every file read, for the data-quality section

``limitations`` are message keys of ``src/voronka/i18n/messages/exports.toml``; the audit puts
them into ``data_quality.notes`` and the report prints them.
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from voronka.errors import InputError, Msg, UsageError
from voronka.io.folder import Peek, peek_table, scan_folder, unreadable_reason
from voronka.io.input_set import FastReader, FileProgress, InputKind, InputSet, PathLike
from voronka.io.left_out import with_unreadable
from voronka.io.opener import Opener

__all__ = ["FastReader", "FileProgress", "InputKind", "InputSet", "PathLike", "open_inputs"]


def open_inputs(
    paths: PathLike | Sequence[PathLike],
    *,
    deals: PathLike | None = None,
    spend: PathLike | None = None,
    funnel: PathLike | None = None,
    column_map: Mapping[str, str] | None = None,
    strict: bool = False,
    progress: FileProgress | None = None,
    fast: FastReader | None = None,
) -> InputSet:
    """Read what the user gave: an events file, a folder, or one or more CRM exports.

    Args:
        paths: the positional inputs of ``voronka audit``.
        deals: a deals file (``--deals``); wins over one found in a folder or an export's deals.
        spend: an ad-spend file (``--spend``); wins over one found in a folder.
        funnel: the funnel file given (``--funnel``); when given, no funnel file is looked for.
        column_map: ``--map`` entries.
        strict: stop at the first bad row.
        progress: ``progress(file, done_bytes, total_bytes)`` while reading.
        fast: a reader tried first for an events file and a deals file (:data:`FastReader`).

    Raises:
        UsageError: several inputs that are not exports of one CRM, or a folder among several.
        InputError: a file or folder that cannot be used (exit status 2 in the CLI).
    """
    items = [Path(p) for p in ([paths] if isinstance(paths, str | os.PathLike) else paths)]
    if not items:
        raise UsageError(
            Msg("errors.msg.no_input"), expected=Msg("errors.expected.an_events_file_a_folder_or")
        )
    opener = Opener(column_map or {}, strict, progress, fast)
    try:
        return _open(opener, items, deals=deals, spend=spend, funnel=funnel)
    finally:
        opener.ahead.close()


def _open(opener: Opener, items: list[Path], *, deals: PathLike | None,
          spend: PathLike | None, funnel: PathLike | None) -> InputSet:
    """:func:`open_inputs` with its opener; the deals file of an events file is read alongside
    it."""
    if len(items) == 1 and items[0].is_dir():
        contents = scan_folder(items[0], need_funnel=funnel is None, need_deals=deals is None,
                               strict=opener.strict)
        if contents.events is not None:
            deals_path = deals or contents.deals
            if deals_path is not None:
                opener.read_ahead(deals_path, "deals")
            main = opener.events_file(contents.events, contents.peeks.get(contents.events))
        elif contents.exports:
            main = opener.exports(list(contents.exports), contents.peeks)
        elif len(contents.milestones) > 1:
            main = opener.milestones(list(contents.milestones), folder=items[0])
        else:
            main = opener.events_file(contents.milestones[0], None)

        return with_unreadable(opener.finish(
            main, kind="folder",
            deals=deals or contents.deals, spend=spend or contents.spend,
            funnel_path=contents.funnel, funnel_given=funnel is not None,
        ), contents.unreadable)
    if any(p.is_dir() for p in items):
        raise UsageError(
            Msg("errors.raised.a_folder_must_be_the_only"),
            expected=Msg("errors.expected.voronka_audit_dir_or_voronka_audit"),
        )
    peeks = {p: _peek(p) for p in items}
    if len(items) == 1:
        peek = peeks[items[0]]
        if peek.export is None and deals is not None:
            opener.read_ahead(deals, "deals")
        main = (opener.exports(items, peeks) if peek.export is not None
                else opener.events_file(items[0], peek))
        return opener.finish(main, kind="export" if peek.export else "events", deals=deals,
                             spend=spend, funnel_path=None, funnel_given=funnel is not None)
    not_exports = [p.name for p in items if peeks[p].export is None]
    if len(not_exports) == len(items):
        main = opener.milestones(items)
        return opener.finish(main, kind="milestones", deals=deals, spend=spend, funnel_path=None,
                             funnel_given=funnel is not None)
    if not_exports:
        raise UsageError(
            Msg("errors.raised.several_inputs_are_given_but_is", value=', '.join(not_exports)),
            expected=Msg("errors.expected.one_events_file_with_deals_spend"),
        )
    main = opener.exports(items, peeks)
    return opener.finish(main, kind="snapshots", deals=deals, spend=spend, funnel_path=None,
                         funnel_given=funnel is not None)


def _peek(path: Path) -> Peek:
    """:func:`peek_table`, with a compressed file cut short or a file that cannot be opened
    named as an input error."""
    try:
        return peek_table(path)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            Msg("errors.raised.cannot_read_the_file_a_truncated", exc=exc), file=str(path)
        ) from None
    except OSError as exc:
        raise InputError(
            Msg("errors.raised.the_file_cannot_be_read", value=unreadable_reason(exc)),
            file=str(path),
            expected=Msg("errors.expected.a_file_the_user_running_voronka"),
        ) from None
