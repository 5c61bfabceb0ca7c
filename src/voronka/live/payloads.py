"""What each CRM's webhook body says, as :class:`HookEvent` rows (docs/live.md, crm-apis.md).

| CRM | body | becomes |
|---|---|---|
| amoCRM | form ``leads[status][i][id, status_id, old_status_id, pipeline_id, last_modified]`` | a stage event with from and to; ``leads[delete]`` a delete; ``leads[add|update|…]`` a trigger |
| Bitrix24 | form ``event=ONCRMDEAL…``, ``data[FIELDS][ID]``, ``ts`` | ``ONCRMDEALDELETE`` a delete; else a trigger (the body names only the deal) |
| HubSpot | JSON array of ``deal.propertyChange`` / ``object.propertyChange`` / ``deal.deletion`` events | ``dealstage``: a stage event with only the new stage; a deletion a delete; anything else a trigger |
| Pipedrive | JSON v2 ``meta``, ``data``, ``previous`` (v1 only ``deleted.deal``) | ``previous.stage_id``: a stage event with from and to; ``previous.status``: won/lost; action ``delete`` a delete; else a trigger |

A trigger or a delete makes the scheduler pull that one deal at once (:mod:`voronka.live.deals`).

A body that cannot be read raises :class:`Malformed` (the receiver answers 400).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from voronka.live.store import EventKind, HookEvent

_KEY_PART = re.compile(r"\[([^\]]*)\]")


class Malformed(ValueError):
    """A webhook body that is not what the CRM documents."""


def parse_form(body: bytes) -> dict[str, Any]:
    """A PHP-style form body (``leads[status][0][id]=1``) as nested dicts (lists stay dicts keyed
    by their index strings)."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Malformed(f"not a form-encoded body ({exc})") from None
    root: dict[str, Any] = {}
    for name, value in pairs:
        head, _, rest = name.partition("[")
        parts = [head, *_KEY_PART.findall("[" + rest)] if rest else [head]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise Malformed(f"field {name!r} is both a value and a table")
            node = child
        node[parts[-1]] = value
    return root


def parse_json(body: bytes) -> Any:
    """A JSON body."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Malformed(f"not JSON ({exc})") from None


def _need(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Malformed(f"{where}: {key} is missing")
    if isinstance(value, dict | list):
        raise Malformed(f"{where}: {key} is not a value")
    return str(value)


def _unix(value: Any, where: str) -> datetime:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Malformed(f"{where}: {value!r} is not a Unix time") from None
    if number > 10**11:  # milliseconds
        number /= 1000
    return datetime.fromtimestamp(number, UTC)


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


# -- amoCRM ---------------------------------------------------------------------------------------
def amocrm_events(form: Mapping[str, Any], received: datetime) -> list[HookEvent]:
    """amoCRM account webhooks (``status_lead`` and the other ``leads[...]`` sections)."""
    leads = form.get("leads")
    if not isinstance(leads, dict) or not leads:
        raise Malformed("amocrm: no leads[...] section")
    account = form.get("account", {})
    account_id = str(account.get("id", "")) if isinstance(account, dict) else ""
    out: list[HookEvent] = []
    for action, items in sorted(leads.items()):
        if not isinstance(items, dict):
            raise Malformed(f"amocrm: leads[{action}] is not a list")
        for index, lead in sorted(items.items()):
            where = f"amocrm leads[{action}][{index}]"
            if not isinstance(lead, dict):
                raise Malformed(f"{where} is not a table")
            deal = _need(lead, "id", where)
            at = _unix(lead["last_modified"], where) if lead.get("last_modified") else received
            stamp = lead.get("last_modified") or at.isoformat()
            if action == "status":
                to = _need(lead, "status_id", where)
                pipeline = _need(lead, "pipeline_id", where)
                old = lead.get("old_status_id") or None
                old_pipeline = lead.get("old_pipeline_id") or pipeline
                key = f"amocrm:{account_id}:{deal}:{old_pipeline}/{old}>{pipeline}/{to}@{stamp}"
                out.append(HookEvent(key, "amocrm", "stage", deal, at, pipeline, old, to,
                                     _dump(lead)))
            else:
                key = f"amocrm:{account_id}:{deal}:{action}@{stamp}"
                kind: EventKind = "delete" if action == "delete" else "trigger"
                out.append(HookEvent(key, "amocrm", kind, deal, at,
                                     str(lead.get("pipeline_id") or "") or None,
                                     payload=_dump(lead)))
    return out


# -- Bitrix24 -------------------------------------------------------------------------------------
BITRIX24_DEAL_EVENTS = ("ONCRMDEALUPDATE", "ONCRMDEALADD", "ONCRMDEALDELETE",
                        "ONCRMDEALMOVETOCATEGORY")


def bitrix24_events(form: Mapping[str, Any], received: datetime) -> list[HookEvent]:
    """A Bitrix24 outgoing webhook: only the deal's id, so a trigger for the next pull."""
    event = _need(form, "event", "bitrix24").upper()
    if event not in BITRIX24_DEAL_EVENTS:
        return []
    data = form.get("data")
    fields = data.get("FIELDS") if isinstance(data, dict) else None
    if not isinstance(fields, dict):
        raise Malformed("bitrix24: data[FIELDS] is missing")
    deal = _need(fields, "ID", "bitrix24 data[FIELDS]")
    at = _unix(form["ts"], "bitrix24 ts") if form.get("ts") else received
    auth = form.get("auth") if isinstance(form.get("auth"), dict) else {}
    assert isinstance(auth, dict)
    portal = auth.get("member_id") or auth.get("domain") or ""
    key = f"bitrix24:{portal}:{event}:{deal}@{form.get('ts') or at.isoformat()}"
    safe = {"event": event, "data": data, "ts": form.get("ts"), "domain": auth.get("domain")}
    kind: EventKind = "delete" if event == "ONCRMDEALDELETE" else "trigger"
    return [HookEvent(key, "bitrix24", kind, deal, at, payload=_dump(safe))]


