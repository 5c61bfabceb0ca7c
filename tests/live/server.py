"""A real ``uvicorn`` receiver process on 127.0.0.1 (for the crash test and the load bench)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SRC = Path(__file__).resolve().parents[2] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def in_use(stderr: str) -> bool:
    """Whether a server process exited because its port was taken meanwhile (the port is picked
    free, then handed to the process: another test may bind it in between)."""
    return "address already in use" in stderr.lower()


def secrets_env() -> dict[str, str]:
    from hookdata import AMO_TOKEN, BITRIX_TOKEN, HUBSPOT_SECRET, PD_PASSWORD, PD_USER

    return {
        "VORONKA_HOOK_AMOCRM_TOKEN": AMO_TOKEN, "VORONKA_HOOK_BITRIX24_TOKEN": BITRIX_TOKEN,
        "VORONKA_HOOK_HUBSPOT_SECRET": HUBSPOT_SECRET, "VORONKA_HOOK_PIPEDRIVE_USER": PD_USER,
        "VORONKA_HOOK_PIPEDRIVE_PASSWORD": PD_PASSWORD,
    }


class PortTaken(RuntimeError):
    """The server's port was bound by someone else between picking and binding."""


class Receiver:
    """``uvicorn --factory voronka.live.app:app_from_env`` on a free loopback port."""

    def __init__(self, data: Path, port: int | None = None) -> None:
        self.data = data
        self.fixed_port = port is not None
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0, attempts: int = 3) -> None:
        """Start and wait for health; on a port taken meanwhile, again on a new free port."""
        for attempt in range(attempts):
            try:
                self._start_once(timeout)
                return
            except PortTaken:
                if self.fixed_port or attempt == attempts - 1:
                    raise
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"

    def _start_once(self, timeout: float) -> None:
        env = {**os.environ, **secrets_env(), "VORONKA_DATA": str(self.data),
               "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "voronka.live.app:app_from_env",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
             "--no-access-log"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise (PortTaken if in_use(err) else RuntimeError)(f"receiver exited: {err}")
            try:
                if httpx.get(self.url + "/hooks/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("receiver did not start")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook, no checkpoint."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM: a clean shutdown (the store is checkpointed and closed)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
