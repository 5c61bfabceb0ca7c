"""One row of the hostile-input catalogue (``catalogue.py``, ``catalogue_b.py``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Build = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    """One hostile input.

    Attributes:
        id: a short name.
        build: writes the files into a folder and returns the command line (after ``voronka``).
        code: the exit status expected (0 or 2; 130 for an interruption).
        says: fragments the message must hold (stderr for an error; the output when 0: the JSON
            text of an audit in JSON, else stdout).
        issues: data-quality issue kind → count expected (exit 0 only).
        rejected: input file name → rows rejected expected (exit 0 only).
        not_says: fragments that must appear in neither stdout nor stderr (secrets, file
            contents).
        raw_free: stdout and stderr hold no raw control character, escape introducer or bidi
            override (they are shown as ``\\x1b``, ``\\u202e``).
        unread: file names that must not be among the files read (an audit in JSON).
        max_err: the longest stderr allowed, in characters.
        env: environment variables for the run; ``{folder}`` is the case's folder, ``{server}``
            the address of the echoing fake CRM.
        server: the status an echoing fake CRM answers every request with (it repeats the
            request: address, headers, body), or None for no server.
        patch: applied with pytest's ``monkeypatch`` before the run (e.g. a file that cannot be
            opened, whoever runs the tests).
        full: an audit in JSON that succeeds also runs every statistics section (``run_audit``);
            the other such rows stop after the data-quality section, which holds everything the
            row asserts (see ``test_catalogue.py``). One row per family of quirks is full.
    """

    id: str
    build: Build
    code: int
    says: tuple[str, ...] = ()
    issues: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    not_says: tuple[str, ...] = ()
    raw_free: bool = False
    unread: tuple[str, ...] = ()
    max_err: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    server: int | None = None
    patch: Callable[[Any], None] | None = None
    full: bool = False
