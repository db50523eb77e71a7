"""Every kind of SMS the platform sends, and whether it counts as a *contact* for the fatigue cap.

Why a closed list: the fatigue cap (``surveys.plans.gate``) must see every way we approach a
person – survey waves, "ni sa – vi gjorde" SMS, panel invitations, calls. A new kind of SMS that
nobody classified would silently open the cap, so ``notifications.outbox.enqueue`` refuses a kind
that is not listed here (and a test checks every literal kind in the source tree): adding a kind
means deciding, here, whether it is a contact.

Not contacts: a wave's own messages and its reminder (the wave itself counts, once, through
``follow_up.handed_over_at``; reminders are excepted by design), and direct answers to something
the person just wrote to us (confirmations, help, crisis acknowledgement, an inbox reply).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

SMS_KINDS: Mapping[str, bool] = MappingProxyType(
    {
        # kind: counts as a contact for the fatigue cap
        "survey": False,  # a wave's questions and reminder: the wave counts via the follow-up row
        "loop": True,  # "ni sa – vi gjorde": what the unit did with what people said
        "panel_invitation": True,  # an invitation to the user panel sent to a client by SMS
        "optout_confirmation": False,  # answer to the person's STOPP
        "optin_confirmation": False,  # answer to the person's START
        "help": False,  # answer to the person's HJÄLP
        "crisis_ack": False,  # answer to a worrying message: must never be held back
        "call_me_confirmation": False,  # answer to "ring mig"
        "quote_withdrawn": False,  # answer to "ta bort mitt citat"
        "inbox_reply": False,  # a caseworker answers what the person wrote to us
        "message": False,  # ad-hoc text from tooling and tests (the default of ``enqueue``)
    }
)

CONTACT_KINDS: frozenset[str] = frozenset(kind for kind, contact in SMS_KINDS.items() if contact)


class UnknownSmsKind(ValueError):
    """A kind not listed in ``SMS_KINDS``: classify it there before sending it."""


def check_kind(kind: str) -> str:
    if kind not in SMS_KINDS:
        raise UnknownSmsKind(
            f"unknown SMS kind {kind!r}: add it to notifications.kinds.SMS_KINDS and decide "
            "whether it counts as a contact for the fatigue cap"
        )
    return kind
