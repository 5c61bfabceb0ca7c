"""What the inputs leave out, said in the data-quality notes.

* Files of a folder that the system refused to open (no permission, an I/O error): in lenient
  mode they are left out and the notes name and count them; in strict mode the first one stops
  the run (:func:`voronka.io.folder.scan_folder`).
* Columns of a very wide file that are not read: the notes count them and name the columns used
  (:data:`voronka.io.readers.MAX_EXTRA_COLUMNS`).
"""

from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from voronka.errors import InputError
from voronka.i18n import note
from voronka.io.result import ReadResult
from voronka.text_safety import safe_text

if TYPE_CHECKING:
    from voronka.io.inputs import InputSet


def with_unreadable(inputs: InputSet, unreadable: Sequence[tuple[Path, str]]) -> InputSet:
    """``inputs`` with a note naming the folder's files that could not be read, if any."""
    if not unreadable:
        return inputs
    files = ", ".join(f"{safe_text(p.name)} ({reason})" for p, reason in unreadable)
    return dataclasses.replace(inputs, limitations=(
        *inputs.limitations, note("inputs2.unreadable_files", count=len(unreadable), files=files)))


SHOWN_COLUMNS = 12
"""Used columns named in the note (the rest counted)."""


def column_notes(reads: Sequence[ReadResult]) -> list[str]:
    """A note per file some of whose columns were not read: how many, and which were used."""
    out = []
    for read in reads:
        total, used = read.columns_total, read.columns_used
        if total is None or total <= len(used):
            continue
        shown = ", ".join(f"«{safe_text(h)}»" for h in used[:SHOWN_COLUMNS])
        more = len(used) - SHOWN_COLUMNS
        out.append(note("inputs2.columns_dropped", file=safe_text(Path(read.file).name),
                        total=total, dropped=total - len(used), used_count=len(used),
                        used=shown + (f" (+{more})" if more > 0 else "")))
    return out


def drops_columns(path: str | os.PathLike[str], kind: str,
                  column_map: Mapping[str, str] | None = None) -> bool:
    """Whether reading ``path`` as ``kind`` (events, deals) leaves columns out: more extra
    columns than :data:`voronka.io.readers.MAX_EXTRA_COLUMNS` (a very wide export). Read from the
    header only; False when the header cannot be read (the reader then says why)."""
    import pyarrow.parquet as pq

    from voronka.io.aliases import match_columns
    from voronka.io.csvfile import sniff_csv
    from voronka.io.readers import kept_extras

    p = Path(path)
    try:
        with open(p, "rb") as f:
            head = f.read(4)
        if head == b"PAR1":
            headers = list(pq.read_schema(p).names)
        elif head.startswith((b"PK", b"\xd0\xcf", b"\x1f\x8b")):
            return False
        else:
            headers = sniff_csv(p, str(p), p.stat().st_size, gzipped=False).headers
        found = match_columns(headers, kind, column_map=column_map, file=str(p))  # type: ignore[arg-type]
    except (InputError, OSError, ValueError, UnicodeError, EOFError, csv.Error):
        return False  # the reader reads it and says what is wrong
    return len(found.extras) > len(kept_extras(found.extras))
