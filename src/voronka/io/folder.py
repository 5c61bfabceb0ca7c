"""A folder as input: which of its files are the events, deals, spend, funnel and CRM exports.

Every table file (CSV, TSV, TXT, XLSX, XLS, Parquet, ``.gz``) of the folder itself (not its
subfolders; hidden files skipped) is looked at:

1. **a CRM deal export** when its headers are one (:func:`voronka.io.exports.recognize_export`),
   whatever its name;
2. else **by name**: ``events``/``события``/``история``/``history``/``stage_history``/
   ``transitions``/``переходы`` → events; ``deals``/``сделки``/``leads``/``лиды``/
   ``opportunities`` → deals; ``spend``/``расходы``/``costs``/``затраты``/``реклама``/``ads`` →
   spend (the first that fits, in this order);
3. else **by content** (the header and the first rows): ``source`` + ``cost`` + a date or month and
   no deal id → spend; ``deal_id`` + ``stage`` + a date with deal ids repeated → events; a deal id
   (one row a deal) → deals.

A symbolic link whose target is outside the folder is not followed (it is listed as such when
nothing else fits): a folder handed over may point anywhere on the machine.

A funnel file is a ``*.toml``: ``funnel.toml`` (or ``воронка.toml``) when there is one, else the
only TOML file. Two files of the same role, exports of different CRMs, or several TOML files none
of which is named ``funnel`` are ambiguous (without a TOML file, the one ``*.json`` that is the
CRM's stage list as its API returns it gives the funnel: :mod:`voronka.io.exports.pipeline_file`): an :class:`~voronka.errors.InputError` lists what was
found. So is a folder with neither an events file nor a CRM export. Several exports of one CRM
are a series of snapshots (:mod:`voronka.io.snapshots`).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from voronka.errors import InputError, Msg, either
from voronka.io.aliases import match_columns
from voronka.io.exports import ExportFormat, recognize_export
from voronka.io.layouts.columns import could_be_deal_rows
from voronka.io.raw import detect_encoding, read_raw, sniff_delimiter
from voronka.io.result import RawTable

Role = Literal["events", "deals", "spend", "export", "unknown", "outside", "unreadable"]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq", ".gz")
"""File endings of the tables a folder may hold."""

PEEK_BYTES = 1 << 20
"""Bytes of a CSV read to judge it by its content."""

PEEK_ROWS = 5000
"""Rows of a table looked at to judge it by its content."""

NAME_PATTERNS: tuple[tuple[Role, re.Pattern[str]], ...] = (
    ("events", re.compile(r"event|событи|истори|history|transition|переход|movement|движени")),
    ("deals", re.compile(r"deal|сделк|lead|лид|opportunit|заявк")),
    ("spend", re.compile(r"spend|расход|cost|затрат|реклам|(?:^|[^a-z])ads?(?:[^a-z]|$)|budget")),
)
"""File-name patterns per role, tried in this order on the lower-cased name without extension."""

_MAGIC_TABLE = (b"PAR1", b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


@dataclass(frozen=True)
class Peek:
    """The start of a table file: enough to tell what it is.

    Attributes:
        path: the file.
        headers: its header row.
        rows: up to :data:`PEEK_ROWS` data rows as strings.
        raw: the whole file as read, when it had to be read whole (XLSX, Parquet).
        export: the CRM export format its headers show, if any.
    """

    path: Path
    headers: tuple[str, ...]
    rows: tuple[tuple[str | None, ...], ...]
    raw: RawTable | None = None
    export: ExportFormat | None = None


@dataclass(frozen=True)
class FolderContents:
    """What a folder holds.

    Attributes:
        folder: the folder.
        events: the events file.
        deals: the deals file.
        spend: the ad-spend file.
        funnel: the funnel file (TOML).
        exports: CRM deal exports (several: snapshots of one CRM).
        milestones: without events and exports, the tables of deals: one (a table with one row
            per deal, :mod:`voronka.io.layouts`) or several (one table per funnel step).
        roles: every table file looked at and the role found for it (``unknown``: not used;
            ``unreadable``: the system refused to open it, e.g. no permission).
        peeks: the files read to judge them (reused so that nothing is read twice).
        unreadable: the table files that could not be opened and why (left out, reported).
    """

    folder: Path
    events: Path | None = None
    deals: Path | None = None
    spend: Path | None = None
    funnel: Path | None = None
    exports: tuple[Path, ...] = ()
    milestones: tuple[Path, ...] = ()
    roles: Mapping[Path, Role] = field(default_factory=dict)
    peeks: Mapping[Path, Peek] = field(default_factory=dict)
    unreadable: tuple[tuple[Path, str], ...] = ()


def unreadable_reason(exc: OSError) -> str:
    """``permission denied`` … : why a file cannot be opened, in a few words (no path)."""
    return (exc.strerror or type(exc).__name__).lower()


def peek_table(path: str | os.PathLike[str]) -> Peek:
    """The header and first rows of a table file (CSV from its first :data:`PEEK_BYTES`; a
    workbook or Parquet file is read whole and kept in :attr:`Peek.raw`).

    Raises:
        InputError: the file cannot be read as a table.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(Msg("errors.msg.not_a_file"), file=str(path))
    with open(p, "rb") as f:
        head = f.read(PEEK_BYTES)
    if head.startswith(_MAGIC_TABLE):
        raw = read_raw(p, choose_sheet=lambda h: recognize_export(h) is not None)
        sample = raw.table.slice(0, PEEK_ROWS)
        columns = [sample.column(h).to_pylist() for h in raw.headers]
        rows = tuple(zip(*columns, strict=True)) if columns else ()
        return Peek(p, tuple(raw.headers), rows, raw, recognize_export(raw.headers))
    if head.startswith(b"\x1f\x8b"):
        with gzip.open(p, "rb") as g:
            head = g.read(PEEK_BYTES)
    text = head.decode(detect_encoding(head), errors="replace")
    text = text.removeprefix(codecs.BOM_UTF8.decode("utf-8"))
    lines = text.splitlines()
    if len(head) >= PEEK_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a sample may be cut short
    if not lines:
        raise InputError(
            Msg("errors.msg.empty"),
            file=str(path),
            expected=Msg("errors.expected.a_table_with_a_header_row"),
        )
    delimiter = sniff_delimiter("\n".join(lines[:200]))
    reader = csv.reader(io.StringIO("\n".join(lines[: PEEK_ROWS + 1])), delimiter=delimiter)
    parsed = [r for r in reader if any(c.strip() for c in r)]
    headers = tuple(c.strip() for c in parsed[0]) if parsed else ()
    rows = tuple(tuple(c.strip() or None for c in r) for r in parsed[1:])
    return Peek(p, headers, rows, None, recognize_export(headers))


