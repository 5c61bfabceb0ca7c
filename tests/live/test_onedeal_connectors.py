"""A single deal is fetched by its CRM's connector (``Connector.fetch_deal``): the live pull
uses that public method, not the connectors' private helpers (the behaviour, per CRM against
its fake API, is in ``test_deals.py``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import voronka.live.onedeal as onedeal
from voronka.io.crm.base import GONE, Connector, fetch_or_gone
from voronka.io.crm.errors import CrmRequestError
from voronka.io.crm.runner import CONNECTORS


@pytest.mark.parametrize("crm", sorted(CONNECTORS))
def test_each_connector_fetches_a_single_deal_itself(crm: str) -> None:
    cls = CONNECTORS[crm]
    assert cls.fetch_deal is not Connector.fetch_deal
    assert cls.fetch_deal.__doc__


def test_onedeal_uses_no_private_name_of_the_connectors() -> None:
    tree = ast.parse(Path(onedeal.__file__).read_text(encoding="utf-8"))
    private = [f"{node.module}.{alias.name}" for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("voronka.io")
               for alias in node.names if alias.name.startswith("_")]
    assert private == []


def test_a_missing_record_is_gone_and_other_errors_are_raised() -> None:
    def missing() -> None:
        raise CrmRequestError.make("request", crm="amocrm", status=404, path="x", detail="nope")

    def refused() -> None:
        raise CrmRequestError.make("request", crm="amocrm", status=403, path="x", detail="no")

    assert fetch_or_gone(missing) is GONE
    assert fetch_or_gone(lambda: {"id": 1}) == {"id": 1}
    with pytest.raises(CrmRequestError):
        fetch_or_gone(refused)
