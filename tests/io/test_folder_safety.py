"""A folder's links out of it are not followed; errors echo no more than a short escaped excerpt
(issue 10, point 15)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voronka.errors import InputError
from voronka.io.folder import scan_folder

pytestmark = pytest.mark.skipif(os.name != "posix", reason="symbolic links")

SECRET = "root-SECRET-LINE:x:0:0:root:/root:/bin/bash"


def _events(path: Path) -> None:
    path.write_text("deal_id,stage,entered_at\n1,Lead,2025-01-01\n1,Won,2025-01-05\n"
                    "2,Lead,2025-01-02\n", encoding="utf-8")


def test_a_link_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    private = tmp_path / "private.csv"
    private.write_text(SECRET + "\nsecond line\n", encoding="utf-8")
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "events.csv").symlink_to(private)
    with pytest.raises(InputError) as info:
        scan_folder(folder)
    assert SECRET[:10] not in str(info.value)
    assert "not followed" in str(info.value)
    # The command line's message: catalogue row ``folder-link-out`` (tests/inputs/catalogue_b.py).


def test_a_link_inside_the_folder_is_used(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    (folder / "raw").mkdir(parents=True)
    _events(folder / "raw" / "data.csv")
    (folder / "events.csv").symlink_to(folder / "raw" / "data.csv")
    assert scan_folder(folder).events == folder / "events.csv"


def test_a_link_out_does_not_hide_the_real_events_file(tmp_path: Path) -> None:
    private = tmp_path / "private.csv"
    private.write_text(SECRET + "\n", encoding="utf-8")
    folder = tmp_path / "export"
    folder.mkdir()
    _events(folder / "events.csv")
    (folder / "deals.csv").symlink_to(private)
    found = scan_folder(folder)
    assert found.events == folder / "events.csv" and found.deals is None
    assert found.roles[folder / "deals.csv"] == "outside"


# An error naming a 5,000-character header with escape codes: catalogue row
# ``long-escaped-header`` (tests/inputs/catalogue_b.py).
