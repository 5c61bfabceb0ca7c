"""Files of a folder that the system refused to open (no permission, an I/O error): in lenient
mode they are left out and the data-quality notes name each one and count them; in strict mode the
first one stops the run (:func:`voronka.io.folder.scan_folder`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from voronka.i18n import note
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
