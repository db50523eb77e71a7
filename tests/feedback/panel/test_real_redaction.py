"""Panel reflections go through the real nlp.redact: neither the manager-visible copy nor the
member's own stored text keeps a name, phone, e-mail, address or personnummer."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.panel import service
from feedback.panel.models import Reflection
from surveys.answers.models import OpenText
from tests.feedback.panel.test_service import KEY, NOW, _people, _round

TEXT = "Min handläggare Anna Berg lyssnade. Mitt pnr är 19850412-1238, ring mig på 070-123 45 67."


async def test_reflection_is_stored_and_registered_fully_redacted(
    db_session: AsyncSession,
) -> None:
    unit_a, _, manager, member, _ = await _people(db_session)
    panel_round = await _round(db_session, manager, unit_a.id)
    reflection = await service.save_reflection(
        db_session,
        user=member,
        round_id=panel_round.id,
        prompt_index=0,
        text=TEXT,
        importance=3,
        quote_consent=False,
        now=NOW,
        pseudonym_key=KEY,
    )
    await db_session.commit()
    row = await db_session.scalar(
        sa.select(OpenText).where(OpenText.source_ref == f"reflection:{reflection.id}")
    )
    assert row is not None
    assert row.text_redacted == (
        "Min handläggare [NAMN] [NAMN] lyssnade. Mitt pnr är [PERSONNUMMER], ring mig på [TELEFON]."
    )
    own = await db_session.scalar(sa.select(Reflection.text).where(Reflection.id == reflection.id))
    assert own == row.text_redacted
    # nothing in any stored text column holds the personnummer
    for value in [row.text_redacted, own]:
        assert "850412" not in value and "1238" not in value


async def test_every_kind_of_personal_data_is_removed_from_the_stored_reflection(
    db_session: AsyncSession,
) -> None:
    """Issue 20: a name, phone, e-mail, street, postcode and 811218_9876 are all redacted."""
    unit_a, _, manager, member, _ = await _people(db_session)
    panel_round = await _round(db_session, manager, unit_a.id)
    text = (
        "Min handläggare Anna Berg ringde 070-123 45 67, mejla anna.berg@example.se. "
        "Jag bor på Storgatan 12, 123 45 Småstad. Pnr 811218_9876."
    )
    reflection = await service.save_reflection(
        db_session,
        user=member,
        round_id=panel_round.id,
        prompt_index=0,
        text=text,
        importance=None,
        quote_consent=False,
        now=NOW,
        pseudonym_key=KEY,
    )
    await db_session.commit()
    own = await db_session.scalar(sa.select(Reflection.text).where(Reflection.id == reflection.id))
    shared = await db_session.scalar(
        sa.select(OpenText.text_redacted).where(OpenText.source_ref == f"reflection:{reflection.id}")
    )
    for stored in (own, shared):
        assert stored is not None
        for secret in (
            "Anna",
            "Berg",
            "070",
            "example.se",
            "Storgatan",
            "123 45",
            "Småstad",
            "811218",
            "9876",
        ):
            assert secret not in stored, (secret, stored)
        for placeholder in ("[NAMN]", "[TELEFON]", "[E-POST]", "[ADRESS]", "[PERSONNUMMER]"):
            assert placeholder in stored, (placeholder, stored)
