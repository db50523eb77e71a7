"""Inner-loop case use-cases: open (deduplicated), add a signal, list, close with an action note.

Priorities and their SLAs: *akut* (crisis words) is due the same working day, or the next one
when the message came after ``AKUT_CUTOFF`` or on a weekend/holiday; *normal* ("ring mig", a 1
on satisfaction, opened by a caseworker) is due two working days ahead.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.clock import STOCKHOLM
from feedback.core.errors import Conflict, InvalidInput, NotFound
from notifications.windows import is_holiday
from surveys.cases.models import (
    PRIORITY_RANK,
    Case,
    CaseEvent,
    CaseEventKind,
    CasePriority,
    CaseStatus,
    CaseTrigger,
)
from surveys.cases.signals import Signals
from surveys.redaction import redact_text

DUE_WORKING_DAYS = 2
# An akut message after this local time (or on a day off) is due the next working day: the
# acknowledgement then says so instead of promising a call nobody is there to make.
AKUT_CUTOFF = time(15, 0)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def due_on_for(priority: CasePriority, now: datetime) -> date:
    """The due date of a case opened (or raised) at ``now`` with ``priority``."""
    local = now.astimezone(STOCKHOLM)
    today = local.date()
    if priority is CasePriority.AKUT:
        if is_working_day(today) and local.time() < AKUT_CUTOFF:
            return today
        return add_working_days(today, 1)
    return add_working_days(today, DUE_WORKING_DAYS)


def add_working_days(start: date, days: int) -> date:
    """``days`` Swedish working days after ``start`` (weekends and public holidays skipped)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and not is_holiday(current):
            remaining -= 1
    return current


async def open_case(
    session: AsyncSession,
    *,
    unit_id: uuid.UUID,
    closure_id: uuid.UUID,
    follow_up_id: uuid.UUID | None,
    trigger: CaseTrigger,
    source: str,
    summary: str,
    now: datetime,
    owner_id: uuid.UUID | None = None,
    priority: CasePriority = CasePriority.NORMAL,
) -> Case:
    """Open a case, or return the open one for the same follow-up and trigger (no duplicates)."""
    if follow_up_id is not None:
        existing = await session.scalar(
            sa.select(Case).where(
                Case.follow_up_id == follow_up_id, Case.trigger == trigger, Case.status == CaseStatus.OPEN
            )
        )
        if existing is not None:
            return existing
    if owner_id is None:  # the caseworker who registered the closure owns it by default
        from surveys.closures.models import Closure

        owner_id = await session.scalar(sa.select(Closure.registered_by_id).where(Closure.id == closure_id))
    case = Case(
        unit_id=unit_id,
        closure_id=closure_id,
        follow_up_id=follow_up_id,
        trigger=trigger,
        source=source,
        summary=redact_text(summary)[:500],
        owner_id=owner_id,
        priority=priority,
        due_on=due_on_for(priority, now),
        opened_at=now,
    )
    session.add(case)
    await session.flush()
    session.add(
        CaseEvent(
            case_id=case.id, at=now, kind=CaseEventKind.OPENED, priority=priority, text_redacted=case.summary
        )
    )
    await session.flush()
    return case


async def open_or_join_case(
    session: AsyncSession,
    *,
    unit_id: uuid.UUID,
    closure_id: uuid.UUID,
    follow_up_id: uuid.UUID | None,
    trigger: CaseTrigger,
    source: str,
    summary: str,
    now: datetime,
    owner_id: uuid.UUID | None = None,
    priority: CasePriority = CasePriority.NORMAL,
) -> tuple[Case, bool]:
    """Open a case, or add this reason to the person's open case; ``(case, created)``.

    Why: one call (or one logged form, submitted twice) must not leave a person with two open
    cases. When the closure already has an open case — the "ring mig" case that put the call in
    the queue, or the case a 1 on the phone opened moments earlier in the same call — the new
    reason is an entry on that case's timeline (redacted), never a silent merge, and a more
    urgent priority raises the case. The same reason twice adds nothing.
    """
    case = await open_case_for(session, closure_id)
    if case is None:
        created = await open_case(
            session,
            unit_id=unit_id,
            closure_id=closure_id,
            follow_up_id=follow_up_id,
            trigger=trigger,
            source=source,
            summary=summary,
            now=now,
            owner_id=owner_id,
            priority=priority,
        )
        return created, True
    text = redact_text(summary)[:2000]
    already = await session.scalar(
        sa.select(sa.func.count())
        .select_from(CaseEvent)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind.in_([CaseEventKind.OPENED, CaseEventKind.REASON_ADDED]),
            CaseEvent.text_redacted == text,
        )
    )
    if not already:
        await _event(session, case, now, CaseEventKind.REASON_ADDED, Signals(), text, None)
    if PRIORITY_RANK[priority] > PRIORITY_RANK[CasePriority(case.priority)]:
        case.priority = priority
        case.due_on = min(case.due_on, due_on_for(priority, now))
        await _event(session, case, now, CaseEventKind.PRIORITY_RAISED, Signals(), "", None, priority)
    await session.flush()
    return case, False


