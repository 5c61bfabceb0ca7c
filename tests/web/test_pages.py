"""The team pages and the funnel editor over the demo dataset (in-process)."""

from __future__ import annotations

import tomllib


def test_managers_and_todays_list_render(client, demo_id) -> None:
    managers = client.get(f"/d/{demo_id}/managers")
    assert managers.status_code == 200 and 'id="managers"' in managers.text
    today = client.get(f"/d/{demo_id}/today")
    assert today.status_code == 200 and 'id="today"' in today.text
    english = client.get(f"/d/{demo_id}/today", params={"lang": "en"}).text
    assert "Today's list" in english or "Today&#39;s list" in english


def test_funnel_editor_lints_and_saves(client, demo_id) -> None:
    page = client.get(f"/d/{demo_id}/funnel")
    assert page.status_code == 200 and 'id="lint-table"' in page.text
    text = page.text.split('id="funnel-text"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
    import html

    toml_text = html.unescape(text)
    data = tomllib.loads(toml_text)
    broken = client.post(f"/d/{demo_id}/funnel/lint", data={"text": "[[stage]\nname ="})
    assert 'id="funnel-error"' in broken.text
    first = data["stage"][0]["name"]
    renamed = toml_text.replace(f'"{first}"', '"Думают"', 1)
    lint = client.post(f"/d/{demo_id}/funnel/lint", data={"text": renamed})
    assert "Думают" in lint.text
    data["deal_url"] = "https://example.amocrm.ru/leads/detail/{deal_id}"
    import tomli_w

    saved = client.post(
        f"/d/{demo_id}/funnel", data={"text": tomli_w.dumps(data)}, follow_redirects=False
    )
    assert saved.status_code == 303
    deals = client.get(f"/d/{demo_id}/deals", params={"sel": "won"})
    assert "https://example.amocrm.ru/leads/detail/" in deals.text
    refused = client.post(f"/d/{demo_id}/funnel", data={"text": "nonsense = ["})
    assert refused.status_code == 400
