"""The layer rules of ARCHITECTURE.md, checked on every test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_layers_and_ibis_only_in_engine() -> None:
    """import-linter: funnel/lang/i18n → io → engine → audit → report → cli, ibis only in engine/."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 kept, 0 broken" in done.stdout


def test_the_contracts_cover_every_top_level_module() -> None:
    """Every module and package directly under ``voronka`` sits in a layer, every one but the
    engine is forbidden ``ibis``, and the audit may reach neither the engine's submodules nor
    ``voronka.io`` (issue 11)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    layered = {name.strip() for layer in layers for name in layer.split("|")}
    package = ROOT / "src" / "voronka"
    top = {
        f"voronka.{p.stem}"
        for p in package.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert {"voronka.api", "voronka.demo", "voronka.errors", "voronka.schema"} <= top
    assert top <= layered, sorted(top - layered)
    forbidden = {
        (source, target)
        for c in contracts
        if c["type"] == "forbidden"
        for source in c["source_modules"]
        for target in c["forbidden_modules"]
    }
    assert ("voronka.audit", "voronka.engine.*") in forbidden
    assert ("voronka.audit", "voronka.io") in forbidden
    ibis_free = {source for source, target in forbidden if target == "ibis"}
    assert top - {"voronka.engine"} <= ibis_free, sorted(top - {"voronka.engine"} - ibis_free)


def test_every_command_is_documented() -> None:
    """Each CLI command has a section in docs/usage.md and appears in the README."""
    from voronka.cli import app

    usage = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [c.name for c in app.registered_commands]
    assert {"audit", "demo", "lint-stages"} <= set(names)
    for name in names:
        assert f"### `voronka {name}" in usage, name
        assert f"voronka {name}" in readme, name


def test_ruff_is_clean() -> None:
    """ruff (rules in pyproject.toml) finds nothing in src/ and tests/."""
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run([str(ruff), "check", "src", "tests", "-q"], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
