"""The same export saved as `;`-separated Windows-1251 CSV, as UTF-8 CSV with commas, as XLSX and as
Parquet gives the same audit."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import voronka
from voronka.demo import generate_demo, write_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return generate_demo(1_500, seed=3)


def _audit(files) -> dict:
    result = voronka.audit(files.events, deals=files.deals, spend=files.spend, funnel=files.funnel)
    out = result.to_dict()
    # File names differ between the variants; everything else must not.
    dq = out.pop("data_quality")
    out["rows"] = sorted((v, dq["rows_used"][k], dq["rows_rejected"][k])
                         for k, v in dq["rows_read"].items())
    out["issues"] = sorted((i["kind"], i["count"]) for i in dq["issues"])
    return out


def test_csv_1251_xlsx_parquet_give_the_same_audit(demo, tmp_path: Path) -> None:
    base = write_demo(demo, tmp_path / "csv")
    reference = _audit(base)
    assert reference["funnel"]["deals"] > 1000

    # The same CSV files re-saved as Windows-1251 with commas.
    cp = tmp_path / "cp1251"
    cp.mkdir()
    for name in ("events", "deals", "spend"):
        frame = pd.read_csv(getattr(base, name), sep=";", dtype=str, keep_default_na=False)
        frame.to_csv(cp / f"{name}.csv", sep=",", index=False, encoding="cp1251")
    (cp / "funnel.toml").write_bytes(Path(base.funnel).read_bytes())
    files_1251 = type(base)(folder=cp, events=cp / "events.csv", deals=cp / "deals.csv",
                            spend=cp / "spend.csv", funnel=cp / "funnel.toml")
    assert _audit(files_1251) == reference

    for fmt in ("xlsx", "parquet"):
        files = write_demo(demo, tmp_path / fmt, fmt=fmt)
        assert Path(files.events).suffix == f".{fmt}"
        assert _audit(files) == reference, fmt
