"""HubSpot: credentials, pull, file exports, outcome words and template (:class:`CrmProfile`)."""

from __future__ import annotations

from voronka.io.crm.profiles.base import CrmProfile, ExportProfile

_HUBSPOT = ExportProfile(
    crm="hubspot",
    language="en",
    fields={
        "deal_id": ("Record ID", "Deal ID"),
        "stage": ("Deal Stage",),
        "pipeline": ("Pipeline",),
        "amount": ("Amount",),
        "manager": ("Deal owner", "Deal Owner", "HubSpot Owner"),
        "created_at": ("Create Date", "Created Date"),
        "closed_at": ("Close Date",),
        "stage_changed_at": ("Date entered current stage",),
        "lost_reason": ("Closed Lost Reason",),
        "source": ("Original Traffic Source", "Original Source Type", "Original Source"),
    },
    signature=(("Record ID", "Deal ID"), ("Deal Stage",)),
    rank=1,
)

PROFILE = CrmProfile(
    id="hubspot",
    title="HubSpot",
    credential_keys=("token", "base_url"),
    required_keys=(("token",),),
    connector="voronka.io.crm.hubspot:HubSpotConnector",
    exports=(_HUBSPOT,),
)
