"""Registerutdrag (GDPR art. 15): everything stored about one client, in Swedish.

Why here: the client page's timeline (``surveys.closures.timeline``) already gathers, per
closure, every SMS, inbound message (redacted), answer, call, case, consent, opt-out and contact
change; the extract is that timeline for every closure of the client, plus the contact data in
clear. Decrypting the number is a read of contact data, so building an extract is audited
(``client.extract``) in the caller's transaction. Framework-free: the page, the PDF and the JSON
(``feedback.web.register_extract``) render the same ``RegisterExtract``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core import audit
from feedback.core.clock import STOCKHOLM
from surveys.closures.contact import PhoneProtector
from surveys.closures.models import (
    CONSENT_CHANNEL_LABELS_SV,
    CONSENT_GIVEN_BY_LABELS_SV,
    LANGUAGE_LABELS_SV,
    REASON_LABELS_SV,
    Client,
    Closure,
)
from surveys.closures.timeline import ClientTimeline, build_timeline

KIND_LABELS_SV = {
    "closure": "Avslut",
    "consent": "Samtycke",
    "erasure": "Radering",
    "sms_out": "Sms till personen",
    "sms_in": "Sms från personen",
    "answer": "Svar",
    "call": "Samtal",
    "case": "Ärende",
    "opt_out": "Sms av/på",
    "contact": "Kontaktuppgifter",
}


@dataclass(frozen=True)
class ClosureExtract:
    closure: Closure
    timeline: ClientTimeline

    @property
    def reason_label(self) -> str:
        return REASON_LABELS_SV[self.closure.reason]


@dataclass(frozen=True)
class RegisterExtract:
    client: Client
    unit_name: str
    phone: str | None
    closures: list[ClosureExtract]
    made_at: datetime

    @property
    def language_label(self) -> str:
        return LANGUAGE_LABELS_SV.get(self.client.language, str(self.client.language))

    @property
    def consent_label(self) -> str:
        c = self.client
        if c.consent_on is None:
            return "Inget samtycke registrerat"
        parts = [f"Samtycke {c.consent_on.isoformat()}"]
        if c.consent_channel is not None:
            parts.append(CONSENT_CHANNEL_LABELS_SV.get(c.consent_channel, "").lower())
        if c.consent_given_by is not None:
            parts.append(CONSENT_GIVEN_BY_LABELS_SV.get(c.consent_given_by, "").lower())
        text = ", ".join(p for p in parts if p)
        if c.consent_withdrawn_at is not None:
            text += f"; återkallat {c.consent_withdrawn_at.astimezone(STOCKHOLM):%Y-%m-%d}"
        return text


async def build_extract(
    session: AsyncSession,
    client: Client,
    *,
    unit_name: str,
    phones: PhoneProtector,
    actor_id: uuid.UUID | None,
    now: datetime,
    purpose: str,
    client_ip: str | None = None,
) -> RegisterExtract:
    """The extract for ``client`` (the caller checked the unit) and its audit row (caller commits)."""
    closures = list(
        await session.scalars(
            sa.select(Closure).where(Closure.client_id == client.id).order_by(Closure.closed_on.desc())
        )
    )
    parts = [ClosureExtract(c, await build_timeline(session, c, client)) for c in closures]
    phone = phones.reveal(client.phone_ciphertext) if client.phone_ciphertext else None
    await audit.record(
        session,
        actor_id=actor_id,
        action="client.extract",
        subject_type="client",
        subject_id=client.id,
        reason="Registerutdrag",
        client_ip=client_ip,
        detail={"unit_id": str(client.unit_id), "format": purpose, "closures": len(parts)},
        at=now,
    )
    return RegisterExtract(client, unit_name, phone, parts, now)


def _local(at: datetime) -> str:
    return at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def as_json(extract: RegisterExtract) -> dict[str, Any]:
    """The extract as JSON with Swedish keys (what the person is given, not an API shape)."""
    c = extract.client
    return {
        "registerutdrag": {
            "framtaget": _local(extract.made_at),
            "enhet": extract.unit_name,
            "klientreferens": c.client_ref,
            "mobilnummer": extract.phone,
            "språk": extract.language_label,
            "samtycke": extract.consent_label,
            "kontakta_ej": c.do_not_contact,
            "skyddad_identitet": c.protected_identity,
            "kontaktuppgifter_raderade": _local(c.erased_at) if c.erased_at else None,
            "avslut": [
                {
                    "avslutsdatum": part.closure.closed_on.isoformat(),
                    "orsak": part.reason_label,
                    "återaktualiserad": part.closure.returned_on.isoformat()
                    if part.closure.returned_on
                    else None,
                    "uppföljningar": [
                        {"dagar_efter_avslut": w.follow_up.wave_days, "läge": w.label}
                        for w in part.timeline.waves
                    ],
                    "händelser": [
                        {
                            "tid": _local(e.at),
                            "typ": KIND_LABELS_SV.get(e.kind, "Händelse"),
                            "rubrik": e.title,
                            "text": e.detail,
                            "status": e.status,
                            "problem": e.problem,
                        }
                        for e in part.timeline.entries
                    ],
                }
                for part in extract.closures
            ],
        }
    }
