"""What to check at a stage that loses deals: a message key (``leaks.hint.*``) per stage."""

from __future__ import annotations

from voronka.funnel import Stage

# Keywords (in stage id, names and key task; lower case, ru stems and en words) → hint key.
# Order matters: the first rule that matches wins ("meeting held" is about what follows it).
_HINT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("after_meeting", ("meeting_held", "held", "состоял", "проведен", "проведён")),
    ("meeting", ("meeting", "встреч", "demo", "демо", "presentation", "презентац")),
    ("proposal", ("proposal", "offer", "quote", "предложен", "кп", "design", "макет", "проект")),
    ("payment", ("invoice", "contract", "payment", "prepay", "счет", "счёт", "договор", "оплат")),
    ("fulfilment", ("production", "deliver", "work", "производ", "реализ", "отгруз", "работ")),
    (
        "calls",
        (
            "new",
            "request",
            "lead",
            "qualif",
            "contact",
            "call",
            "нов",
            "заявк",
            "лид",
            "квалиф",
            "звон",
            "контакт",
        ),
    ),
)


_REFERENCE_HINTS = {
    "new_request": "calls",
    "qualified": "calls",
    "meeting_scheduled": "meeting",
    "meeting_held": "after_meeting",
    "sent_to_work": "proposal",
    "design_approved": "payment",
    "invoice_sent": "payment",
    "prepayment_received": "fulfilment",
    "in_production": "fulfilment",
    "delivered": "payment",
}
"""Hints for the stages of the method's reference funnel, by stage id (from their key tasks)."""


def stage_hint(stage: Stage) -> str:
    """The message key of what to check when ``stage`` converts badly (``leaks.hint.<kind>``).

    The reference funnel's stages have fixed hints; other stages are judged by keywords in
    their id and names first, then their aliases and key task: a calling stage points at call recordings
    and the script, a meeting stage at no-shows and reminders, a proposal stage at the proposal.
    """
    if stage.id in _REFERENCE_HINTS:
        return f"leaks.hint.{_REFERENCE_HINTS[stage.id]}"
    text = " ".join(
        [
            stage.id,
            stage.name,
            *stage.aliases,
            *stage.names.values(),
            stage.key_task or "",
            *stage.key_tasks.values(),
        ]
    ).lower()
    head = " ".join([stage.id, stage.name, *stage.names.values()]).lower()
    for kind, words in _HINT_RULES:
        if any(w in head for w in words):
            return f"leaks.hint.{kind}"
    for kind, words in _HINT_RULES:
        if any(w in text for w in words):
            return f"leaks.hint.{kind}"
    return "leaks.hint.generic"


