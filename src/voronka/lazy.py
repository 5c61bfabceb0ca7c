"""Package attributes imported on first use (PEP 562), so that importing a package stays light."""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_attributes(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: the name ``name`` is imported from the module
    ``where[name]`` (absolute, or relative to the package when it starts with a dot) on first use,
    and kept on the package so that the next use is a plain attribute."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__


class Preload:
    """Modules imported, and warm-up calls made, in a background thread while the caller works.

    Meant for the time the caller spends in native code that lets the interpreter go (DuckDB
    reading a file): on a second core the imports of the statistics stack then cost no wall time.
    A failure in the thread is dropped: whoever needs the module imports it again and meets the
    error there. Call :meth:`join` before using what was preloaded, and keep the caller's own
    imports apart from the preloaded ones while both run (two threads importing modules that
    import each other could each wait for the other's module lock).
    """

    def __init__(self, modules: Sequence[str], calls: Sequence[Callable[[], object]] = ()) -> None:
        self._modules = tuple(modules)
        self._calls = tuple(calls)
        self._thread = threading.Thread(target=self._run, name="voronka-preload")
        self._thread.start()

    def _run(self) -> None:
        for name in self._modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001, S112 - imported again where needed, raising there
                continue
        for call in self._calls:
            try:
                call()
            except Exception:  # noqa: BLE001, S112 - made again where needed, raising there
                continue

    def join(self) -> None:
        """Wait until every module is imported and every call made."""
        self._thread.join()
