"""Loggkontroll: reading the audit log (filters, a random sample of contact-data reads, CSV).

Why: socialtjänsten must follow up who read what (OSL, Socialstyrelsens föreskrifter om
journalföring och behandling av personuppgifter: regular log reviews). The log is written by
every feature (``feedback.core.audit``); this module only reads it, for the admin and the
granskare. Every reading is itself written to the log by the caller (``record_review``), with
the filters as ids and dates, never the client reference typed into the form.

Framework-free: the page and the CSV export in ``feedback.web.admin_audit`` call these.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import ROLE_LABELS_SV, Role, User
from feedback.core import audit
from feedback.core.clock import STOCKHOLM
from feedback.core.errors import InvalidInput
from feedback.core.models import AuditEvent
from surveys.closures.models import Client

# Reads of contact data (a phone number shown, a client's page opened, a register extract):
# what the stickprov draws from.
CONTACT_READ_ACTIONS = ("contact.read", "client.read", "client.extract")

ACTION_LABELS_SV = {
    "client.read": "Klientsidan visades",
    "contact.read": "Kontaktuppgifter visades",
    "client.extract": "Registerutdrag togs fram",
    "contact.change": "Kontaktuppgifter ändrades",
    "contact.do_not_contact": "Kontakta ej ändrades",
    "contact.consent_withdrawn": "Samtycke återkallades",
    "contact.erase": "Kontaktuppgifter raderades",
    "quote.consent_withdrawn": "Citat drogs tillbaka",
    "closures.import": "Avslut importerades",
    "sms.reply": "Sms skickades från inkorgen",
    "open_text.read": "Fritextsvar lästes (teman)",
    "report.answers.read": "Fritextsvar lästes (rapport)",
    "report.answers.export": "Fritextsvar exporterades",
    "review.finding.update": "Iakttagelse i översyn ändrades",
    "review.action.update": "Åtgärd i översyn ändrades",
    "review.action.status": "Åtgärdens status ändrades",
    "review.action.publish": "Åtgärd publicerades",
    "invitation.create": "Inbjudan skapades",
    "invitation.accept": "Inbjudan användes",
    "login.locked": "Inloggning spärrades",
    "api_token.create": "API-nyckel skapades",
    "api_token.revoke": "API-nyckel återkallades",
    "audit.read": "Loggen lästes",
    "audit.sample": "Stickprov i loggen",
    "audit.export": "Loggen exporterades",
    "unit.settings": "Enhetsinställningar ändrades",
    "login.sso": "Inloggning med kommunens konto",
    "login.sso.refused": "Inloggning med kommunens konto nekades",
    "sso.mapping.create": "Gruppkoppling för inloggning skapades",
    "sso.mapping.delete": "Gruppkoppling för inloggning togs bort",
    "sso.user.create": "Konto skapades vid första inloggningen",
    "sso.access.update": "Behörighet ändrades vid inloggning",
    "sso.access.remove": "Behörighet togs bort vid inloggning",
    "user.deactivate": "Konto stängdes av",
    "user.reactivate": "Konto aktiverades igen",
    "user.role": "Roll ändrades",
    "user.units": "Enheter ändrades",
    "user.password_reset": "Lösenord återställdes",
    "text.edit": "Sms-text ändrades",
    "text.review": "Sms-text markerades som granskad",
}
SUBJECT_LABELS_SV = {
    "client": "Klient",
    "unit": "Enhet",
    "user": "Användare",
    "login": "Inloggning",
    "theme": "Tema",
    "open_text": "Fritextsvar",
    "inbox_item": "Inkorg",
    "review_action": "Åtgärd",
    "review_finding": "Iakttagelse",
    "api_token": "API-nyckel",
    "audit_log": "Loggen",
}
MAX_PERIOD = timedelta(days=366)
MAX_SAMPLE = 200


@dataclass(frozen=True)
class AuditFilter:
    """What the reviewer asks for; ``client_ref`` is resolved to client ids before searching."""

    start: date
    end: date
    actor_id: uuid.UUID | None = None
    action: str | None = None
    client_ref: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise InvalidInput("Slutdatum kan inte vara före startdatum.", field="till")
        if self.end - self.start > MAX_PERIOD:
            raise InvalidInput("Välj en period på högst ett år.", field="till")
        if self.action is not None and self.action not in ACTION_LABELS_SV:
            raise InvalidInput("Okänd händelse.", field="handelse")


@dataclass(frozen=True)
class LogRow:
    event: AuditEvent
    actor_name: str
    actor_role: str
    client_ref: str | None

    @property
    def action_label(self) -> str:
        return ACTION_LABELS_SV.get(self.event.action, "Annan händelse")

    @property
    def subject_label(self) -> str:
        return SUBJECT_LABELS_SV.get(self.event.subject_type, "Annat")


@dataclass
class LogPage:
    rows: list[LogRow] = field(default_factory=list)
    total: int = 0
    client_ids: list[uuid.UUID] = field(default_factory=list)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """Swedish calendar days → UTC instants (the end day included)."""
    return (
        datetime.combine(start, time.min, tzinfo=STOCKHOLM),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=STOCKHOLM),
    )


async def _client_ids(session: AsyncSession, client_ref: str) -> list[uuid.UUID]:
    ref = client_ref.strip()
    return list(await session.scalars(sa.select(Client.id).where(Client.client_ref == ref)))


async def _where(
    session: AsyncSession, wanted: AuditFilter
) -> tuple[list[sa.ColumnElement[bool]], list[uuid.UUID]]:
    low, high = _bounds(wanted.start, wanted.end)
    where: list[sa.ColumnElement[bool]] = [AuditEvent.at >= low, AuditEvent.at < high]
    if wanted.actor_id is not None:
        where.append(AuditEvent.actor_id == wanted.actor_id)
    if wanted.action:
        where.append(AuditEvent.action == wanted.action)
    client_ids: list[uuid.UUID] = []
    if wanted.client_ref and wanted.client_ref.strip():
        client_ids = await _client_ids(session, wanted.client_ref)
        where.append(AuditEvent.subject_type == "client")
        where.append(AuditEvent.subject_id.in_([str(c) for c in client_ids] or ["-"]))
    return where, client_ids


async def _rows(session: AsyncSession, events: Sequence[AuditEvent]) -> list[LogRow]:
    actor_ids = {e.actor_id for e in events if e.actor_id}
    actors: dict[uuid.UUID, User] = {}
    if actor_ids:
        actors = {u.id: u for u in await session.scalars(sa.select(User).where(User.id.in_(actor_ids)))}
    client_subjects: set[uuid.UUID] = set()
    for e in events:
        if e.subject_type == "client" and e.subject_id:
            try:
                client_subjects.add(uuid.UUID(e.subject_id))
            except ValueError:
                continue
    refs: dict[str, str | None] = {}
    if client_subjects:
        refs = {
            str(cid): ref
            for cid, ref in await session.execute(
                sa.select(Client.id, Client.client_ref).where(Client.id.in_(client_subjects))
            )
        }
    rows = []
    for e in events:
        actor = actors.get(e.actor_id) if e.actor_id else None
        rows.append(
            LogRow(
                event=e,
                actor_name=actor.display_name if actor else "Systemet",
                actor_role=ROLE_LABELS_SV.get(Role(actor.role), "") if actor else "",
                client_ref=refs.get(e.subject_id or "") if e.subject_type == "client" else None,
            )
        )
    return rows


async def search(session: AsyncSession, wanted: AuditFilter, *, limit: int = 100, offset: int = 0) -> LogPage:
    """Events matching ``wanted``, newest first."""
    where, client_ids = await _where(session, wanted)
    total = await session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(*where)) or 0
    events = list(
        await session.scalars(
            sa.select(AuditEvent)
            .where(*where)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
    return LogPage(await _rows(session, events), total, client_ids)


async def sample(
    session: AsyncSession, start: date, end: date, *, size: int, seed: int
) -> tuple[list[LogRow], int]:
    """A random sample of contact-data reads in the period, and how many there were in all.

    ``seed`` makes the draw repeatable: the page shows it, so a second reviewer can draw the
    same sample again.
    """
    if not 1 <= size <= MAX_SAMPLE:
        raise InvalidInput(f"Välj ett stickprov på 1–{MAX_SAMPLE} händelser.", field="antal")
    AuditFilter(start=start, end=end)  # the same period checks
    low, high = _bounds(start, end)
    ids = list(
        await session.scalars(
            sa.select(AuditEvent.id)
            .where(AuditEvent.at >= low, AuditEvent.at < high, AuditEvent.action.in_(CONTACT_READ_ACTIONS))
            .order_by(AuditEvent.id)
        )
    )
    chosen = sorted(random.Random(seed).sample(ids, min(size, len(ids))))
    events = list(
        await session.scalars(
            sa.select(AuditEvent).where(AuditEvent.id.in_(chosen)).order_by(AuditEvent.at, AuditEvent.id)
        )
    ) if chosen else []  # fmt: skip
    return await _rows(session, events), len(ids)


async def all_matching(session: AsyncSession, wanted: AuditFilter, *, limit: int = 50_000) -> LogPage:
    """Every matching event, oldest first (the CSV export)."""
    where, client_ids = await _where(session, wanted)
    events = list(
        await session.scalars(
            sa.select(AuditEvent).where(*where).order_by(AuditEvent.at, AuditEvent.id).limit(limit)
        )
    )
    return LogPage(await _rows(session, events), len(events), client_ids)


def csv_rows(rows: Sequence[LogRow]) -> list[list[Any]]:
    """The export's rows (header first); cells are neutralised by ``feedback.core.csvfiles``."""
    out: list[list[Any]] = [
        [
            "Tid",
            "Användare",
            "Roll",
            "Händelse",
            "Händelsekod",
            "Avser",
            "Id",
            "Klientreferens",
            "Skäl",
            "IP-adress",
        ]
    ]
    for r in rows:
        e = r.event
        out.append(
            [
                e.at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M:%S"),
                r.actor_name,
                r.actor_role,
                r.action_label,
                e.action,
                r.subject_label,
                e.subject_id or "",
                r.client_ref or "",
                e.reason,
                e.client_ip or "",
            ]
        )
    return out


async def actors(session: AsyncSession) -> list[User]:
    """People (and service accounts) who can appear in the log, for the user filter."""
    return list(await session.scalars(sa.select(User).order_by(User.display_name)))


async def record_review(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID,
    action: str,
    wanted: AuditFilter,
    client_ids: Sequence[uuid.UUID] = (),
    rows: int,
    client_ip: str | None,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> None:
    """Viewing the log is itself logged (``audit.read``/``audit.sample``/``audit.export``)."""
    await audit.record(
        session,
        actor_id=actor_id,
        action=action,
        subject_type="audit_log",
        client_ip=client_ip,
        at=now,
        detail={
            "from": wanted.start.isoformat(),
            "to": wanted.end.isoformat(),
            "actor_id": str(wanted.actor_id) if wanted.actor_id else None,
            "action": wanted.action,
            "client_filter": bool(wanted.client_ref),
            "client_ids": [str(c) for c in client_ids],
            "rows": rows,
            **(extra or {}),
        },
    )
