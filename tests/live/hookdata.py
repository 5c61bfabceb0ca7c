"""The documented webhook bodies of the four CRMs (../shared/reference/crm-apis.md §1.6, §2.6, §3.6,
§4.6), with helpers to vary them, sign them and post them."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from voronka.live.receivers import HooksConfig, hubspot_signature

AMO_TOKEN = "amo-url-secret-7f3a"
BITRIX_TOKEN = "51856fefc120afa4b628cc82d3935cce"
HUBSPOT_SECRET = "hubspot-client-secret-9d2e"
PD_USER, PD_PASSWORD = "voronka", "pd-basic-pass-4c1b"

NOW = datetime(2025, 4, 15, 16, 0, tzinfo=UTC)


def config(**overrides: Any) -> HooksConfig:
    values: dict[str, Any] = dict(
        amocrm_token=AMO_TOKEN, bitrix24_token=BITRIX_TOKEN, hubspot_secret=HUBSPOT_SECRET,
        pipedrive_user=PD_USER, pipedrive_password=PD_PASSWORD, now=lambda: NOW,
    )
    values.update(overrides)
    return HooksConfig(**values)


def amocrm_status(lead: int = 10701093, old: int = 20067736, new: int = 142,
                  modified: int = 1539782664, pipeline: int = 9217056) -> list[tuple[str, str]]:
    """The captured amoCRM ``status_lead`` body (§1.6) as form pairs."""
    p = "leads[status][0]"
    return [
        (f"{p}[id]", str(lead)), (f"{p}[name]", "Семинар: продажи"), (f"{p}[status_id]", str(new)),
        (f"{p}[old_status_id]", str(old)), (f"{p}[pipeline_id]", str(pipeline)),
        (f"{p}[old_pipeline_id]", str(pipeline)), (f"{p}[price]", "22500"),
        (f"{p}[responsible_user_id]", "2079676"), (f"{p}[last_modified]", str(modified)),
        (f"{p}[modified_user_id]", "2079718"), (f"{p}[created_user_id]", "2076025"),
        (f"{p}[date_create]", "1539782209"), (f"{p}[account_id]", "17769199"),
        (f"{p}[custom_fields][0][id]", "66339"), (f"{p}[custom_fields][0][name]", "Источник"),
        (f"{p}[custom_fields][0][values][0][value]", "Сайт"),
        ("account[id]", "17769199"), ("account[subdomain]", "example"),
    ]


def form(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs).encode()


def bitrix24_update(deal: int = 759, ts: int = 1736405807, token: str = BITRIX_TOKEN,
                    event: str = "ONCRMDEALUPDATE") -> list[tuple[str, str]]:
    """The ``ONCRMDEALUPDATE`` body (§2.6) as it arrives on the wire."""
    return [
        ("event", event), ("event_handler_id", "201"), ("data[FIELDS][ID]", str(deal)),
        ("ts", str(ts)), ("auth[access_token]", "s6p6eclrvim6da22ft9ch94ekreb52lv"),
        ("auth[expires_in]", "3600"), ("auth[scope]", "crm"),
        ("auth[domain]", "some-domain.bitrix24.com"),
        ("auth[server_endpoint]", "https://oauth.bitrix.info/rest/"), ("auth[status]", "F"),
        ("auth[client_endpoint]", "https://some-domain.bitrix24.com/rest/"),
        ("auth[member_id]", "a223c6b3710f85df22e9377d6c4f7553"),
        ("auth[refresh_token]", "4s386p3q0tr8dy89xvmt96234v3dljg8"),
        ("auth[application_token]", token),
    ]


def hubspot_event(object_id: int = 697680835, value: str = "1f4f1ec1-8174-49f3-a112-4eaa4748e38e",
                  event_id: int = 802835955, occurred: int = 1556094637139, attempt: int = 0,
                  prop: str = "dealstage") -> dict[str, Any]:
    """The real ``deal.propertyChange`` event (§3.6)."""
    return {"objectId": object_id, "propertyName": prop, "propertyValue": value,
            "changeSource": "CRM_UI", "eventId": event_id, "subscriptionId": 92894,
            "portalId": 5799819, "appId": 186886, "occurredAt": occurred,
            "subscriptionType": "deal.propertyChange", "attemptNumber": attempt}


def hubspot_headers(body: bytes, uri: str, secret: str = HUBSPOT_SECRET,
                    at: datetime = NOW) -> dict[str, str]:
    stamp = str(int(at.timestamp() * 1000))
    return {"Content-Type": "application/json",
            "X-HubSpot-Request-Timestamp": stamp,
            "X-HubSpot-Signature-v3": hubspot_signature(secret, "POST", uri, body, stamp)}


PIPEDRIVE_CHANGE: dict[str, Any] = {
    "meta": {"action": "change", "entity": "deal", "company_id": 123123,
             "correlation_id": "c0rr-1", "entity_id": 1, "id": "ev-0001",
             "is_bulk_edit": False, "timestamp": "2025-04-15T15:39:01.000Z", "type": "general",
             "user_id": 123123, "version": "2.0", "webhook_id": 123,
             "webhook_owner_id": 123123, "attempt": 1, "host": "company.pipedrive.com"},
    "data": {"id": 1, "title": "Deal 01", "status": "open", "pipeline_id": 1, "stage_id": 2,
             "stage_change_time": "2025-04-15T15:39:01Z", "owner_id": 123123, "value": 1,
             "currency": "BRL", "add_time": "2025-04-15T14:57:34Z", "lost_reason": None,
             "won_time": None, "lost_time": None, "origin": "ManuallyCreated", "channel": None,
             "custom_fields": {}},
    "previous": {"stage_id": 1},
}


def pipedrive_change(event_id: str = "ev-0001", deal: int = 1, old: int | None = 1, new: int = 2,
                     at: str = "2025-04-15T15:39:01.000Z", attempt: int = 1,
                     previous: dict[str, Any] | None = None,
                     status: str = "open") -> dict[str, Any]:
    body = copy.deepcopy(PIPEDRIVE_CHANGE)
    body["meta"].update(id=event_id, entity_id=deal, timestamp=at, attempt=attempt)
    body["data"].update(id=deal, stage_id=new, status=status)
    body["previous"] = previous if previous is not None else {"stage_id": old}
    return body


def basic(user: str = PD_USER, password: str = PD_PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def dumps(data: Any) -> bytes:
    return json.dumps(data).encode()
