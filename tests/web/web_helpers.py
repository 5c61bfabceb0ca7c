"""Helpers of the web tests (a module of its own: ``conftest`` is not importable by name when
several test folders are collected together)."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

with warnings.catch_warnings():
    # starlette 1.x asks for httpx2, which is not packaged here; httpx works the same for tests.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def zip_folder(folder: Path) -> bytes:
    """A ZIP of ``folder``'s files, as a user would upload it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(folder.iterdir()):
            if path.is_file():
                zf.write(path, f"export/{path.name}")
    return buffer.getvalue()


__all__ = ["TestClient", "zip_folder"]