def role_by_name(path: Path) -> Role | None:
    """The role a file's name tells (:data:`NAME_PATTERNS`), or None."""
    stem = path.name.lower()
    for suffix in (".gz", *TABLE_SUFFIXES):
        stem = stem.removesuffix(suffix)
    for role, pattern in NAME_PATTERNS:
        if pattern.search(stem):
            return role
    return None


def role_by_content(peek: Peek) -> Role:
    """The role a file's header and first rows tell (module docstring, rule 3)."""
    if peek.export is not None:
        return "export"
    headers = list(peek.headers)

    def fits(kind: Literal["events", "deals", "spend"]) -> Mapping[str, str] | None:
        try:
            return match_columns(headers, kind).mapping
        except InputError:
            return None

    spend = fits("spend")
    events = fits("events")
    deals = fits("deals")
    if spend is not None and deals is None:
        return "spend"
    if events is not None:
        i = headers.index(events["deal_id"])
        ids = [r[i] for r in peek.rows if i < len(r) and r[i]]
        if len(set(ids)) < len(ids):
            return "events"
        return "deals"
    if deals is not None:
        return "deals"
    return "unknown"


def _stage_list(jsons: Sequence[Path]) -> Path | None:
    """Without a funnel file: the one JSON file of the folder that is a CRM's stage list
    (:mod:`voronka.io.exports.pipeline_file`), which gives the pipeline's real order."""
    from voronka.io.exports.pipeline_file import is_pipeline_file

    found = [p for p in jsons if is_pipeline_file(p)]
    return found[0] if len(found) == 1 else None


def _funnel_file(folder: Path, tomls: Sequence[Path]) -> Path | None:
    if not tomls:
        return None
    named = [p for p in tomls if p.stem.lower() in ("funnel", "воронка")]
    if named:
        return named[0]
    if len(tomls) == 1:
        return tomls[0]
    funnelish = [p for p in tomls if "funnel" in p.stem.lower() or "воронк" in p.stem.lower()]
    if len(funnelish) == 1:
        return funnelish[0]
    raise InputError(
        Msg("errors.raised.the_folder_has_several_toml_files", value=_names(tomls)),
        file=str(folder),
        expected=Msg("errors.expected.one_funnel_file_named_funnel_toml"),
    )