# -- HubSpot --------------------------------------------------------------------------------------
def hubspot_events(body: Any, received: datetime) -> list[HookEvent]:
    """A HubSpot webhook request: a JSON array of up to 100 events."""
    if not isinstance(body, list):
        raise Malformed("hubspot: the body is not a JSON array of events")
    out: list[HookEvent] = []
    for i, ev in enumerate(body):
        where = f"hubspot event {i}"
        if not isinstance(ev, dict):
            raise Malformed(f"{where} is not an object")
        kind = _need(ev, "subscriptionType", where)
        if kind.startswith("object.") and str(ev.get("objectTypeId", "0-3")) != "0-3":
            continue  # not a deal
        if not (kind.startswith("deal.") or kind.startswith("object.")):
            continue
        deal = _need(ev, "objectId", where)
        event_id = _need(ev, "eventId", where)
        at = _unix(ev["occurredAt"], where) if ev.get("occurredAt") else received
        key = f"hubspot:{ev.get('portalId', '')}:{event_id}"
        payload = {k: v for k, v in ev.items() if k != "attemptNumber"}
        if kind.endswith("propertyChange") and ev.get("propertyName") == "dealstage":
            to = _need(ev, "propertyValue", where)
            out.append(HookEvent(key, "hubspot", "stage", deal, at, to_stage=to,
                                 payload=_dump(payload)))
        elif kind.endswith(".deletion"):
            out.append(HookEvent(key, "hubspot", "delete", deal, at, payload=_dump(payload)))
        else:
            out.append(HookEvent(key, "hubspot", "trigger", deal, at, payload=_dump(payload)))
    return out


# -- Pipedrive ------------------------------------------------------------------------------------
def _iso(value: Any, where: str) -> datetime:
    try:
        at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Malformed(f"{where}: {value!r} is not an ISO time") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def pipedrive_events(body: Any, received: datetime) -> list[HookEvent]:
    """A Pipedrive webhooks v2 notification (``change.deal`` and the other deal actions)."""
    if not isinstance(body, dict) or not isinstance(body.get("meta"), dict):
        raise Malformed("pipedrive: no meta object")
    meta = body["meta"]
    if str(body.get("event", "")) == "deleted.deal":
        return _pipedrive_v1_deleted(body, meta, received)
    if str(meta.get("entity", "")) != "deal":
        return []
    if str(meta.get("version", "2.0")) != "2.0":
        raise Malformed("pipedrive: not a webhooks v2 body (meta.version)")
    action = _need(meta, "action", "pipedrive meta")
    event_id = _need(meta, "id", "pipedrive meta")
    deal = str(meta.get("entity_id") or "")
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    previous = body.get("previous") if isinstance(body.get("previous"), dict) else {}
    assert isinstance(data, dict) and isinstance(previous, dict)
    deal = deal or _need(data, "id", "pipedrive data")
    at = _iso(meta["timestamp"], "pipedrive meta.timestamp") if meta.get("timestamp") else received
    base = f"pipedrive:{meta.get('company_id', '')}:{event_id}"
    payload = _dump({"meta": {k: v for k, v in meta.items() if k != "attempt"},
                     "data": data, "previous": previous})
    pipeline = str(data["pipeline_id"]) if data.get("pipeline_id") is not None else None
    out: list[HookEvent] = []
    if action == "change" and "stage_id" in previous:
        to = _need(data, "stage_id", "pipedrive data")
        old = previous.get("stage_id")
        out.append(HookEvent(f"{base}:stage", "pipedrive", "stage", deal, at, pipeline,
                             str(old) if old is not None else None, to, payload))
    status = str(data.get("status") or "")
    if action == "change" and "status" in previous and status in ("won", "lost"):
        old = data.get("stage_id")
        out.append(HookEvent(f"{base}:status", "pipedrive", "stage", deal, at, pipeline,
                             str(old) if old is not None else None, status, payload))
    if not out:
        kind: EventKind = "delete" if action == "delete" else "trigger"
        out.append(HookEvent(f"{base}:{action}", "pipedrive", kind, deal, at, pipeline,
                             payload=payload))
    return out


def _pipedrive_v1_deleted(body: Mapping[str, Any], meta: Mapping[str, Any],
                          received: datetime) -> list[HookEvent]:
    """A webhooks v1 ``deleted.deal`` (``meta.id`` is the deal, ``previous`` its last state)."""
    deal = _need(meta, "id", "pipedrive meta")
    stamp = meta.get("timestamp_micro") or meta.get("timestamp")
    at = _unix(meta["timestamp"], "pipedrive meta.timestamp") if meta.get("timestamp") else received
    key = f"pipedrive:{meta.get('company_id', '')}:v1:deleted.deal:{deal}@{stamp or at.isoformat()}"
    safe = {"event": "deleted.deal", "meta": {k: v for k, v in meta.items() if k != "retry"}}
    return [HookEvent(key, "pipedrive", "delete", deal, at, payload=_dump(safe))]
