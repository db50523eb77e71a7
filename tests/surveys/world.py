"""A registered closure with a phone number and its due 30-day SMS follow-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Unit
from feedback.core.settings import Settings
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.service import ClosureInput, register_closure
from surveys.plans.models import FollowUp
from tests.helpers import make_unit

CLOSED_ON = date(2026, 1, 30)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 31 days after the closure
PHONE = "+46701234567"


@dataclass
class World:
    unit: Unit
    follow_up: FollowUp
    phone_index: str


async def make_world(session: AsyncSession, settings: Settings, *, ref: str = "K-100", phone: str = PHONE,
                     language: str = "sv", wave: int = 30) -> World:  # fmt: skip
    unit = await make_unit(session)
    protector = VaultPhoneProtector(settings)
    reg = await register_closure(
        session,
        unit_id=unit.id,
        data=ClosureInput(
            client_ref=ref,
            closed_on=CLOSED_ON,
            reason="work",
            phone=phone,
            language=language,
            consent_on=CLOSED_ON,
            consent_channel="meeting",
            consent_given_by="client",
        ),
        phones=protector,
        actor_id=None,
        now=NOW - timedelta(days=31),
        min_gap_days=14,
    )
    follow_up = await session.scalar(
        sa.select(FollowUp).where(FollowUp.closure_id == reg.closure.id, FollowUp.wave_days == wave)
    )
    assert follow_up is not None
    await session.commit()
    return World(unit, follow_up, protector.protect(phone).index)


@pytest.fixture
async def world(db_session: AsyncSession, settings: Settings) -> World:
    return await make_world(db_session, settings)
