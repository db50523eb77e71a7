"""Register and change closures — the one use-case behind the form, the JSON API and the CSV import.

Why one service: every path must refuse a personnummer, protect the phone number the same way and
schedule (or reschedule) the follow-ups in the same transaction as the closure itself. The caller
owns the transaction and commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import Conflict, InvalidInput, NotFound
from surveys.closures.contact import PhoneProtector
from surveys.closures.identifiers import client_ref_problem
from surveys.closures.models import (
    Client,
    Closure,
    ClosureReason,
    ConsentChannel,
    ConsentGivenBy,
    Language,
)
from surveys.plans import service as plans

REASON_MESSAGE_SV = "Ange avslutsorsak: arbete, studier, annan inkomst, flyttat eller okänt."
LANGUAGE_MESSAGE_SV = "Okänt språk. Välj svenska, lätt svenska, engelska, arabiska eller somaliska."
# Spellings accepted from forms and CSV files (Swedish labels as well as the codes).
REASON_ALIASES = {
    "arbete": "work",
    "studier": "studies",
    "annan inkomst": "other_income",
    "annan_inkomst": "other_income",
    "flyttat": "moved",
    "okänt": "unknown",
    "okant": "unknown",
}
LANGUAGE_ALIASES = {
    "svenska": "sv",
    "lätt svenska": "sv-easy",
    "latt svenska": "sv-easy",
    "sv_easy": "sv-easy",
    "engelska": "en",
    "english": "en",
    "arabiska": "ar",
    "somaliska": "so",
    "": "sv",
}


@dataclass(frozen=True)
class ClosureInput:
    """Plain values from any channel; parsed and validated by ``register_closure``."""

    client_ref: str
    closed_on: date | str
    reason: ClosureReason | str
    phone: str | None = None
    # None: keep what an existing client has (a CSV without the column must not clear a flag a
    # caseworker set); a new client gets Swedish and no flags.
    language: Language | str | None = Language.SV
    consent_on: date | str | None = None
    consent_channel: ConsentChannel | str | None = None
    consent_given_by: ConsentGivenBy | str | None = None
    do_not_contact: bool | None = False
    protected_identity: bool | None = False


@dataclass
class Registration:
    closure: Closure
    created: bool  # a new closure row
    changed: bool  # anything was written (False: an identical re-registration)
    messages: list[str] = field(default_factory=list)


def parse_date(
    value: date | str | None, *, field_name: str, label: str, required: bool = True
) -> date | None:
    if isinstance(value, date):
        return value
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(f"Ange {label} (ÅÅÅÅ-MM-DD).", field=field_name)
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"{label.capitalize()} måste vara ett datum som ÅÅÅÅ-MM-DD.", field=field_name
        ) from exc


def parse_reason(value: ClosureReason | str) -> ClosureReason:
    raw = str(value).strip().lower()
    try:
        return ClosureReason(REASON_ALIASES.get(raw, raw))
    except ValueError as exc:
        raise InvalidInput(REASON_MESSAGE_SV, field="reason") from exc


def parse_language(value: Language | str | None) -> Language:
    raw = str(value or "").strip().lower()
    try:
        return Language(LANGUAGE_ALIASES.get(raw, raw))
    except ValueError as exc:
        raise InvalidInput(LANGUAGE_MESSAGE_SV, field="language") from exc


def _optional_enum(cls: type, value: object, field_name: str, message: str) -> object:
    if value is None or str(value).strip() == "":
        return None
    try:
        return cls(str(value).strip().lower())
    except ValueError as exc:
        raise InvalidInput(message, field=field_name) from exc


def validate_client_ref(raw: str) -> str:
    if problem := client_ref_problem(raw):
        raise InvalidInput(problem, field="client_ref")
    return raw.strip()


async def register_closure(
    session: AsyncSession,
    *,
    unit_id: uuid.UUID,
    data: ClosureInput,
    phones: PhoneProtector | None,
    actor_id: uuid.UUID | None,
    now: datetime,
    min_gap_days: int,
) -> Registration:
    """Create or update the client, create the closure (natural key unit + client_ref + closed_on)
    and schedule its follow-ups. Registering the same values again changes nothing."""
    client_ref = validate_client_ref(data.client_ref)
    closed_on = parse_date(data.closed_on, field_name="closed_on", label="avslutsdatum")
    assert closed_on is not None
    today = plans.local_date(now)
    if closed_on > today:
        raise InvalidInput("Avslutsdatumet kan inte ligga i framtiden.", field="closed_on")
    reason = parse_reason(data.reason)
    language = parse_language(data.language) if data.language is not None else None
    consent_on = parse_date(
        data.consent_on, field_name="consent_on", label="datum för samtycke", required=False
    )
    consent_channel = _optional_enum(
        ConsentChannel, data.consent_channel, "consent_channel", "Okänt sätt för samtycke."
    )
    consent_given_by = _optional_enum(
        ConsentGivenBy, data.consent_given_by, "consent_given_by", "Ange vem som gav samtycket."
    )
    protected = None
    if data.phone and data.phone.strip():
        if phones is None:
            raise InvalidInput("Telefonnummer kan inte tas emot just nu.", field="phone")
        protected = phones.protect(data.phone)

    client = await session.scalar(
        sa.select(Client).where(Client.unit_id == unit_id, Client.client_ref == client_ref)
    )
    changed = False
    created_client = client is None
    if client is None:
        client = Client(unit_id=unit_id, client_ref=client_ref)
        session.add(client)
    updates: dict[str, object] = {}
    if language is not None or created_client:
        updates["language"] = language or Language.SV
    for flag in ("do_not_contact", "protected_identity"):
        value = getattr(data, flag)
        if value is not None or created_client:
            updates[flag] = bool(value)
    if consent_on is not None:
        updates |= {
            "consent_on": consent_on,
            "consent_channel": consent_channel,
            "consent_given_by": consent_given_by,
        }
    if protected is not None and client.phone_index != protected.index:
        updates |= {
            "phone_ciphertext": protected.ciphertext,
            "phone_index": protected.index,
            "phone_masked": protected.masked,
        }
    for name, value in updates.items():
        if created_client or getattr(client, name) != value:
            setattr(client, name, value)
            changed = True
    await session.flush()

    closure = await session.scalar(
        sa.select(Closure).where(Closure.client_id == client.id, Closure.closed_on == closed_on)
    )
    created = closure is None
    if closure is None:
        closure = Closure(
            client_id=client.id,
            unit_id=unit_id,
            closed_on=closed_on,
            reason=reason,
            registered_by_id=actor_id,
        )
        session.add(closure)
        await session.flush()
        await plans.schedule_closure(session, closure, today=today, min_gap_days=min_gap_days)
        changed = True
    elif closure.reason != reason:
        closure.reason = reason
        await session.flush()
        await plans.schedule_closure(session, closure, today=today, min_gap_days=min_gap_days)
        changed = True
    return Registration(closure=closure, created=created, changed=changed)


async def get_closure(session: AsyncSession, closure_id: uuid.UUID) -> Closure:
    closure = await session.get(Closure, closure_id)
    if closure is None:
        raise NotFound("Avslutet finns inte.", field="closure_id")
    return closure


async def change_closure(
    session: AsyncSession,
    closure_id: uuid.UUID,
    *,
    closed_on: date | str | None = None,
    reason: ClosureReason | str | None = None,
    now: datetime,
    min_gap_days: int,
) -> Closure:
    """Correct the date or reason; pending follow-ups are rescheduled in the same transaction."""
    closure = await get_closure(session, closure_id)
    today = plans.local_date(now)
    if closed_on is not None:
        new_date = parse_date(closed_on, field_name="closed_on", label="avslutsdatum")
        assert new_date is not None
        if new_date > today:
            raise InvalidInput("Avslutsdatumet kan inte ligga i framtiden.", field="closed_on")
        if new_date != closure.closed_on:
            clash = await session.scalar(
                sa.select(Closure.id).where(
                    Closure.client_id == closure.client_id, Closure.closed_on == new_date
                )
            )
            if clash:
                raise Conflict("Klienten har redan ett avslut det datumet.", field="closed_on")
            closure.closed_on = new_date
    if reason is not None:
        closure.reason = parse_reason(reason)
    await session.flush()
    await plans.schedule_closure(session, closure, today=today, min_gap_days=min_gap_days)
    return closure


async def register_return(
    session: AsyncSession,
    closure_id: uuid.UUID,
    *,
    returned_on: date | str,
    actor_id: uuid.UUID | None,
    now: datetime,
) -> Closure:
    """Återaktualisering: the client needs assistance again. The rest of the plan is cancelled
    and the return is recorded as an outcome, in one transaction."""
    from surveys.outcomes.service import record_return

    closure = await get_closure(session, closure_id)
    when = parse_date(returned_on, field_name="returned_on", label="datum för återaktualisering")
    assert when is not None
    if when < closure.closed_on:
        raise InvalidInput("Återaktualiseringen kan inte ligga före avslutsdatumet.", field="returned_on")
    if when > plans.local_date(now):
        raise InvalidInput("Datumet kan inte ligga i framtiden.", field="returned_on")
    from surveys.closures.changes import stop_contact

    closure.returned_on = when
    # The rest of the plan, a conversation in progress, unsent texts and queued calls all stop.
    await stop_contact(
        session, reason="case_reopened", now=now, closure_id=closure.id, include_scheduled=True
    )
    await record_return(session, closure, returned_on=when, actor_id=actor_id, now=now)
    await session.flush()
    return closure