@dataclass(frozen=True)
class SignalCase:
    case: Case
    created: bool  # a new case was opened
    raised: bool  # an open case got a higher priority


def priority_for(signals: Signals) -> CasePriority:
    return CasePriority.AKUT if signals.crisis else CasePriority.NORMAL


def _signal_summary(signals: Signals) -> str:
    parts = []
    if signals.crisis:
        parts.append("Oroande ord: " + ", ".join(signals.evidence) + ".")
    if signals.call_me:
        parts.append("Personen bad om att bli uppringd.")
    return " ".join(parts)


async def open_case_for(session: AsyncSession, closure_id: uuid.UUID) -> Case | None:
    """The newest open case of a closure, whatever opened it."""
    return await session.scalar(
        sa.select(Case)
        .where(Case.closure_id == closure_id, Case.status == CaseStatus.OPEN)
        .order_by(Case.opened_at.desc())
        .limit(1)
    )


async def record_signals(
    session: AsyncSession,
    *,
    unit_id: uuid.UUID,
    closure_id: uuid.UUID,
    follow_up_id: uuid.UUID | None,
    signals: Signals,
    text: str,
    source: str,
    now: datetime,
    inbound_id: uuid.UUID | None = None,
) -> SignalCase:
    """A message with crisis or call-me signals: open a case, or append it to the open one.

    Never a silent merge: the message (redacted) is an event on the open case's timeline, and a
    more urgent signal raises the priority, moves the due date forward and makes it a crisis case.
    """
    priority = priority_for(signals)
    trigger = CaseTrigger.CRISIS if signals.crisis else CaseTrigger.CALL_ME
    text_redacted = redact_text(text)[:2000]
    case = await open_case_for(session, closure_id)
    if case is None:
        case = await open_case(
            session,
            unit_id=unit_id,
            closure_id=closure_id,
            follow_up_id=follow_up_id,
            trigger=trigger,
            source=source,
            summary=_signal_summary(signals),
            now=now,
            priority=priority,
        )
        await _event(session, case, now, CaseEventKind.MESSAGE, signals, text_redacted, inbound_id)
        return SignalCase(case, created=True, raised=False)
    await _event(session, case, now, CaseEventKind.MESSAGE, signals, text_redacted, inbound_id)
    raised = PRIORITY_RANK[priority] > PRIORITY_RANK[CasePriority(case.priority)]
    if raised:
        case.priority = priority
        case.trigger = trigger
        case.due_on = min(case.due_on, due_on_for(priority, now))
        case.summary = (case.summary + " Senare: " + _signal_summary(signals))[:500]
        await _event(session, case, now, CaseEventKind.PRIORITY_RAISED, signals, "", inbound_id, priority)
    await session.flush()
    return SignalCase(case, created=False, raised=raised)


async def append_message(
    session: AsyncSession, case: Case, *, text: str, now: datetime, inbound_id: uuid.UUID | None = None
) -> CaseEvent:
    """A later message without signals, from a person whose case is open: onto its timeline."""
    return await _event(
        session, case, now, CaseEventKind.MESSAGE, Signals(), redact_text(text)[:2000], inbound_id
    )


async def _event(
    session: AsyncSession,
    case: Case,
    now: datetime,
    kind: CaseEventKind,
    signals: Signals,
    text_redacted: str,
    inbound_id: uuid.UUID | None,
    priority: CasePriority | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case_id=case.id,
        at=now,
        kind=kind,
        signals=",".join(signals.names),
        crisis_kinds=",".join(signals.crisis),
        priority=priority,
        text_redacted=text_redacted,
        inbound_id=inbound_id,
    )
    session.add(event)
    await session.flush()
    return event


async def case_timeline(session: AsyncSession, case_id: uuid.UUID) -> list[CaseEvent]:
    same_time_order = sa.case(
        (CaseEvent.kind == CaseEventKind.OPENED, 0), (CaseEvent.kind == CaseEventKind.MESSAGE, 1), else_=2
    )
    rows = await session.scalars(
        sa.select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at, same_time_order)
    )
    return list(rows.all())


async def list_cases(
    session: AsyncSession,
    unit_ids: Iterable[uuid.UUID],
    *,
    status: CaseStatus | None = CaseStatus.OPEN,
    unit_id: uuid.UUID | None = None,
    trigger: CaseTrigger | None = None,
    limit: int | None = None,
) -> list[Case]:
    """Cases in my units: open ones akut first by due date, closed ones newest closed first.

    ``status=None`` lists both, open before closed. ``unit_id`` outside ``unit_ids`` finds
    nothing (the scope is never widened by a filter).
    """
    units = list(unit_ids)
    query = sa.select(Case).where(Case.unit_id.in_(units))
    if unit_id is not None:
        query = query.where(Case.unit_id == unit_id)
    if status is not None:
        query = query.where(Case.status == status)
    if trigger is not None:
        query = query.where(Case.trigger == trigger)
    open_first = sa.case((Case.status == CaseStatus.OPEN, 0), else_=1)
    akut_first = sa.case((Case.priority == CasePriority.AKUT, 0), else_=1)
    query = query.order_by(
        open_first, Case.closed_at.desc(), akut_first, Case.due_on, Case.opened_at, Case.id
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())


