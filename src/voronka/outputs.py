"""Writing the command line's outputs safely, and noticing Ctrl-C (issue 10, points 17, 18).

* :func:`write_output`: a report is written to a temporary file next to the target and renamed
  over it once complete, so a kill or a full disk mid-write leaves the previous report intact. A
  target that is a folder, one of the inputs, or cannot be created is refused with a clear
  :class:`~voronka.errors.UsageError` (exit status 2), as is a device that cannot take the bytes
  (``/dev/full``).
* :func:`catch_interrupts`: Ctrl-C sets a flag and raises :class:`KeyboardInterrupt`; even when a
  library swallows the exception, the command exits with status 130 and writes nothing.
* :func:`format_of`, :func:`render_report`, :func:`write_report`: the report of ``voronka audit``,
  its format (``--format``, else the extension of ``-o``), rendering and where it goes.
* :class:`ReadProgress`: the progress bar of the files being read (on a terminal only).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from voronka.errors import InputError, Msg, UsageError
from voronka.i18n import t
from voronka.text_safety import safe_text

_interrupted = threading.Event()


def interrupted() -> bool:
    """Whether Ctrl-C was pressed since :func:`catch_interrupts` was entered."""
    return _interrupted.is_set()


@contextlib.contextmanager
def catch_interrupts() -> Iterator[None]:
    """Within the block, Ctrl-C (SIGINT) is remembered and raised as KeyboardInterrupt."""
    _interrupted.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        _interrupted.set()
        raise KeyboardInterrupt

    previous: Callable[..., Any] | int | None = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_target(output: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]]) -> Path:
    """The output path, refused when it is a folder or one of the ``inputs`` (a file, or a file
    inside an input folder)."""
    path = Path(output)
    if path.is_dir():
        raise UsageError(
            Msg("errors.raised.the_output_is_a_folder", path=repr(str(path))),
            expected=Msg("errors.expected.a_file_name_for_o"),
        )
    for given in inputs:
        source = Path(given)
        if _same_file(path, source) or (
            source.is_dir() and path.exists() and path.resolve().parent == source.resolve()
            and path.suffix.lower() in {".csv", ".xlsx", ".xls", ".parquet", ".gz", ".toml"}
        ):
            raise UsageError(
                Msg("errors.raised.the_output_is_one_of_the", path=repr(str(path))),
                expected=Msg("errors.expected.another_file_name_for_o"),
            )
    return path


def write_output(
    output: str | os.PathLike[str],
    content: str | bytes,
    inputs: Sequence[str | os.PathLike[str]] = (),
) -> Path:
    """Write ``content`` to ``output`` atomically (temporary file + rename); see the module
    docstring for what is refused."""
    path = check_target(output, inputs)
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.exists() and not path.is_file():  # a device or a pipe: written in place
        try:
            with open(path, "wb") as f:
                f.write(data)
        except OSError as exc:
            raise UsageError(
                Msg("errors.raised.cannot_write_the_output", path=repr(str(path)), value=_why(exc))
            ) from None
        return path
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            Msg(
                "errors.raised.cannot_create_the_folder_for_the",
                parent=repr(str(parent)),
                value=_why(exc),
            ),
            expected=Msg("errors.expected.a_path_in_a_folder_that"),
        ) from None
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if interrupted():
            raise KeyboardInterrupt
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise UsageError(
            Msg("errors.raised.cannot_write_the_output", path=repr(str(path)), value=_why(exc))
        ) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return path


NAME_LIST_BYTES = 1 << 20
"""The most ``lint-stages --file`` reads: a list of stage names is a few kilobytes."""


def read_name_list(path: str | os.PathLike[str]) -> list[str]:
    """The names of a ``lint-stages --file`` list, one a line (UTF-8 or Windows-1251).

    Raises:
        InputError: the file is missing, not a regular file (``/dev/zero``), binary or too big.
    """
    file = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError(Msg("errors.msg.not_regular"), file=file)
    try:
        with open(p, "rb") as f:
            data = f.read(NAME_LIST_BYTES + 1)
    except OSError as exc:
        raise InputError(
            Msg("errors.raised.cannot_read_the_file", value=_why(exc)), file=file
        ) from None
    if len(data) > NAME_LIST_BYTES:
        raise InputError(Msg("errors.raised.the_file_is_too_big_for"), file=file,
                         expected=Msg("errors.expected.one_stage_name_a_line_under"))
    if b"\x00" in data:
        raise InputError(
            Msg("errors.msg.not_text"),
            file=file,
            expected=Msg("errors.expected.one_stage_name_a_line"),
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


# -- the report of `voronka audit`: its format, rendering and where it goes -----------------------
FORMATS = ("text", "json", "html", "xlsx", "md")
EXTENSIONS = {"json": "json", "html": "html", "xlsx": "xlsx", "md": "md", "text": "txt"}


def format_of(output: str | None) -> str:
    """The report format an output path asks for by its extension (``report.html`` → html,
    ``.htm``, ``.markdown`` and ``.txt`` too); ``text`` for stdout, no path or another extension."""
    if not output or output == "-":
        return "text"
    suffix = Path(output).suffix.lower().lstrip(".")
    aliases = {"htm": "html", "markdown": "md", "txt": "text"}
    found = aliases.get(suffix, suffix)
    return found if found in FORMATS else "text"


def write_report(content: str | bytes, fmt: str, output: str | None, lang: str) -> None:
    """A rendered report to ``output`` (``-``: standard output; None: the terminal text is
    printed already, another format goes to ``voronka-report.<ext>``, JSON to standard output)."""
    if fmt == "text" and output is None:
        return  # already printed to the terminal
    if output is None:
        output = "-" if fmt == "json" else f"voronka-report.{EXTENSIONS[fmt]}"
    if output == "-":
        if isinstance(content, bytes):
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content if content.endswith("\n") else content + "\n")
        return
    path = write_output(output, content, INPUTS)
    Console(stderr=True, emoji=False).print(
        escape(safe_text(t("cli.written", lang, path=str(path))))
    )


INPUTS: list[str] = []
"""The input paths of the running command (an output must not overwrite one)."""


def render_report(result: Any, fmt: str, lang: str, funnel: Any, console: Console) -> str | bytes:
    """``result`` rendered as ``fmt`` (the text also printed to ``console``)."""
    from voronka import report

    if fmt == "text":
        report.print_text(result, console, lang=lang, funnel=funnel)
        return report.render(result, "text", lang=lang, funnel=funnel)
    return report.render(result, fmt, lang=lang, funnel=funnel)


class ReadProgress:
    """A rich progress bar over the bytes of the files being read (shown on a terminal only;
    elsewhere nothing is drawn and rich's progress module is not imported)."""

    def __init__(self, console: Console) -> None:
        self.progress: Any = None
        self.tasks: dict[str, Any] = {}
        if not console.is_terminal:
            return
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
            console=console, transient=True,
        )

    def __enter__(self) -> ReadProgress:
        if self.progress is not None:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.__exit__(None, None, None)

    def __call__(self, file: str, done: int, total: int) -> None:
        if self.progress is None:
            return
        if file not in self.tasks:
            self.tasks[file] = self.progress.add_task(escape(safe_text(Path(file).name)),
                                                      total=total or None)
        self.progress.update(self.tasks[file], completed=done, total=total or None)
