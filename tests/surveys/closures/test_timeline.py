"""The client page's timeline and wave states, assembled from the real services' rows."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.settings import Settings
from surveys.closures import contact_edit
from surveys.closures.models import Client, Closure
from surveys.closures.timeline import build_timeline
from tests.helpers import make_unit, make_user
from tests.surveys.client_story import CALL_NOTE, CASE_REASON, build_client_story
from tests.surveys.world import NOW, World


async def _timeline(session: AsyncSession, closure_id):  # type: ignore[no-untyped-def]
    session.expire_all()
    closure = await session.get(Closure, closure_id)
    assert closure is not None
    client = await session.get(Client, closure.client_id)
    assert client is not None
    return await build_timeline(session, closure, client)


async def test_one_timeline_tells_the_whole_story_newest_first(
    db_session: AsyncSession, settings: Settings
) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, "caseworker", [unit])
    story = await build_client_story(
        db_session, settings, unit_id=unit.id, caseworker_id=user.id, ref="K-STORY", now=NOW
    )
    timeline = await _timeline(db_session, story.closure_id)
    entries = timeline.entries
    kinds = {e.kind for e in entries}
    assert {"closure", "consent", "sms_out", "sms_in", "answer", "call", "case", "opt_out"} <= kinds

    # The undelivered SMS says why, in plain Swedish.
    failed = [e for e in entries if e.kind == "sms_out" and e.failed]
    assert failed and failed[0].status == "Kom inte fram"
    assert failed[0].problem.startswith("Telefonen går inte att nå")

    # Free text is shown redacted only: no personnummer, phone number or name.
    shown = " ".join(f"{e.title} {e.detail}" for e in entries)
    assert "19850412" not in shown and "1234" not in shown and "111 22 33" not in shown
    assert "Anna Svensson" not in shown
    assert any(e.kind == "answer" and "[TELEFON]" in e.detail for e in entries)
    answers = {e.detail for e in entries if e.kind == "answer"}
    assert {"1 = arbetar", "Ja", "4", "3"} <= answers, answers  # stored values in Swedish
    call = next(e for e in entries if e.kind == "call")
    assert "[PERSONNUMMER]" in call.detail and "hon har jobb nu" in call.detail
    assert CALL_NOTE not in shown
    # The call's "open a case" joined the person's open "ring mig" case (one call, one case): the
    # caseworker's reason shows on the timeline as a new reason in that case.
    cases = [e for e in entries if e.kind == "case"]
    assert len({e.case_id for e in cases}) == 1 and all(e.case_id is not None for e in cases)
    assert any(CASE_REASON in e.detail for e in cases)
    assert any(e.kind == "sms_in" and e.status == "Personen skrev STOPP" for e in entries)
    assert timeline.opted_out is True

    # Newest first.
    times = [e.at.astimezone(NOW.tzinfo) for e in entries]
    assert times == sorted(times, reverse=True)
    assert entries[0].kind in {"call", "case"} and entries[-1].kind in {"closure", "consent"}

    # Wave states tell the truth.
    labels = {w.follow_up.wave_days: w.label for w in timeline.waves}
    assert labels[30].startswith("Misslyckades: telefonen går inte att nå"), labels
    assert labels[30].endswith("ett samtal ligger i kön"), labels
    assert labels[90] == "Stoppad: personen har tackat nej till sms (STOPP)", labels
    assert labels[180] == "Klar: svarade på frågorna", labels
    assert labels[365] == "Stoppad: personen har tackat nej till sms (STOPP)", labels
    assert not any(w.label in ("Klar", "Planerad") for w in timeline.waves)


async def test_do_not_contact_and_withdrawn_consent_never_say_planerad(
    db_session: AsyncSession, settings: Settings, world: World
) -> None:
    closure_id = world.follow_up.closure_id
    before = await _timeline(db_session, closure_id)
    assert {w.label for w in before.waves} == {"Planerad"}
    client = await db_session.scalar(sa.select(Client))
    assert client is not None
    await contact_edit.change_do_not_contact(
        db_session, client, True, reason="Personen bad om det i telefon", actor_id=None, now=NOW
    )
    await db_session.commit()
    marked = await _timeline(db_session, closure_id)
    assert {w.label for w in marked.waves} == {"Stoppad: kontakta ej"}
    assert any(e.title == "Markerad: kontakta ej" and "i telefon" in e.detail for e in marked.entries)

    client = await db_session.scalar(sa.select(Client))
    assert client is not None
    await contact_edit.change_do_not_contact(
        db_session,
        client,
        False,
        reason="Fel person markerades",
        actor_id=None,
        now=NOW + timedelta(minutes=1),
    )
    await contact_edit.record_consent_withdrawn(
        db_session, client, reason="Personen ringde och tog tillbaka samtycket", actor_id=None,
        now=NOW + timedelta(minutes=2),
    )  # fmt: skip
    await db_session.commit()
    withdrawn = await _timeline(db_session, closure_id)
    assert "Planerad" not in {w.label for w in withdrawn.waves}
    assert {w.label for w in withdrawn.waves} == {"Stoppad: samtycket återkallat"}
    titles = [e.title for e in withdrawn.entries]
    assert titles[:2] == ["Samtycket återkallat", "Markeringen kontakta ej borttagen"], titles
    assert titles.count("Samtycket återkallat") == 1
