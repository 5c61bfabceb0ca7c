"""Ibis's SQL compilers, each imported when its backend first asks for it.

Ibis's package ``ibis.backends.sql.compilers`` imports the compiler of every SQL dialect Ibis
knows (twenty, each with its sqlglot dialect: ≈ 0.14 s at every start), although a run uses one
or two. :func:`install` registers that package before Ibis first imports it, as the same
package (its folder, so its submodules import as usual) whose names load on first use (PEP
562): ``DuckDBCompiler`` imports ``…compilers.duckdb``, ``sc.duckdb`` that submodule,
``getattr(sc, "mysql")`` the MySQL one. The names and the submodules they come from are read
from the package's own ``__init__.py`` (its ``from … import …`` lines), so a new Ibis release
keeps working; when that file cannot be read so, nothing is installed and Ibis imports every
compiler as before.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

PACKAGE = "ibis.backends.sql.compilers"


def _exported(source: str) -> dict[str, str]:
    """Name → submodule of every ``from <PACKAGE>.<submodule> import <Name>`` at the top level of
    the package's ``__init__.py``; empty when the file has any other statement (then it may do
    more than gather names, and is left to run)."""
    names: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "__future__":
                continue
            parent, _, sub = node.module.rpartition(".")
            if parent != PACKAGE or not sub:
                return {}
            for alias in node.names:
                names[alias.asname or alias.name] = sub
        elif isinstance(node, ast.Assign) and all(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            continue
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        else:
            return {}
    return names


def install() -> bool:
    """Register the lazy compilers package (unless Ibis already imported it); whether it is in
    place."""
    if PACKAGE in sys.modules:
        return getattr(sys.modules[PACKAGE], "__voronka_lazy__", False) is True
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        return False
    try:
        with open(spec.origin, encoding="utf-8") as file:
            exported = _exported(file.read())
    except (OSError, SyntaxError, ValueError):
        return False
    if not exported:
        return False
    module = importlib.util.module_from_spec(spec)

    def __getattr__(name: str) -> Any:
        sub = exported.get(name, name)
        try:
            found: ModuleType = importlib.import_module(f"{PACKAGE}.{sub}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{PACKAGE}.{sub}":
                raise  # the submodule exists but needs a missing library: say so
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from None
        value = found if sub == name else getattr(found, name)
        setattr(module, name, value)
        return value

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__all__ = sorted(exported)  # type: ignore[attr-defined]
    module.__voronka_lazy__ = True  # type: ignore[attr-defined]
    sys.modules[PACKAGE] = module
    parent = sys.modules.get(PACKAGE.rpartition(".")[0])
    if parent is not None:
        setattr(parent, PACKAGE.rpartition(".")[2], module)
    return True
