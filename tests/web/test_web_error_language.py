"""The web app's error answers are in the request's language (``?lang=``, else the server's)."""

from __future__ import annotations

import re

import pytest
from web_helpers import TestClient

from voronka.errors import UsageError
from voronka.web.views import selection_of


def _detail(client: TestClient, lang: str | None) -> str:
    query = f"?lang={lang}" if lang else ""
    r = client.post(f"/api/v1/datasets{query}", files={"file": ("export.zip", b"PK\x03\x04 broken")})
    assert r.status_code == 400, r.text
    return str(r.json()["detail"])


def test_an_input_error_is_answered_in_the_requests_language(client: TestClient) -> None:
    ru = _detail(client, "ru")
    assert "повреждён" in ru or "ZIP" in ru
    assert re.findall(r"[a-z]{3,}", ru.replace("export.zip", "")) == [], ru
    en = _detail(client, "en")
    assert "damaged" in en
    assert _detail(client, None) == ru  # the server's default language is Russian


def test_an_unknown_stage_of_a_deal_list_is_said_in_russian() -> None:
    with pytest.raises(UsageError) as caught:
        selection_of(None, ["new", "won"], {"sel": "all", "stage": "zzz"})  # type: ignore[arg-type]
    assert caught.value.key == "errors.raised.unknown_stage"
    ru = caught.value.describe_in("ru")
    assert ru == "неизвестный этап 'zzz' (ожидается: new, won)"
    assert caught.value.describe_in("en") == "unknown stage 'zzz' (expected new, won)"
