"""Case summaries and closing notes are stored through nlp.redact (no personnummer, name or number)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from surveys.cases.models import Case, CaseTrigger
from surveys.cases.service import close_case, open_case
from surveys.redaction import redact_text
from tests.helpers import make_user
from tests.surveys.world import NOW, World


def test_surveys_redaction_is_nlp_redact() -> None:
    from nlp.redact import redact

    text = "Jag heter Fatima Ali, pnr 811218-9876, mejl fatima@example.se, Storgatan 3"
    assert redact_text(text) == redact(text)
    assert redact_text(text) == "Jag heter [NAMN] [NAMN], pnr [PERSONNUMMER], mejl [E-POST], [ADRESS]"


async def test_case_summary_and_action_note_never_store_personal_data(
    db_session: AsyncSession, world: World
) -> None:
    user = await make_user(db_session, Role.CASEWORKER, [world.unit])
    case = await open_case(
        db_session,
        unit_id=world.unit.id,
        closure_id=world.follow_up.closure_id,
        follow_up_id=world.follow_up.id,
        trigger=CaseTrigger.LOW_SCORE,
        source="sms",
        summary="Klienten 811218-9876 vill bli uppringd på 0701234567",
        now=NOW,
    )
    await close_case(
        db_session,
        case,
        user_id=user.id,
        action_note="Ringde Ahmed Hassan (19811218-9876), bokade möte med Lena på AF.",
        now=NOW,
    )
    await db_session.commit()
    summary, note = (await db_session.execute(sa.select(Case.summary, Case.action_note))).one()
    assert summary == "Klienten [PERSONNUMMER] vill bli uppringd på [TELEFON]"
    assert note == "Ringde [NAMN] [NAMN] ([PERSONNUMMER]), bokade möte med [NAMN] på AF."
