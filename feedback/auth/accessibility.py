"""Problems reported from the tillgänglighetsredogörelse (DOS-lagen 2018:1937, 12 §).

Anyone may write (the page is public), so the description is redacted before it is stored, like
every free text; an e-mail address the reporter chose to give for an answer is kept apart and
shown to admins only. The admin marks a report handled.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import AccessibilityReport
from feedback.auth.services import normalise_email
from feedback.core.errors import Conflict, InvalidInput, NotFound
from surveys.redaction import redact_text

MAX_DESCRIPTION = 2000


async def submit(
    session: AsyncSession, *, page: str, description: str, reply_to: str, now: datetime
) -> AccessibilityReport:
    text = description.strip()
    if len(text) < 5:
        raise InvalidInput("Beskriv problemet med några ord.", field="description")
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(f"Beskrivningen får vara högst {MAX_DESCRIPTION} tecken.", field="description")
    address = reply_to.strip()
    if address:
        if len(address) > 320 or "@" not in address or " " in address:
            raise InvalidInput("Skriv en e-postadress som namn@exempel.se, eller lämna fältet tomt.",
                               field="reply_to")  # fmt: skip
        address = normalise_email(address)
    report = AccessibilityReport(
        created_at=now,
        page=redact_text(page.strip())[:300],
        description=redact_text(text),
        reply_to=address or None,
    )
    session.add(report)
    await session.flush()
    return report


async def list_reports(session: AsyncSession) -> list[AccessibilityReport]:
    query = sa.select(AccessibilityReport).order_by(
        AccessibilityReport.handled_at.is_not(None), AccessibilityReport.created_at.desc()
    )
    return list(await session.scalars(query))


async def mark_handled(session: AsyncSession, report_id: uuid.UUID, *, by: uuid.UUID, now: datetime) -> None:
    report = await session.get(AccessibilityReport, report_id)
    if report is None:
        raise NotFound("Rapporten finns inte.")
    if report.handled_at is not None:
        raise Conflict("Rapporten är redan markerad som hanterad.")
    report.handled_at = now
    report.handled_by_id = by
    await session.flush()
