"""Helpers of the web tests (a module of its own: ``conftest`` is not importable by name when
several test folders are collected together)."""

from __future__ import annotations

import io
import socket
import threading
import time
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

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


@contextmanager
def served(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on 127.0.0.1; its base URL. The socket is bound to a
    port the system picks and handed to uvicorn as it is, so no other process (another
    pytest-xdist worker) can take the port in between."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        sock.close()


__all__ = ["TestClient", "served", "zip_folder"]
