"""Pipedrive: credentials, pull, file exports, outcome words and template (:class:`CrmProfile`)."""

from __future__ import annotations

from voronka.io.crm.profiles.base import CrmProfile, ExportProfile

_PIPEDRIVE = ExportProfile(
    crm="pipedrive",
    language="en",
    fields={
        "deal_id": ("Deal - ID",),
        "stage": ("Deal - Stage",),
        "pipeline": ("Deal - Pipeline",),
        "status": ("Deal - Status",),
        "amount": ("Deal - Value",),
        "manager": ("Deal - Owner",),
        "created_at": ("Deal - Deal created", "Deal - Add time", "Deal - Created"),
        "stage_changed_at": ("Deal - Last stage change", "Deal - Stage change time"),
        "won_at": ("Deal - Won time",),
        "lost_at": ("Deal - Lost time",),
        "closed_at": ("Deal - Deal closed on", "Deal - Close time"),
        "lost_reason": ("Deal - Lost reason",),
        "source": (
            "Deal - Source origin", "Deal - Source", "Deal - Source channel", "Deal - Channel",
            "Deal - deal_utm_source", "Deal - UTM source",
        ),
    },
    signature=(("Deal - ID",), ("Deal - Stage", "Deal - Status")),
    status_from_stage=False,
    prefix="deal - ",
    rank=0,
)

PROFILE = CrmProfile(
    id="pipedrive",
    title="Pipedrive",
    credential_keys=("token", "domain", "base_url"),
    required_keys=(("token",),),
    connector="voronka.io.crm.pipedrive:PipedriveConnector",
    exports=(_PIPEDRIVE,),
    # Won and lost are a status beside the stage: the outcome events use these stage names, as
    # `voronka pull pipedrive` does.
    outcome_stages=("Won", "Lost"),
    extra_aliases={"qualified": ("Lead In",)},
)
