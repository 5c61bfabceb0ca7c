"""The simulation studies (``studies/``) still import: the names they take from the package
exist. A refactor moved the demo's ``US_PER_DAY`` out of ``voronka.demo.generate`` and the
anomalies study failed only when someone ran it; this catches the import-time part of that."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

STUDIES = Path(__file__).resolve().parent.parent / "studies"


@pytest.mark.parametrize("path", sorted(STUDIES.glob("*.py")), ids=lambda p: p.name)
def test_study_imports_and_names_it_reads_from_the_demo_exist(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(STUDIES))
    spec = importlib.util.spec_from_file_location(f"study_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)  # the studies run only under __main__
    # attributes read from a module imported under an alias (``generate as sim`` → ``sim.X``)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {a.asname: getattr(module, a.asname) for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) for a in node.names
               if a.asname and hasattr(getattr(module, a.asname, None), "__file__")}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases):
            assert hasattr(aliases[node.value.id], node.attr), f"{node.value.id}.{node.attr}"
