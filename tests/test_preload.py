"""voronka.lazy.Preload: modules imported and warm-up calls made in a background thread; a
failure there is dropped (the module is imported again where needed, and raises there)."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from voronka.lazy import Preload


def test_modules_and_calls_run_in_another_thread(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "preload_probe_ok.py").write_text(
        "import threading\nTHREAD = threading.current_thread().name\n", encoding="utf-8")
    (tmp_path / "preload_probe_bad.py").write_text("raise RuntimeError('broken')\n",
                                                   encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen: list[str] = []

    def fails() -> None:
        raise ValueError("dropped")

    preload = Preload(["preload_probe_bad", "preload_probe_missing", "preload_probe_ok"],
                      [fails, lambda: seen.append(threading.current_thread().name)])
    preload.join()
    try:
        import preload_probe_ok  # type: ignore[import-not-found]

        assert preload_probe_ok.THREAD == "voronka-preload" != threading.current_thread().name
        assert seen == ["voronka-preload"]
        assert "preload_probe_bad" not in sys.modules
        with pytest.raises(RuntimeError, match="broken"):  # the error meets whoever imports it
            import preload_probe_bad  # type: ignore[import-not-found]  # noqa: F401
    finally:
        for name in ("preload_probe_ok", "preload_probe_bad"):
            sys.modules.pop(name, None)


@pytest.mark.parametrize(("text", "russian"), [
    ('[[stages]]\nid = "lead"\nname = "Новый лид"\n', True),
    ('[[stages]]\nid = "lead"\nname = "Ёлка"\n', True),
    ('[[stages]]\nid = "lead"\nname = "New lead"\n', False),
])
def test_the_morphology_is_preloaded_for_a_russian_funnel_only(tmp_path: Path, text: str,
                                                               russian: bool) -> None:
    from voronka.api import _may_be_russian

    funnel = tmp_path / "funnel.toml"
    funnel.write_text(text, encoding="utf-8")
    assert _may_be_russian(funnel) is russian
    assert _may_be_russian(str(funnel)) is russian
    assert _may_be_russian(None) is True  # the stage names are not known before reading
    assert _may_be_russian(tmp_path / "missing.toml") is False  # reading it says why, later
