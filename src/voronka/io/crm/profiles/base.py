"""What voronka knows of one CRM, in one record: :class:`CrmProfile` (and the
:class:`ExportProfile` of its file exports).

Adding a CRM is one file in this package (``src/voronka/io/crm/profiles/<crm>.py``) that defines
``PROFILE = CrmProfile(...)``: the registry (:data:`voronka.io.crm.profiles.REGISTRY`) finds it,
and the credentials, the pull, the export reader, the outcome words and the template follow.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from voronka.funnel import Stage


@dataclass(frozen=True)
class ExportProfile:
    """The export format of one CRM in one language.

    Attributes:
        crm: the CRM id.
        language: the language of the headers, ``"ru"`` or ``"en"``.
        fields: export field → accepted headers, best first (see
            :mod:`voronka.io.exports.profiles`).
        signature: groups of headers that identify the format: each group must have one header
            present in the file.
        status_from_stage: whether won and lost are stages in this CRM (amoCRM, Bitrix24, HubSpot:
            the stage of a closed deal is its outcome, the stage it was lost at is gone) rather
            than a status beside the stage (Pipedrive: the deal keeps its last stage).
        prefix: a prefix the headers carry as written (Pipedrive's ``Deal - ``); only headers
            with it are looked at, because normalising would make ``Deal - Stage`` HubSpot's
            ``Deal Stage``.
        rank: formats are tried in increasing rank, the most specific signatures first.
    """

    crm: str
    language: str
    fields: Mapping[str, tuple[str, ...]]
    signature: tuple[tuple[str, ...], ...]
    status_from_stage: bool = True
    prefix: str | None = None
    rank: int = 100


@dataclass(frozen=True)
class CrmProfile:
    """One CRM: everything voronka knows of it.

    Attributes:
        id: the CRM id (``amocrm``), also the id of its built-in funnel template.
        title: its name as shown (``amoCRM``).
        credential_keys: the keys ``voronka pull`` reads (``VORONKA_<CRM>_<KEY>``, the config
            file's ``[<crm>]`` table).
        required_keys: groups of keys of which at least one must be given.
        connector: the pull connector, ``"module:Class"`` (imported when a pull runs).
        exports: the formats of its file exports.
        outcome_stages: where won/lost is a status beside the stage (Pipedrive): the stage names
            of its outcome events.
        extra_aliases: template stage id → spellings its file exports show that the template
            lacks.
        extra_lost: lost-stage spellings of its exports.
        extra_stages: stages its real default pipeline has beside the template's, each inserted
            after the template stage id given.
    """

    id: str
    title: str
    credential_keys: tuple[str, ...]
    required_keys: tuple[tuple[str, ...], ...]
    connector: str
    exports: tuple[ExportProfile, ...] = ()
    outcome_stages: tuple[str, str] | None = None
    extra_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    extra_lost: tuple[str, ...] = ()
    extra_stages: tuple[tuple[str, Stage], ...] = ()

    def load_connector(self) -> Any:
        """The connector class (imported now)."""
        module, _, name = self.connector.partition(":")
        return getattr(importlib.import_module(module), name)
