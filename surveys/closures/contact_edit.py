"""Correct a client's contact data after registration: phone, language, skyddad identitet, stops.

Why here and audited: contact data is the most sensitive thing the platform keeps, and a change
decides who gets the next SMS. Every change needs a reason a colleague can read later; the
reason goes to the audit log, so it may not carry a personnummer (refused with a Swedish message)
and is redacted (phone numbers, names) before it is stored. The phone is stored as before:
ciphertext, blind index and mask through the ``PhoneProtector``; it never appears in a note.

A new number re-targets what has not been sent yet: texts still waiting in the outbox for this
person's conversations, and the open conversation (so a reply from the new number is found).
What was already sent stays as it was — the timeline must tell the truth about where it went.
The caller owns the transaction and commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core import audit
from feedback.core.db import rowcount
from feedback.core.errors import InvalidInput
from surveys.closures.changes import set_do_not_contact, stop_contact, withdraw_consent
from surveys.closures.contact import PhoneProtector, ProtectedPhone
from surveys.closures.identifiers import looks_like_personal_number
from surveys.closures.models import Client, Language
from surveys.redaction import redact_text

REASON_MIN_CHARS = 5
REASON_MAX_CHARS = 300
REASON_MISSING_SV = "Skriv varför uppgifterna ändras (minst 5 tecken)."
REASON_TOO_LONG_SV = "Skälet får vara högst 300 tecken."
REASON_PERSONNUMMER_SV = (
    "Skälet ser ut att innehålla ett personnummer. Skriv skälet utan personnummer – "
    "det sparas i loggen och får inte innehålla personnummer."
)
NOTHING_CHANGED_SV = "Inget ändrades: uppgifterna är desamma som förut."
WRONG_NUMBER_REASON_SV = "Fel nummer i uppföljningssamtal."
NEW_NUMBER_REASON_SV = "Nytt nummer från uppföljningssamtal (det gamla var fel)."


def audit_reason(raw: str, *, field: str = "reason") -> str:
    """The caseworker's reason, checked and redacted for the audit log (4xx text when not ok)."""
    text = " ".join((raw or "").split())
    if len(text) < REASON_MIN_CHARS:
        raise InvalidInput(REASON_MISSING_SV, field=field)
    if len(text) > REASON_MAX_CHARS:
        raise InvalidInput(REASON_TOO_LONG_SV, field=field)
    redacted = redact_text(text)
    # Refused rather than silently redacted: the caseworker should know the log keeps no
    # personnummer. Both checks: the strict Luhn one and the redactor's date-shaped pattern.
    if looks_like_personal_number(text) or "[PERSONNUMMER]" in redacted:
        raise InvalidInput(REASON_PERSONNUMMER_SV, field=field)
    return redacted[:500]


@dataclass(frozen=True)
class ContactEdit:
    """The posted values; ``phone`` empty means "keep the number"."""

    phone: str = ""
    language: str | None = None
    protected_identity: bool | None = None


async def retarget_phone(session: AsyncSession, client: Client, new: ProtectedPhone, *, now: datetime) -> int:
    """Store the new number and point unsent texts and open conversations at it.

    Returns the number of outbox rows re-targeted. Waves stopped only because the old number was
    wrong come back while their window is still open.
    """
    from notifications.models import PENDING_STATUSES, SmsOutbox
    from surveys.conversations.models import Conversation
    from surveys.plans.models import FollowUp, FollowUpStatus
    from surveys.plans.service import local_date

    client.phone_ciphertext = new.ciphertext
    client.phone_index = new.index
    client.phone_masked = new.masked
    closure_ids = sa.select(FollowUp.closure_id).where(FollowUp.client_id == client.id).scalar_subquery()
    open_convs = list(
        await session.scalars(
            sa.select(Conversation).where(
                Conversation.closure_id.in_(closure_ids), Conversation.is_open.is_(True)
            )
        )
    )
    refs = [f"conversation:{c.id}" for c in open_convs]
    for conv in open_convs:
        conv.phone_index = new.index
    moved = 0
    if refs:
        result = await session.execute(
            sa.update(SmsOutbox)
            .where(SmsOutbox.owner_ref.in_(refs), SmsOutbox.status.in_(PENDING_STATUSES))
            .values(to_encrypted=new.ciphertext, to_index=new.index, updated_at=now)
            .execution_options(synchronize_session="fetch")
        )
        moved = rowcount(result)
    today = local_date(now)
    await session.execute(
        sa.update(FollowUp)
        .where(
            FollowUp.client_id == client.id,
            FollowUp.status == FollowUpStatus.CANCELLED,
            FollowUp.skip_reason == "wrong_number",
            FollowUp.window_end >= today,
        )
        .values(status=FollowUpStatus.SCHEDULED, skip_reason=None, finished_at=None,
                revision=FollowUp.revision + 1)
        .execution_options(synchronize_session="fetch")
    )  # fmt: skip
    await session.flush()
    return moved


