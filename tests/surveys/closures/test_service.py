"""Closure registration: natural key, idempotency, rescheduling and return to assistance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from feedback.core.errors import Conflict, InvalidInput
from surveys.closures.models import Client, Closure, ClosureReason, Language
from surveys.closures.service import ClosureInput, change_closure, register_closure, register_return
from surveys.outcomes.models import Outcome, OutcomeStatus
from surveys.plans.models import FollowUp, FollowUpStatus
from tests.helpers import make_unit

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


async def _register(session, unit, **kwargs):
    data = ClosureInput(**{"client_ref": "K-1", "closed_on": TODAY, "reason": "work", **kwargs})
    return await register_closure(
        session, unit_id=unit.id, data=data, phones=None, actor_id=None, now=NOW, min_gap_days=14
    )


async def _follow_ups(session, closure):
    rows = await session.scalars(
        sa.select(FollowUp).where(FollowUp.closure_id == closure.id).order_by(FollowUp.wave_days)
    )
    return list(rows)


async def test_registration_creates_client_closure_and_default_plan_follow_ups(db_session) -> None:
    unit = await make_unit(db_session)
    reg = await _register(db_session, unit, language="lätt svenska")
    await db_session.commit()
    assert reg.created and reg.changed
    client = await db_session.scalar(sa.select(Client))
    assert client.client_ref == "K-1" and client.language == Language.SV_EASY
    rows = await _follow_ups(db_session, reg.closure)
    assert [(f.wave_days, f.channel.value, f.due_on) for f in rows] == [
        (30, "sms", TODAY + timedelta(days=30)),
        (90, "sms", TODAY + timedelta(days=90)),
        (180, "phone", TODAY + timedelta(days=180)),
        (365, "status_sms", TODAY + timedelta(days=365)),
    ]
    assert {f.status for f in rows} == {FollowUpStatus.SCHEDULED}


async def test_registering_the_same_values_again_changes_nothing(db_session) -> None:
    unit = await make_unit(db_session)
    await _register(db_session, unit)
    await db_session.commit()
    again = await _register(db_session, unit)
    assert not again.created and not again.changed
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(FollowUp)) == 4
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Closure)) == 1


async def test_personnummer_as_client_ref_is_refused_and_nothing_is_stored(db_session) -> None:
    unit = await make_unit(db_session)
    with pytest.raises(InvalidInput, match="personnummer") as info:
        await _register(db_session, unit, client_ref="19811228-9874")
    assert info.value.field == "client_ref"
    await db_session.rollback()
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("reason", "semester", "avslutsorsak"),
        ("closed_on", "2026-13-01", "ÅÅÅÅ-MM-DD"),
        ("closed_on", "2030-01-01", "framtiden"),
        ("language", "klingon", "språk"),
    ],
)
async def test_bad_input_is_refused_with_a_swedish_message(db_session, field, value, needle) -> None:
    unit = await make_unit(db_session)
    with pytest.raises(InvalidInput, match=needle) as info:
        await _register(db_session, unit, **{field: value})
    assert info.value.field == field


async def test_reasons_other_than_work_or_studies_get_no_follow_ups(db_session) -> None:
    unit = await make_unit(db_session)
    reg = await _register(db_session, unit, reason="moved")
    assert await _follow_ups(db_session, reg.closure) == []


async def test_changing_closed_on_reschedules_pending_follow_ups(db_session) -> None:
    unit = await make_unit(db_session)
    reg = await _register(db_session, unit, closed_on=TODAY - timedelta(days=10))
    await db_session.commit()
    await change_closure(
        db_session, reg.closure.id, closed_on=TODAY - timedelta(days=5), now=NOW, min_gap_days=14
    )
    await db_session.commit()
    rows = await _follow_ups(db_session, reg.closure)
    assert [f.due_on for f in rows] == [TODAY + timedelta(days=d - 5) for d in (30, 90, 180, 365)]
    assert all(f.revision == 2 for f in rows)


async def test_changing_reason_away_from_work_cancels_and_back_restores(db_session) -> None:
    unit = await make_unit(db_session)
    reg = await _register(db_session, unit)
    await change_closure(db_session, reg.closure.id, reason="moved", now=NOW, min_gap_days=14)
    assert {f.status for f in await _follow_ups(db_session, reg.closure)} == {FollowUpStatus.CANCELLED}
    await change_closure(db_session, reg.closure.id, reason=ClosureReason.STUDIES, now=NOW, min_gap_days=14)
    assert {f.status for f in await _follow_ups(db_session, reg.closure)} == {FollowUpStatus.SCHEDULED}


async def test_started_wave_is_kept_when_the_date_changes(db_session) -> None:
    unit = await make_unit(db_session)
    reg = await _register(db_session, unit, closed_on=TODAY - timedelta(days=33))
    rows = await _follow_ups(db_session, reg.closure)
    # the 30-day wave was caught up today; pretend it has started
    rows[0].status = FollowUpStatus.STARTED
    await db_session.flush()
    await change_closure(
        db_session, reg.closure.id, closed_on=TODAY - timedelta(days=32), now=NOW, min_gap_days=14
    )
    rows = await _follow_ups(db_session, reg.closure)
    assert rows[0].status == FollowUpStatus.STARTED and rows[0].due_on == TODAY
    assert rows[1].due_on == TODAY - timedelta(days=32) + timedelta(days=90)


async def test_date_clash_with_another_closure_is_a_conflict(db_session) -> None:
    unit = await make_unit(db_session)
    first = await _register(db_session, unit, closed_on=TODAY - timedelta(days=400))
    await _register(db_session, unit, closed_on=TODAY)
    with pytest.raises(Conflict):
        await change_closure(db_session, first.closure.id, closed_on=TODAY, now=NOW, min_gap_days=14)


async def test_return_to_assistance_cancels_the_rest_and_is_an_outcome(db_session) -> None:
    unit = await make_unit(db_session)
    reg = await _register(db_session, unit, closed_on=TODAY - timedelta(days=60))
    rows = await _follow_ups(db_session, reg.closure)
    rows[0].status = FollowUpStatus.DONE
    await db_session.commit()
    await register_return(db_session, reg.closure.id, returned_on=TODAY, actor_id=None, now=NOW)
    await db_session.commit()
    statuses = [f.status for f in await _follow_ups(db_session, reg.closure)]
    assert statuses == [FollowUpStatus.DONE] + [FollowUpStatus.CANCELLED] * 3
    outcome = await db_session.scalar(sa.select(Outcome))
    assert outcome.status == OutcomeStatus.RETURNED and outcome.wave_days == 60
    with pytest.raises(InvalidInput):
        await register_return(
            db_session, reg.closure.id, returned_on=TODAY - timedelta(days=61), actor_id=None, now=NOW
        )


async def test_phone_is_stored_encrypted_with_blind_index_and_mask(db_session, settings) -> None:
    from surveys.closures.contact import VaultPhoneProtector

    phones = VaultPhoneProtector(settings)
    unit = await make_unit(db_session)
    data = ClosureInput(client_ref="K-tel", closed_on=TODAY, reason="studies", phone="070-123 45 67")
    await register_closure(
        db_session, unit_id=unit.id, data=data, phones=phones, actor_id=None, now=NOW, min_gap_days=14
    )
    await db_session.commit()
    client = await db_session.scalar(sa.select(Client))
    assert "701234567" not in (client.phone_ciphertext or "")
    assert phones.reveal(client.phone_ciphertext) == "+46701234567"
    assert client.phone_masked == "+4670*****67" and len(client.phone_index) == 64
    # the same number typed differently is the same number: nothing changes
    again = await register_closure(
        db_session,
        unit_id=unit.id,
        data=ClosureInput(client_ref="K-tel", closed_on=TODAY, reason="studies", phone="+46 70 123 45 67"),
        phones=phones,
        actor_id=None,
        now=NOW,
        min_gap_days=14,
    )
    assert not again.changed


async def test_landline_is_refused_with_the_notifications_message(db_session, settings) -> None:
    from surveys.closures.contact import VaultPhoneProtector

    unit = await make_unit(db_session)
    with pytest.raises(InvalidInput, match="mobilnummer") as info:
        await register_closure(
            db_session,
            unit_id=unit.id,
            data=ClosureInput(client_ref="K-x", closed_on=TODAY, reason="work", phone="08-123 456 78"),
            phones=VaultPhoneProtector(settings),
            actor_id=None,
            now=NOW,
            min_gap_days=14,
        )
    assert info.value.field == "phone"
