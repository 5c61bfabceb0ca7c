"""CRM deal exports (amoCRM/Kommo, Bitrix24, HubSpot, Pipedrive): recognised by their headers and
read into deals and events without ``--map``.

::

    from voronka.io.exports import read_export
    export = read_export("amocrm_export.csv")
    export.crm                  # "amocrm"
    export.deals.read.table     # canonical deals (status from the stage name)
    export.events.table         # one event per deal at its current stage (a snapshot)

See :mod:`voronka.io.exports.profiles` (headers), :mod:`~voronka.io.exports.convert` (deals),
:mod:`~voronka.io.exports.snapshot` (events, the snapshot rule) and
:mod:`~voronka.io.exports.outcomes` (won/lost names, funnels).
"""

from voronka.io.exports.convert import ExportDeals, convert_export
from voronka.io.exports.outcomes import (
    OUTCOME_STAGES,
    custom_stages,
    export_funnel,
    fitting_funnel,
)
from voronka.io.exports.profiles import (
    CRM_IDS,
    PROFILES,
    ExportFormat,
    ExportProfile,
    recognize_export,
)
from voronka.io.exports.read import ExportRead, load_export, read_export
from voronka.io.exports.snapshot import (
    EVENTS_SCHEMA,
    HistoryColumn,
    export_events,
    history_columns,
    snapshot_dates,
)

__all__ = [
    "CRM_IDS",
    "EVENTS_SCHEMA",
    "OUTCOME_STAGES",
    "PROFILES",
    "ExportDeals",
    "ExportFormat",
    "ExportProfile",
    "ExportRead",
    "HistoryColumn",
    "convert_export",
    "custom_stages",
    "export_events",
    "export_funnel",
    "fitting_funnel",
    "history_columns",
    "load_export",
    "read_export",
    "recognize_export",
    "snapshot_dates",
]