def scan_folder(
    folder: str | os.PathLike[str], *, need_funnel: bool = True, need_deals: bool = True,
    strict: bool = False,
) -> FolderContents:
    """Find the events, deals, spend, funnel files and CRM exports of ``folder``.

    Without an events file or a CRM export, the deals tables are the input: one table with a row
    per deal, or several tables of the same deals, one per funnel step
    (:attr:`FolderContents.milestones`). Beside an events file, several deals files are
    ambiguous: the message asks which one (``--deals``).

    Args:
        folder: the folder.
        need_funnel: look for a funnel file (False when the user gave ``--funnel``).
        need_deals: look for a deals file (False when the user gave ``--deals``).
        strict: a table file that cannot be opened (no permission …) stops the run; otherwise it
            is left out and listed in :attr:`FolderContents.unreadable`.

    Raises:
        InputError: the folder is missing, holds two files of one role, exports of different CRMs,
            several TOML files none named ``funnel``, or neither events nor a CRM export.
    """
    root = Path(folder)
    if not root.is_dir():
        raise InputError(Msg("errors.msg.folder_missing"), file=str(folder))
    files, outside = _entries(root)
    tables = [p for p in files if p.name.lower().endswith(TABLE_SUFFIXES)]
    tomls = [p for p in files if p.suffix.lower() == ".toml"]
    stage_lists = [p for p in files if p.suffix.lower() == ".json"]
    roles: dict[Path, Role] = dict.fromkeys(outside, "outside")
    peeks: dict[Path, Peek] = {}
    unreadable: list[tuple[Path, str]] = []
    for path in tables:
        try:
            peek = peek_table(path)
        except gzip.BadGzipFile:
            roles[path] = "unknown"
            continue
        except OSError as exc:
            if strict:
                raise InputError(
                    Msg("errors.raised.the_file_cannot_be_read", value=unreadable_reason(exc)),
                    file=str(path),
                    expected=Msg("errors.expected.a_file_the_user_running_voronka_2"),
                ) from None
            roles[path] = "unreadable"
            unreadable.append((path, unreadable_reason(exc)))
            continue
        except InputError:
            roles[path] = "unknown"
            continue
        peeks[path] = peek
        by_name = role_by_name(path)
        roles[path] = "export" if peek.export is not None else by_name or role_by_content(peek)
    found: dict[Role, list[Path]] = {}
    for path, role in roles.items():
        if role != "outside":
            found.setdefault(role, []).append(path)
    exports = tuple(found.get("export", []))
    milestones: tuple[Path, ...] = ()
    candidates = found.get("deals", [])
    if not found.get("events") and not exports and candidates and (
            len(candidates) > 1 or could_be_deal_rows(peeks[candidates[0]].headers)):
        milestones = tuple(candidates)
    for role in ("events", "deals", "spend"):
        if len(found.get(role, [])) > 1 and not (role == "deals" and (milestones or not
                                                                        need_deals)):
            which = either(f"--{role} {root / p.name}" for p in found[role][:3])
            raise InputError(
                Msg(
                    "errors.raised.the_folder_has_several_files_which",
                    role=role,
                    value=_names(found[role]),
                ),
                file=str(root),
                expected=Msg("errors.expected.one_file_name_it_in_the", role=role, which=which),
            )
    crms = sorted({fmt.crm for p in exports if (fmt := peeks[p].export) is not None})
    if len(crms) > 1 and not found.get("events"):
        raise InputError(
            Msg(
                "errors.raised.the_folder_has_exports_of_different",
                value=", ".join(crms),
                value2=_names(exports),
            ),
            file=str(root),
            expected=Msg("errors.expected.exports_of_one_crm_snapshots_taken"),
        )
    if not found.get("events") and not exports and not milestones:
        raise InputError(
            Msg("errors.raised.the_folder_has_no_events_file", found=describe_roles(roles, tomls)),
            file=str(root),
            expected=Msg("errors.expected.an_events_file_deal_id_stage"),
        )
    return FolderContents(
        folder=root,
        events=_first(found.get("events")),
        deals=_first(found.get("deals")) if need_deals and not milestones else None,
        spend=_first(found.get("spend")),
        funnel=(_funnel_file(root, tomls) or _stage_list(stage_lists)) if need_funnel else None,
        exports=exports,
        milestones=milestones,
        roles=roles,
        peeks=peeks,
        unreadable=tuple(unreadable),
    )


def _entries(root: Path) -> tuple[list[Path], list[Path]]:
    """The files of ``root`` (hidden and ``~$`` lock files skipped), and the symbolic links in it
    that point outside it (not followed)."""
    base = root.resolve()
    files: list[Path] = []
    outside: list[Path] = []
    for p in sorted(root.iterdir()):
        if p.name.startswith((".", "~$")):
            continue
        if p.is_symlink():
            try:
                target = p.resolve(strict=True)
            except (OSError, RuntimeError):
                outside.append(p)  # a dangling or looping link
                continue
            if not target.is_relative_to(base):
                outside.append(p)
                continue
        if p.is_file():
            files.append(p)
    return files, outside


_ROLE_PARTS: Mapping[Role, str] = {
    "events": "errors.part.events", "deals": "errors.part.deals", "spend": "errors.part.spend",
    "export": "errors.part.crm_export", "unknown": "errors.part.not_a_table_voronka_knows",
    "outside": "errors.part.a_link_to_a_file_outside",
    "unreadable": "errors.part.cannot_be_read_no_permission_or",
}
"""The catalogue's words for each role of a file, as a message lists it."""


def describe_roles(roles: Mapping[Path, Role], tomls: Sequence[Path] = ()) -> list[str] | Msg:
    """``events.csv (events), notes.txt (not a table voronka knows), …`` for messages: each file
    with its role in the catalogue's words (a message joins them in the user's language)."""
    from voronka.text_safety import safe_text

    parts = [Msg("errors.part.file_role", name=safe_text(p.name), role=Msg(_ROLE_PARTS[r]))
             for p, r in roles.items()]
    parts += [Msg("errors.part.file_role", name=safe_text(p.name), role="(TOML)") for p in tomls]
    return list(parts) or Msg("errors.part.no_table_files")


def _first(paths: Sequence[Path] | None) -> Path | None:
    return paths[0] if paths else None


def _names(paths: Sequence[Path]) -> str:
    return ", ".join(p.name for p in paths)