async def change_contact(
    session: AsyncSession,
    client: Client,
    edit: ContactEdit,
    *,
    reason: str,
    phones: PhoneProtector,
    actor_id: uuid.UUID | None,
    now: datetime,
    client_ip: str | None = None,
    reason_field: str = "reason",
) -> list[str]:
    """Apply one edit with its reason; returns the changed field names (never their values)."""
    checked_reason = audit_reason(reason, field=reason_field)
    new_phone = phones.protect(edit.phone) if edit.phone.strip() else None
    language: Language | None = None
    if edit.language is not None:
        try:
            language = Language(edit.language)
        except ValueError as exc:
            raise InvalidInput("Välj ett av språken i listan.", field="language") from exc
    changed: list[str] = []
    if new_phone is not None and new_phone.index != client.phone_index:
        await retarget_phone(session, client, new_phone, now=now)
        changed.append("phone")
    if language is not None and language != client.language:
        client.language = language
        changed.append("language")
    if edit.protected_identity is not None and edit.protected_identity != client.protected_identity:
        client.protected_identity = edit.protected_identity
        changed.append("protected_identity")
        if edit.protected_identity:
            await session.flush()
            await stop_contact(session, reason="protected_identity", now=now, client_id=client.id)
    if not changed:
        raise InvalidInput(NOTHING_CHANGED_SV, field="form")
    await session.flush()
    await audit.record(
        session,
        actor_id=actor_id,
        action="contact.change",
        subject_type="client",
        subject_id=client.id,
        reason=checked_reason,
        client_ip=client_ip,
        detail={"fields": changed},
        at=now,
    )
    return changed


async def change_do_not_contact(
    session: AsyncSession,
    client: Client,
    value: bool,
    *,
    reason: str,
    actor_id: uuid.UUID | None,
    now: datetime,
    client_ip: str | None = None,
) -> bool:
    """Switch "kontakta ej" with a reason (audited); False when it already had that value."""
    checked_reason = audit_reason(reason)
    if await set_do_not_contact(session, client, value, now=now) is None:
        return False
    await audit.record(
        session,
        actor_id=actor_id,
        action="contact.do_not_contact",
        subject_type="client",
        subject_id=client.id,
        reason=checked_reason,
        client_ip=client_ip,
        detail={"value": value, "fields": ["do_not_contact"]},
        at=now,
    )
    return True


async def record_consent_withdrawn(
    session: AsyncSession,
    client: Client,
    *,
    reason: str,
    actor_id: uuid.UUID | None,
    now: datetime,
    client_ip: str | None = None,
) -> bool:
    """Withdraw consent with a reason (audited); False when it was already withdrawn."""
    checked_reason = audit_reason(reason)
    if await withdraw_consent(session, client, now=now) is None:
        return False
    await audit.record(
        session,
        actor_id=actor_id,
        action="contact.consent_withdrawn",
        subject_type="client",
        subject_id=client.id,
        reason=checked_reason,
        client_ip=client_ip,
        detail={},
        at=now,
    )
    return True


async def wrong_number(
    session: AsyncSession,
    client: Client,
    *,
    new_phone: ProtectedPhone | None,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> None:
    """A call reached the wrong person: store the new number, or forget the wrong one.

    Without a new number the wrong one is removed (nobody should text a stranger about social
    services) and the person's remaining waves stop with the reason ``wrong_number``, which the
    client page shows as "Stoppad: fel nummer"; a number entered later brings them back while
    their window is open.
    """
    if new_phone is not None:
        await retarget_phone(session, client, new_phone, now=now)
        reason = NEW_NUMBER_REASON_SV
    else:
        client.phone_ciphertext = None
        client.phone_index = None
        client.phone_masked = None
        await session.flush()
        await stop_contact(
            session, reason="wrong_number", now=now, client_id=client.id, include_scheduled=True
        )
        reason = WRONG_NUMBER_REASON_SV
    await audit.record(
        session,
        actor_id=actor_id,
        action="contact.change",
        subject_type="client",
        subject_id=client.id,
        reason=reason,
        detail={"fields": ["phone"], "source": "call"},
        at=now,
    )
