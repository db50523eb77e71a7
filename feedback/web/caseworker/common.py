"""Small helpers shared by the caseworker pages (local time and number parsing, unit names)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Unit
from feedback.core.clock import STOCKHOLM
from feedback.core.errors import InvalidInput

PRIVATE_HEADERS = {"Cache-Control": "no-store"}


def parse_local_datetime(raw: str, field: str) -> datetime | None:
    """A ``datetime-local`` value (Stockholm time) as an aware UTC datetime; '' → None."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput("Skriv tiden som ÅÅÅÅ-MM-DD TT:MM.", field=field) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=STOCKHOLM)
    return value.astimezone(UTC)


def parse_int(raw: str, field: str, *, low: int, high: int) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidInput(f"Skriv ett heltal mellan {low} och {high}.", field=field) from exc
    if not low <= value <= high:
        raise InvalidInput(f"Skriv ett heltal mellan {low} och {high}.", field=field)
    return value


def parse_uuid(raw: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


async def unit_names(session: AsyncSession, unit_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = list(set(unit_ids))
    if not ids:
        return {}
    rows = await session.execute(sa.select(Unit.id, Unit.name).where(Unit.id.in_(ids)))
    return {row.id: row.name for row in rows}


async def client_refs(session: AsyncSession, client_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The case-system reference per client (pseudonymous; never contact data)."""
    from surveys.closures.models import Client

    ids = list(set(client_ids))
    if not ids:
        return {}
    rows = await session.execute(sa.select(Client.id, Client.client_ref).where(Client.id.in_(ids)))
    return {row.id: row.client_ref or "–" for row in rows}
