"""One profile record per CRM (issue 10, point 20): every list that names the CRMs comes from the
registry, and a new profile file is found without touching any other file."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import voronka.io.crm.profiles as profiles
from voronka.funnel import load_template
from voronka.io.crm.credentials import CREDENTIAL_KEYS, CRM_NAMES, REQUIRED_KEYS
from voronka.io.crm.runner import CONNECTORS
from voronka.io.exports import CRM_IDS, OUTCOME_STAGES, PROFILES, export_funnel


def test_every_list_of_crms_is_the_registry() -> None:
    ids = tuple(profiles.REGISTRY)
    assert ids == ("amocrm", "bitrix24", "hubspot", "pipedrive")
    assert CRM_NAMES == CRM_IDS == ids
    assert set(CREDENTIAL_KEYS) == set(REQUIRED_KEYS) == set(CONNECTORS) == set(ids)
    assert {p.crm for p in PROFILES} == set(ids)
    assert OUTCOME_STAGES == {"pipedrive": ("Won", "Lost")}
    for crm, profile in profiles.REGISTRY.items():
        assert CONNECTORS[crm].crm == crm
        assert all(e.crm == crm for e in profile.exports)
        assert load_template(crm).stages  # its template exists
        assert len(export_funnel(crm).stages) >= len(load_template(crm).stages)
    # The export formats keep their order: most specific signatures first.
    assert [(p.crm, p.language) for p in PROFILES] == [
        ("pipedrive", "en"), ("hubspot", "en"), ("amocrm", "ru"), ("bitrix24", "ru"),
        ("bitrix24", "en"), ("amocrm", "en")]


def test_a_new_crm_is_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "extra"
    package.mkdir()
    (package / "zoho.py").write_text(textwrap.dedent('''
        from voronka.io.crm.profiles.base import CrmProfile, ExportProfile

        PROFILE = CrmProfile(
            id="zoho", title="Zoho CRM", credential_keys=("token", "base_url"),
            required_keys=(("token",),), connector="voronka.io.crm.hubspot:HubSpotConnector",
            exports=(ExportProfile(crm="zoho", language="en",
                                   fields={"deal_id": ("Record Id",), "stage": ("Stage",)},
                                   signature=(("Record Id",), ("Stage",))),),
        )
    '''), encoding="utf-8")
    monkeypatch.setattr(profiles, "__path__", [*profiles.__path__, str(package)])
    monkeypatch.delitem(sys.modules, "voronka.io.crm.profiles.zoho", raising=False)
    try:
        found = profiles._discover()  # what the registry runs at import
    finally:
        sys.modules.pop("voronka.io.crm.profiles.zoho", None)
    assert "zoho" in found and found["zoho"].title == "Zoho CRM"
    assert list(found) == sorted(found) and set(profiles.REGISTRY) < set(found)