async def count_cases(
    session: AsyncSession,
    unit_ids: Iterable[uuid.UUID],
    *,
    status: CaseStatus | None = CaseStatus.OPEN,
    unit_id: uuid.UUID | None = None,
    trigger: CaseTrigger | None = None,
) -> int:
    """How many cases ``list_cases`` would list without its limit."""
    query = sa.select(sa.func.count()).select_from(Case).where(Case.unit_id.in_(list(unit_ids)))
    if unit_id is not None:
        query = query.where(Case.unit_id == unit_id)
    if status is not None:
        query = query.where(Case.status == status)
    if trigger is not None:
        query = query.where(Case.trigger == trigger)
    return int(await session.scalar(query) or 0)


async def get_case(session: AsyncSession, case_id: uuid.UUID, unit_ids: Iterable[uuid.UUID]) -> Case:
    case = await session.get(Case, case_id)
    if case is None or case.unit_id not in set(unit_ids):
        raise NotFound("Ärendet finns inte.")
    return case


async def close_case(
    session: AsyncSession, case: Case, *, user_id: uuid.UUID, action_note: str, now: datetime
) -> Case:
    """Close with a note of what was done; a case cannot be closed without one."""
    note = (action_note or "").strip()
    if len(note) < 3:
        raise InvalidInput("Skriv vad som gjordes innan du stänger ärendet.", field="action_note")
    if case.status is CaseStatus.CLOSED:
        raise Conflict("Ärendet är redan stängt.")
    case.status = CaseStatus.CLOSED
    case.action_note = redact_text(note)[:4000]
    case.closed_at = now
    case.closed_by_id = user_id
    await session.flush()
    return case


async def take_case(
    session: AsyncSession, case: Case, *, user_id: uuid.UUID, now: datetime | None = None
) -> Case:
    """``user_id`` takes the case: owner from now on, and an akut case stops being a banner."""
    case.owner_id = user_id
    case.taken_at = now or datetime.now(UTC)
    await session.flush()
    return case


@dataclass(frozen=True)
class AkutAlert:
    """The oldest open akut case of my units that nobody has taken (what the banner links to)."""

    case_id: uuid.UUID
    count: int


async def untaken_akut(session: AsyncSession, unit_ids: Iterable[uuid.UUID]) -> AkutAlert | None:
    """One indexed query (``ix_survey_case_unit_status_due``): open, akut, not taken, my units."""
    ids = list(unit_ids)
    if not ids:
        return None
    row = (
        await session.execute(
            sa.select(Case.id, sa.func.count().over().label("n"))
            .where(
                Case.unit_id.in_(ids),
                Case.status == CaseStatus.OPEN,
                Case.priority == CasePriority.AKUT,
                Case.taken_at.is_(None),
            )
            .order_by(Case.due_on, Case.opened_at)
            .limit(1)
        )
    ).first()
    return AkutAlert(case_id=row.id, count=int(row.n)) if row is not None else None


def local_today(now: datetime) -> date:
    """Today in Stockholm (due dates are calendar days there)."""
    return now.astimezone(STOCKHOLM).date()


def working_days_between(start: date, end: date) -> int:
    """Swedish working days after ``start`` up to and including ``end`` (0 when end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if current.weekday() < 5 and not is_holiday(current):
            count += 1
    return count


@dataclass(frozen=True)
class CaseAge:
    """One open case as a manager sees it: no personal data, only unit, reason, owner and age."""

    case_id: uuid.UUID
    unit_id: uuid.UUID
    trigger: CaseTrigger
    source: str
    owner_id: uuid.UUID | None
    opened_at: datetime
    due_on: date
    age_days: int  # calendar days since opened (Stockholm dates)
    overdue_working_days: int  # working days past due_on (0 when not overdue)

    @property
    def overdue(self) -> bool:
        return self.overdue_working_days > 0


async def open_case_ages(
    session: AsyncSession, unit_ids: Iterable[uuid.UUID], now: datetime
) -> list[CaseAge]:
    """Open cases in ``unit_ids``, oldest first, with age and SLA status (for the managers' report).

    Read-only and free of personal data: the summary and the client are deliberately left out.
    """
    today = local_today(now)
    rows = await session.scalars(
        sa.select(Case)
        .where(Case.unit_id.in_(list(unit_ids)), Case.status == CaseStatus.OPEN)
        .order_by(Case.opened_at, Case.id)
    )
    return [
        CaseAge(
            case_id=case.id,
            unit_id=case.unit_id,
            trigger=case.trigger,
            source=case.source,
            owner_id=case.owner_id,
            opened_at=case.opened_at,
            due_on=case.due_on,
            age_days=(today - local_today(_aware(case.opened_at))).days,
            overdue_working_days=working_days_between(case.due_on, today),
        )
        for case in rows
    ]


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
