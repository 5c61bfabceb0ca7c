"""Bytecode for the benchmarks' child processes, as an installed copy of voronka has it.

``pip install voronka`` compiles the package's bytecode at install time, so a user's ``voronka
audit`` reads ``.pyc`` files. This project is installed editable and the shared machine sets
``PYTHONDONTWRITEBYTECODE=1``, so without this step each benchmarked process would compile the
voronka modules it imports from source again (a JSON audit imports 131 of them, 0.9 MB of source:
0.16 s of CPU to compile, measured at a load average of 7), a cost no installed copy pays and the
bare-DuckDB side (whose packages come compiled) never pays. :func:`compile_package` writes the bytecode into the package's own
``__pycache__`` folders (git-ignored); Python reads valid ``.pyc`` files even where it may not
write them, and ignores one whose source changed since.
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
from pathlib import Path


def compile_package(env: dict[str, str] | None = None) -> Path:
    """Compile the ``voronka`` package that a child started with ``env`` imports; its folder."""
    found = subprocess.run(
        [sys.executable, "-c", "import os, voronka; print(os.path.dirname(voronka.__file__))"],
        env=env if env is not None else os.environ.copy(),
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    folder = Path(found)
    if not compileall.compile_dir(folder, quiet=1, workers=0):
        raise RuntimeError(f"compiling {folder} failed")
    return folder
