"""Who may use the server and where uploads land: the token beyond loopback, uploads that cannot
leave ``--data``, the size limit, the column-mapping screen remembered by file shape."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from web_helpers import TestClient

from voronka.cli import main
from voronka.errors import UsageError
from voronka.web import ServeSettings, create_app

ODD_CSV = (
    "Номер;Шаг;Когда;Канал\n"
    "1;Новая заявка;2025-01-06 10:00;SEO\n"
    "1;Квалификация пройдена;2025-01-07 10:00;SEO\n"
    "2;Новая заявка;2025-01-08 10:00;Директ\n"
    "3;Новая заявка;2025-01-09 10:00;Директ\n"
).encode()


def test_serving_beyond_loopback_without_a_token_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--data", str(tmp_path / "d")]) == 2
    assert "token" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
    with pytest.raises(UsageError):
        create_app(ServeSettings(data_dir=tmp_path, host="0.0.0.0"))


def test_every_request_needs_the_token_when_one_is_set(tmp_path: Path) -> None:
    app = create_app(ServeSettings(data_dir=tmp_path, host="0.0.0.0", token="s3cret"))
    with TestClient(app) as c:
        for path in ("/", "/api/v1/datasets", "/api/v1/openapi.json", "/static/htmx.min.js"):
            assert c.get(path).status_code == 401, path
        assert (
            c.get("/api/v1/datasets", headers={"Authorization": "Bearer wrong"}).status_code == 401
        )
        assert (
            c.get("/api/v1/datasets", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        )
        assert c.get("/?token=s3cret").status_code == 200
        assert c.get("/").status_code == 200  # the cookie set by ?token= is enough afterwards


def _outside(root: Path, data: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and data not in p.parents]


def test_uploads_named_to_escape_stay_inside_data(tmp_path: Path) -> None:
    data = tmp_path / "deep" / "data"
    app = create_app(ServeSettings(data_dir=data))
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("../../../zip-escape.csv", ODD_CSV)
        zf.writestr("/abs-escape.csv", ODD_CSV)
    with TestClient(app) as c:
        r = c.post("/api/v1/datasets", files={"file": ("../../x", ODD_CSV)})
        assert r.status_code == 201
        c.post("/api/v1/datasets", files={"file": ("..\\..\\win.csv", ODD_CSV)})
        c.post("/api/v1/datasets", files={"file": ("evil.zip", evil.getvalue())})
    assert not _outside(tmp_path, data)
    names = {p.name for p in (data / "datasets").rglob("*") if p.is_file()}
    assert {"x", "win.csv", "zip-escape.csv", "abs-escape.csv"} <= names


def test_an_upload_past_the_limit_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    app = create_app(ServeSettings(data_dir=tmp_path, max_upload_bytes=1000))
    with TestClient(app) as c:
        r = c.post("/api/v1/datasets?lang=en", files={"file": ("big.csv", ODD_CSV * 20)})
        assert r.status_code == 400 and "larger" in r.json()["detail"]
        r = c.post("/api/v1/datasets", files={"file": ("big.csv", ODD_CSV * 20)})
        assert r.status_code == 400 and "загрузка больше" in r.json()["detail"]  # server: ru
        assert c.get("/api/v1/datasets").json() == []
    assert not [p for p in (tmp_path / "datasets").rglob("*") if p.is_file()]


def test_unknown_headers_go_to_the_mapping_screen_and_are_remembered(tmp_path: Path) -> None:
    app = create_app(ServeSettings(data_dir=tmp_path))
    with TestClient(app) as c:
        r = c.post("/upload", files={"file": ("odd.csv", ODD_CSV)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].split("?")[0].endswith("/mapping")
        screen = c.get(r.headers["location"]).text
        assert "Номер" in screen and "Новая заявка" in screen  # headers and preview rows
        form = {
            "map_deal_id": "Номер",
            "map_stage": "Шаг",
            "map_entered_at": "Когда",
            "map_source": "Канал",
        }
        saved = c.post(r.headers["location"], data=form, follow_redirects=False)
        assert saved.status_code == 303
        # The panel (a full page of an audit not computed yet comes with a loading section).
        dashboard = c.get(saved.headers["location"], headers={"HX-Request": "true"})
        assert dashboard.status_code == 200 and 'id="funnel-drill"' in dashboard.text
        again = c.post("/upload", files={"file": ("odd-2.csv", ODD_CSV)}, follow_redirects=False)
        assert "/mapping" not in again.headers["location"]


def test_text_from_the_data_is_escaped(tmp_path: Path) -> None:
    hostile = ODD_CSV.replace(b"SEO", b"<script>alert(1)</script>")
    header = b"deal_id;stage;entered_at;source\n"
    app = create_app(ServeSettings(data_dir=tmp_path))
    with TestClient(app) as c:
        r = c.post("/upload", files={"file": ("h.csv", header + hostile.split(b"\n", 1)[1])})
        assert r.status_code == 200
        assert "<script>alert(1)</script>" not in r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text


def test_a_file_with_a_lone_carriage_return_is_a_clear_400(tmp_path: Path) -> None:
    """Found by schemathesis: ``0\\r0`` made the CSV reader raise csv.Error (a 500)."""
    app = create_app(ServeSettings(data_dir=tmp_path))
    with TestClient(app) as c:
        r = c.post("/api/v1/datasets", files={"file": ("file", b"0\r0")})
        assert r.status_code in (201, 400)  # never a 500
        assert r.json()["needs_mapping"] if r.status_code == 201 else r.json()["detail"]
