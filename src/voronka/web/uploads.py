"""Uploads: a CSV/XLSX/Parquet file or a ZIP of a folder, written under the data folder only.

The upload is streamed to disk in chunks and stopped past the size limit. Names from the browser
are never trusted: a file's name is reduced to its last part and to safe characters, and every
path (a ZIP's members too) is checked to resolve inside the dataset's folder, so an upload named
``../../x`` lands in the dataset folder as ``x``. A ZIP's unpacked size is bounded as well.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from voronka.errors import InputError, Msg

CHUNK_BYTES = 1024 * 1024
_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


class TooLarge(InputError):
    """An upload past the size limit."""


def safe_name(name: str | None, default: str = "upload.csv") -> str:
    """The last part of ``name`` (either slash), safe characters only, never ``.``/``..``."""
    raw = PureWindowsPath(PurePosixPath(name or "").name).name
    cleaned = _UNSAFE.sub("_", raw).strip(" .")
    return cleaned[:120] if cleaned and cleaned not in (".", "..") else default


def inside(folder: Path, relative: str) -> Path:
    """``folder / relative`` when it resolves inside ``folder``; :class:`InputError` otherwise."""
    root = folder.resolve()
    target = (root / relative).resolve()
    if target != root and root not in target.parents:
        raise InputError(Msg("errors.raised.a_file_in_the_upload_points"), file=relative)
    return target


def save_stream(source: BinaryIO, target: Path, limit: int) -> int:
    """Copy ``source`` to ``target`` in chunks; :class:`TooLarge` (file removed) past ``limit``."""
    written = 0
    with target.open("wb") as out:
        while chunk := source.read(CHUNK_BYTES):
            written += len(chunk)
            if written > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise TooLarge(
                    Msg("errors.raised.upload_too_large", mb=limit // (1024 * 1024)),
                    file=target.name,
                    expected=Msg("errors.expected.a_smaller_file"),
                )
            out.write(chunk)
    return written


def unpack_zip(archive: Path, folder: Path, limit: int) -> list[Path]:
    """Unpack ``archive`` into ``folder`` (members checked by :func:`inside`, total unpacked size
    at most ``limit``); the archive is removed afterwards."""
    out: list[Path] = []
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if sum(m.file_size for m in members) > limit:
                raise TooLarge(Msg("errors.raised.zip_too_large"), file=archive.name)
            for member in members:
                parts = [safe_name(p, "_") for p in PurePosixPath(member.filename).parts
                         if p not in ("", ".", "..", "/")]
                if not parts or parts[0].startswith("__MACOSX"):
                    continue
                target = inside(folder, "/".join(parts))
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK_BYTES)
                out.append(target)
    except zipfile.BadZipFile:
        raise InputError(Msg("errors.msg.zip_damaged"), file=archive.name) from None
    finally:
        archive.unlink(missing_ok=True)
    return out


def store_upload(source: BinaryIO, filename: str | None, folder: Path, limit: int) -> list[Path]:
    """Write an upload into ``folder`` (a ZIP is unpacked); the files written."""
    name = safe_name(filename)
    target = inside(folder, name)
    save_stream(source, target, limit)
    with target.open("rb") as f:
        is_zip = f.read(4) == b"PK\x03\x04" and not name.lower().endswith((".xlsx", ".xls"))
    if is_zip:
        return unpack_zip(target, folder, limit)
    return [target]
