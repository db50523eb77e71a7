"""Read models for closures: my units' list with the next follow-up, and one closure in full.

Shared by the caseworker pages and the JSON API. Always scoped by the caller's unit ids; phone
numbers appear only masked (the stored mask, no decryption).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import Forbidden, NotFound
from surveys.closures.models import FOLLOWED_UP_REASONS, Client, Closure
from surveys.outcomes.models import Outcome
from surveys.plans.models import OPEN_STATUSES, FollowUp

STATUS_LABELS_SV = {
    "erased": "Kontaktuppgifter raderade",
    "returned": "Återaktualiserad",
    "do_not_contact": "Kontakta ej",
    "protected_identity": "Skyddad identitet",
    "consent_withdrawn": "Samtycke återkallat",
    "not_followed_up": "Följs inte upp (orsak)",
    "planned": "Uppföljning pågår",
    "finished": "Uppföljningen klar",
}
SKIP_LABELS_SV = {
    "window_passed": "Tidsfönstret hade passerat",
    "fatigue_cap": "För tätt inpå en annan kontakt",
    "case_reopened": "Återaktualiserad",
    "not_followed_up": "Avslutsorsaken följs inte upp",
    "do_not_contact": "Kontakta ej",
    "protected_identity": "Skyddad identitet",
    "consent_withdrawn": "Samtycke återkallat",
    "opted_out": "Personen har skrivit STOPP",
    "erased": "Kontaktuppgifter raderade",
    "wrong_number": "Fel nummer",
}
FOLLOW_UP_STATUS_SV = {
    "scheduled": "Planerad",
    "due": "Lämnad till utskick",
    "started": "Pågår",
    "skipped": "Hoppades över",
    "cancelled": "Avbruten",
    "done": "Klar",
}
CHANNEL_LABELS_SV = {"sms": "Sms-enkät", "phone": "Telefonsamtal", "status_sms": "Sms: statusfråga"}


@dataclass
class ClosureRow:
    closure: Closure
    client: Client
    next_follow_up: FollowUp | None
    status: str

    @property
    def status_label(self) -> str:
        return STATUS_LABELS_SV[self.status]


@dataclass
class ClosureDetail(ClosureRow):
    follow_ups: list[FollowUp] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


def closure_status(closure: Closure, client: Client, next_follow_up: FollowUp | None) -> str:
    if client.erased_at is not None:
        return "erased"
    if closure.returned_on is not None:
        return "returned"
    if client.do_not_contact:
        return "do_not_contact"
    if client.protected_identity:
        return "protected_identity"
    if client.consent_withdrawn_at is not None:
        return "consent_withdrawn"
    if closure.reason not in FOLLOWED_UP_REASONS:
        return "not_followed_up"
    return "planned" if next_follow_up is not None else "finished"


async def _next_follow_ups(
    session: AsyncSession, closure_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, FollowUp]:
    if not closure_ids:
        return {}
    rows = await session.scalars(
        sa.select(FollowUp)
        .where(FollowUp.closure_id.in_(closure_ids), FollowUp.status.in_(OPEN_STATUSES))
        .order_by(FollowUp.due_on, FollowUp.wave_days)
    )
    first: dict[uuid.UUID, FollowUp] = {}
    for row in rows:
        first.setdefault(row.closure_id, row)
    return first


LIKE_ESCAPE = "\\"


def client_ref_prefix(prefix: str) -> sa.ColumnElement[bool]:
    """``lower(client_ref) LIKE lower(prefix) || '%'`` with LIKE's wildcards escaped.

    Why lower() on both sides instead of ILIKE: SQLite's LIKE is case-insensitive only for ASCII
    and PostgreSQL's is case-sensitive; client references are ASCII (``CLIENT_REF_PATTERN``), so
    lower() gives the same answer on both. ``_`` is allowed in a reference and is a LIKE wildcard,
    so it (and ``%`` and the escape character) is escaped: "k_1" must not match "KX1".
    """
    value = prefix.strip().lower()
    escaped = (
        value.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return sa.func.lower(Client.client_ref).like(escaped + "%", escape=LIKE_ESCAPE)


async def list_closures(
    session: AsyncSession,
    unit_ids: Iterable[uuid.UUID],
    *,
    unit_id: uuid.UUID | None = None,
    client_ref: str | None = None,
    ref_prefix: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[ClosureRow], int]:
    """Newest closures first in the given units (optionally one unit, one client reference).

    ``client_ref`` is an exact match (the JSON API's filter: an integration asks for one
    reference). ``ref_prefix`` is the caseworkers' search: a case-insensitive prefix ("k-1" finds
    "K-100" and "K-1"). Both work on the case system's pseudonymous reference, stored in plain text
    for exactly this lookup; the phone number (encrypted, keyed hash) is never searched.
    """
    units = list(unit_ids)
    if unit_id is not None:
        if unit_id not in units:
            raise Forbidden("Du har inte behörighet till enheten.", field="unit")
        units = [unit_id]
    where: list[sa.ColumnElement[bool]] = [Closure.unit_id.in_(units)]
    if client_ref:
        where.append(Client.client_ref == client_ref.strip())
    if ref_prefix and ref_prefix.strip():
        where.append(client_ref_prefix(ref_prefix))
    base = sa.select(Closure, Client).join(Client, Client.id == Closure.client_id).where(*where)
    total = await session.scalar(sa.select(sa.func.count()).select_from(base.subquery()))
    result = await session.execute(
        base.order_by(Closure.closed_on.desc(), Closure.registered_at.desc()).limit(limit).offset(offset)
    )
    pairs = [(row[0], row[1]) for row in result]
    nexts = await _next_follow_ups(session, [c.id for c, _ in pairs])
    rows = [
        ClosureRow(
            closure, client, nexts.get(closure.id), closure_status(closure, client, nexts.get(closure.id))
        )
        for closure, client in pairs
    ]
    return rows, int(total or 0)


async def get_closure_in_units(
    session: AsyncSession, closure_id: uuid.UUID, unit_ids: Iterable[uuid.UUID]
) -> Closure:
    closure = await session.get(Closure, closure_id)
    if closure is None:
        raise NotFound("Avslutet finns inte.", field="closure_id")
    if closure.unit_id not in set(unit_ids):
        raise Forbidden("Du har inte behörighet till avslutet.", field="closure_id")
    return closure


async def closure_detail(
    session: AsyncSession, closure_id: uuid.UUID, unit_ids: Iterable[uuid.UUID]
) -> ClosureDetail:
    closure = await get_closure_in_units(session, closure_id, unit_ids)
    client = await session.get(Client, closure.client_id, populate_existing=True)
    assert client is not None
    follow_ups = list(
        await session.scalars(
            sa.select(FollowUp)
            .where(FollowUp.closure_id == closure.id)
            .order_by(FollowUp.wave_days)
            .execution_options(populate_existing=True)
        )
    )
    outcomes = list(
        await session.scalars(
            sa.select(Outcome).where(Outcome.closure_id == closure.id).order_by(Outcome.wave_days)
        )
    )
    open_rows = [f for f in follow_ups if f.status in OPEN_STATUSES]
    next_fu = min(open_rows, key=lambda f: (f.due_on, f.wave_days), default=None)
    return ClosureDetail(
        closure=closure,
        client=client,
        next_follow_up=next_fu,
        status=closure_status(closure, client, next_fu),
        follow_ups=follow_ups,
        outcomes=outcomes,
    )
