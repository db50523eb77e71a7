"""Panel use-cases: rounds, own reflections, editing until close, consent, redaction via open_text."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from feedback.panel import service
from surveys.answers.models import Channel, OpenText
from tests.helpers import make_unit, make_user

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
KEY = "pseudonym-key-for-tests-0123456789abcdef"


def fake_redact(text: str) -> str:
    """Stand-in for nlp.redact: proves the service stores only what the redactor returns."""
    return text.replace("Anna Berg", "[NAMN]")


async def _people(db_session: AsyncSession):
    unit_a = await make_unit(db_session, name="A")
    unit_b = await make_unit(db_session, name="B")
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [unit_a]))
    member = CurrentUser.from_user(await make_user(db_session, Role.PANEL_MEMBER, [unit_a]))
    other = CurrentUser.from_user(await make_user(db_session, Role.PANEL_MEMBER, [unit_b]))
    return unit_a, unit_b, manager, member, other


async def _round(db_session: AsyncSession, manager: CurrentUser, unit_id, **kw):
    args = {
        "title": "Hösten 2026",
        "prompts": ["Vad fungerar bra?", "", "Vad borde vi ändra?"],
        "opens_on": date(2026, 11, 1),
        "closes_on": date(2026, 11, 30),
    }
    args.update(kw)
    panel_round = await service.create_round(db_session, user=manager, unit_id=unit_id, **args)
    await db_session.commit()
    return panel_round


async def test_round_is_created_only_in_own_unit_and_validated(db_session: AsyncSession) -> None:
    unit_a, unit_b, manager, member, _ = await _people(db_session)
    panel_round = await _round(db_session, manager, unit_a.id)
    assert panel_round.prompts == ["Vad fungerar bra?", "Vad borde vi ändra?"]
    with pytest.raises(Forbidden):
        await _round(db_session, manager, unit_b.id)
    with pytest.raises(Forbidden):
        await _round(db_session, member, unit_a.id)
    with pytest.raises(InvalidInput):
        await _round(db_session, manager, unit_a.id, closes_on=date(2026, 10, 1))
    with pytest.raises(InvalidInput):
        await _round(db_session, manager, unit_a.id, prompts=["  "])


async def test_member_writes_and_edits_own_reflection_registered_redacted(db_session: AsyncSession) -> None:
    unit_a, _, manager, member, _ = await _people(db_session)
    panel_round = await _round(db_session, manager, unit_a.id)
    kwargs = {
        "user": member,
        "round_id": panel_round.id,
        "now": NOW,
        "pseudonym_key": KEY,
        "redact": fake_redact,
    }
    reflection = await service.save_reflection(
        db_session,
        prompt_index=0,
        text="Min handläggare Anna Berg lyssnade på mig.",
        importance=4,
        quote_consent=True,
        **kwargs,
    )
    await db_session.commit()
    row = await db_session.scalar(
        sa.select(OpenText).where(OpenText.source_ref == f"reflection:{reflection.id}")
    )
    assert row is not None and row.channel == Channel.PANEL and row.unit_id == unit_a.id
    assert "Anna Berg" not in row.text_redacted and "[NAMN]" in row.text_redacted
    assert row.quote_consent is True
    # The owner's stored copy is redacted too (issue 20): no name is kept anywhere.
    assert reflection.text == "Min handläggare [NAMN] lyssnade på mig."

    edited = await service.save_reflection(
        db_session,
        prompt_index=0,
        text="Jag blev lyssnad på.",
        importance=None,
        quote_consent=False,
        **kwargs,
    )
    await db_session.commit()
    assert edited.id == reflection.id
    rows = list(await db_session.scalars(sa.select(OpenText)))
    assert len(rows) == 1 and rows[0].text_redacted == "Jag blev lyssnad på." and not rows[0].quote_consent
    # The pseudonymous key is stable for the member and is not their id.
    assert rows[0].respondent_key and str(member.id) not in rows[0].respondent_key


async def test_closed_round_refuses_edits_but_consent_can_still_be_withdrawn(
    db_session: AsyncSession,
) -> None:
    unit_a, _, manager, member, _ = await _people(db_session)
    panel_round = await _round(db_session, manager, unit_a.id)
    reflection = await service.save_reflection(
        db_session,
        user=member,
        round_id=panel_round.id,
        prompt_index=1,
        text="Mer samverkan med Arbetsförmedlingen.",
        importance=None,
        quote_consent=True,
        now=NOW,
        pseudonym_key=KEY,
        redact=fake_redact,
    )
    await db_session.commit()
    reflection_id = reflection.id
    after_close = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(Conflict):
        await service.save_reflection(
            db_session,
            user=member,
            round_id=panel_round.id,
            prompt_index=1,
            text="ändrat",
            importance=None,
            quote_consent=True,
            now=after_close,
            pseudonym_key=KEY,
            redact=fake_redact,
        )
    await db_session.rollback()
    await service.set_consent(
        db_session, user=member, reflection_id=reflection_id, consent=False, now=after_close
    )
    await db_session.commit()
    row = await db_session.scalar(sa.select(OpenText))
    assert row is not None and row.quote_consent is False


async def test_scope_members_and_rounds(db_session: AsyncSession) -> None:
    unit_a, _unit_b, manager, member, other = await _people(db_session)
    panel_round = await _round(db_session, manager, unit_a.id)
    today = date(2026, 11, 22)
    assert [r.id for r in await service.open_rounds(db_session, user=member, today=today)] == [panel_round.id]
    assert await service.open_rounds(db_session, user=other, today=today) == []
    with pytest.raises(NotFound):
        await service.member_round(db_session, user=other, round_id=panel_round.id)
    with pytest.raises(Forbidden):
        await service.member_round(db_session, user=manager, round_id=panel_round.id)
    reflection = await service.save_reflection(
        db_session,
        user=member,
        round_id=panel_round.id,
        prompt_index=0,
        text="Bra bemötande.",
        importance=5,
        quote_consent=False,
        now=NOW,
        pseudonym_key=KEY,
        redact=fake_redact,
    )
    await db_session.commit()
    with pytest.raises(NotFound):
        await service.set_consent(db_session, user=other, reflection_id=reflection.id, consent=True, now=NOW)
    assert await service.my_reflections(db_session, user=other) == []
    with pytest.raises(InvalidInput):
        await service.save_reflection(
            db_session,
            user=member,
            round_id=panel_round.id,
            prompt_index=7,
            text="x",
            importance=None,
            quote_consent=False,
            now=NOW,
            pseudonym_key=KEY,
            redact=fake_redact,
        )
