"""The text encoding of an input file: detected from a sample (UTF-8, a BOM, Windows-1251 or
charset-normalizer's guess), and a file whose lines mix UTF-8 and Windows-1251 (an export
appended to by two systems) transcoded line by line."""

from __future__ import annotations

import codecs
import gzip
import re
from pathlib import Path
from typing import Any

import charset_normalizer

_CYRILLIC_WORD = re.compile("(?<![A-Za-z])[\u0400-\u04ff]{2,}(?![A-Za-z])")


def detect_encoding(sample: bytes) -> str:
    """The text encoding of ``sample``: ``utf-8-sig`` (BOM), ``utf-8`` when it decodes, else the
    best guess of charset-normalizer (``cp1251`` for a typical Russian Windows export)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A sample cut in the middle of a multi-byte character is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    # Windows-1251 is by far the most common non-UTF-8 encoding of CRM exports, and short samples
    # fool general detectors (a two-word Russian header can pass for Korean): take cp1251 when
    # most non-ASCII characters it decodes to make Cyrillic words (two letters or more, not glued
    # to Latin letters: the accented letters of a Western text decode to Cyrillic letters inside
    # Latin words).
    text = sample.decode("cp1251", errors="replace")
    non_ascii = sum(1 for ch in text if ord(ch) > 127)
    in_words = sum(len(w) for w in _CYRILLIC_WORD.findall(text))
    if non_ascii and in_words >= 0.7 * non_ascii:
        return "cp1251"
    best = charset_normalizer.from_bytes(sample[: 256 * 1024]).best()
    encoding = best.encoding if best is not None else "cp1251"
    return codecs.lookup(encoding).name


MIXED = "utf-8+cp1251"
"""The ``encoding`` of a file whose lines mix UTF-8 and Windows-1251 (decoded line by line)."""

_UTF8_CYRILLIC = re.compile(rb"[\xd0\xd1][\x80-\xbf][\xd0\xd1][\x80-\xbf]")


def has_utf8_cyrillic(p: Path, gzipped: bool) -> bool:
    """Whether a file taken for Windows-1251 holds UTF-8 Cyrillic (two letters in a row): in
    Windows-1251 text that byte pattern ("Р" + a rare sign, twice) practically never occurs."""
    opener: Any = gzip.open if gzipped else open
    tail = b""
    with opener(p, "rb") as f:
        while chunk := f.read(8 << 20):
            if _UTF8_CYRILLIC.search(tail + chunk):
                return True
            tail = chunk[-3:]
    return False


def transcode_mixed(p: Path, gzipped: bool) -> tuple[bytes, str]:
    """The file as UTF-8, decoding each line as UTF-8 when it is valid UTF-8, else as
    Windows-1251; the encoding is :data:`MIXED` when both kinds of line occur, else ``cp1251``."""
    opener: Any = gzip.open if gzipped else open
    with opener(p, "rb") as f:
        raw = f.read()
    out: list[bytes] = []
    utf8 = legacy = 0
    for line in raw.split(b"\n"):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            out.append(line.decode("cp1251", errors="replace").encode("utf-8"))
            legacy += 1
            continue
        out.append(line)
        utf8 += bool(max(line, default=0) > 127)
    if raw.startswith(codecs.BOM_UTF8):
        out[0] = out[0][len(codecs.BOM_UTF8):]
    return b"\n".join(out), (MIXED if utf8 and legacy else "cp1251")
