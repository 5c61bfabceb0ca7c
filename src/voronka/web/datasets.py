"""Datasets from uploads: storing the files, telling when the headers need a mapping, the
mapping screen's preview and saving the mapping for the next file of the same shape."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from voronka.errors import InputError, Msg, any_of
from voronka.io.aliases import REQUIRED, canonical_columns, match_columns, normalize_header
from voronka.web.store import Dataset, Store, shape_key
from voronka.web.uploads import safe_name, store_upload
from voronka.web.workspace import UnknownDataset, Workspace, data_files

CANONICAL_FIELDS: tuple[str, ...] = canonical_columns("events")
"""The fields the mapping screen offers, required first (``deal_id``, ``stage``,
``entered_at``, then the deal attributes)."""

PREVIEW_ROWS = 5


def create_dataset(store: Store, source: BinaryIO, filename: str | None, limit: int) -> Dataset:
    """Store an upload as a new dataset (its files under the data folder)."""
    dataset_id, folder = store.new_dataset_folder()
    try:
        files = store_upload(source, filename, folder, limit)
    except Exception:
        for path in sorted(folder.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()
        folder.rmdir()
        raise
    if not data_files(folder):
        raise InputError(
            Msg("errors.raised.the_upload_holds_no_csv_xlsx"), file=safe_name(filename)
        )
    del files
    return store.add_dataset(dataset_id, safe_name(filename), folder)


def _single_file(folder: Path) -> Path | None:
    files = data_files(folder)
    return files[0] if len(files) == 1 else None


def needs_mapping(ws: Workspace, dataset: Dataset) -> bool:
    """Whether the dataset's one file lacks a required column the mapping screen can supply.
    Other input errors propagate (the user sees their message); the dataset is then removed."""
    try:
        ws.load(dataset.id)
    except InputError as exc:
        if _single_file(dataset.folder) is not None and exc.column in REQUIRED["events"]:
            return True
        ws.store.delete_dataset(dataset.id)
        raise
    return False


def preview(folder: Path) -> tuple[list[str], list[list[str]], dict[str, str]]:
    """The headers of the dataset's file, its first rows, and the columns already recognised
    (canonical field → header) as the screen's starting choice."""
    from voronka.io.raw import read_raw

    path = _single_file(folder)
    if path is None:
        raise InputError(Msg("errors.raised.only_a_single_file_can_be"))
    table = read_raw(path).table
    headers = [c for c in table.column_names if c != "_row"]
    head = table.select(headers).slice(0, PREVIEW_ROWS).to_pylist()
    rows = [["" if r[h] is None else str(r[h]) for h in headers] for r in head]
    guess: dict[str, str] = {}
    try:
        guess = dict(match_columns(headers, "events", file=str(path)).mapping)
    except InputError:  # some required column unrecognised: start from the names that match
        normal = {normalize_header(h): h for h in headers}
        guess = {f: normal[f] for f in CANONICAL_FIELDS if f in normal}
    return headers, rows, guess


def apply_mapping(ws: Workspace, dataset_id: str, mapping: dict[str, str]) -> None:
    """Save ``mapping`` (canonical field → header) for files shaped like the dataset's, and
    load the dataset with it (an :class:`InputError` names what is still missing)."""
    dataset = ws.store.dataset(dataset_id)
    if dataset is None:
        raise UnknownDataset(dataset_id)
    headers, _, _ = preview(dataset.folder)
    unknown = [h for h in mapping.values() if h not in headers]
    if unknown or any(f not in CANONICAL_FIELDS for f in mapping):
        raise InputError(Msg("errors.raised.the_mapping_names_a_column_the"),
                         column=(unknown or [""])[0])
    missing = [f for f in REQUIRED["events"] if f not in mapping]
    if missing:
        raise InputError(Msg("errors.raised.choose_a_column_for_every_required"), column=missing[0],
                         expected=any_of(REQUIRED["events"]))
    ws.store.save_mapping(shape_key(headers), mapping)
    ws.forget(dataset_id)
    ws.load(dataset_id)
