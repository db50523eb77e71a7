"""Demo step: a panel round with reflections, and a review with findings, actions and published items.

Idempotent: if the demo round exists, nothing is added. Runs after the people are seeded (the
manager and panel member of ``feedback.demo.accounts``); adds six more panel members so the round has
enough writers for their texts to be shown (n ≥ 5).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit, User
from feedback.demo.progress import Progress, no_progress
from feedback.panel import service as panel
from feedback.panel.models import PanelRound
from feedback.reports import reviews

ROUND_TITLE = "Hösten 2026: Hur var kontakten med oss?"
PROMPTS = [
    "Hur var det att komma i kontakt med din handläggare?",
    "Vad skulle göra störst skillnad för dig framåt?",
]
MEMBERS = (
    ("panel2@demo.uppfoljning.se", "Leila Panelmedlem"),
    ("panel3@demo.uppfoljning.se", "Jonas Panelmedlem"),
    ("panel4@demo.uppfoljning.se", "Amina Panelmedlem"),
    ("panel5@demo.uppfoljning.se", "Per Panelmedlem"),
    ("panel6@demo.uppfoljning.se", "Sara Panelmedlem"),
    ("panel7@demo.uppfoljning.se", "Mehmet Panelmedlem"),
)
# (first prompt, second prompt, importance, consent to quoting) – one row per member
REFLECTIONS = (
    (
        "Jag fick vänta nästan tre veckor på ett beslut och ingen ringde tillbaka när jag lämnade meddelande.",
        "Att få veta hur lång tid handläggningen tar, så att man kan planera.",
        5,
        True,
    ),
    (
        "Telefontiden var bara en timme om dagen och det var alltid upptaget.",
        "Att kunna skicka sms eller boka en tid själv i stället för att ringa.",
        4,
        True,
    ),
    (
        "Jag bytte handläggare tre gånger och fick berätta allt från början varje gång.",
        "Samma handläggare hela vägen, eller att de läser på innan vi träffas.",
        5,
        False,
    ),
    (
        "Min handläggare lyssnade och tog mig på allvar. Det betydde mycket.",
        "Mer hjälp med praktik och kontakt med arbetsgivare.",
        3,
        True,
    ),
    (
        "Breven var svåra att förstå och jag visste inte varför jag fick avslag.",
        "Att någon förklarar beslutet med enkla ord och på mitt språk.",
        4,
        True,
    ),
    (
        "Det tog lång tid att få svar och jag kände mig som ett nummer.",
        "Snabbare besked och att man blir bemött som en person.",
        5,
        True,
    ),
    (
        "Arbetsförmedlingen och kommunen sa olika saker om vad jag skulle göra.",
        "Att alla som hjälper mig sitter med på samma möte.",
        4,
        False,
    ),
)


async def _member(session: AsyncSession, email: str, name: str, unit: Unit) -> User:
    from feedback.demo.accounts import create_demo_user

    user = await session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = await create_demo_user(
            session, email=email, display_name=name, role=Role.PANEL_MEMBER, unit_ids=[unit.id]
        )
    return user


async def seed_panel_and_review(
    session: AsyncSession, settings: Any, progress: Progress = no_progress
) -> list[str]:
    if await session.scalar(sa.select(PanelRound.id).where(PanelRound.title == ROUND_TITLE)):
        return ["Brukarpanel och översyn: finns redan"]
    unit = await session.scalar(sa.select(Unit).where(Unit.code == "fsd"))
    manager_row = await session.scalar(sa.select(User).where(User.email == "chef@demo.uppfoljning.se"))
    first = await session.scalar(sa.select(User).where(User.email == "panel@demo.uppfoljning.se"))
    if unit is None or manager_row is None or first is None:
        return ["Brukarpanel och översyn: demopersonerna saknas, hoppar över"]
    manager = CurrentUser.from_user(manager_row)
    now = datetime.now(UTC)
    today = panel.local_today(now)
    panel_round = await panel.create_round(
        session,
        user=manager,
        unit_id=unit.id,
        title=ROUND_TITLE,
        prompts=PROMPTS,
        opens_on=today - timedelta(days=20),
        closes_on=today + timedelta(days=25),
    )
    members = [first] + [await _member(session, e, n, unit) for e, n in MEMBERS[: len(REFLECTIONS) - 1]]
    for user, (text_a, text_b, importance, consent) in zip(members, REFLECTIONS, strict=True):
        member = CurrentUser.from_user(user)
        for index, text in enumerate((text_a, text_b)):
            await panel.save_reflection(
                session,
                user=member,
                round_id=panel_round.id,
                prompt_index=index,
                text=text,
                importance=importance,
                quote_consent=consent,
                now=now,
                pseudonym_key=settings.index_key,
            )
    await session.flush()
    themed = await _theme_pending(session, settings, now, panel_round.id)

    review = await reviews.create_review(
        session,
        user=manager,
        unit_id=unit.id,
        title="Översyn hösten 2026 – kontakt och väntetider",
        period_from=date(today.year - 1, today.month, 1),
        period_to=today,
        now=now,
    )
    # Clients who said yes to quoting (SMS or phone): up to two of their words back the finding.
    client_quotes = [
        q.id for q in await reviews.quotable(session, review, ["handlaggning"]) if q.channel != "panel"
    ][:2]
    finding_wait = await reviews.add_finding(
        session,
        user=manager,
        review_id=review.id,
        text="Många beskriver långa väntetider på beslut och svårt att nå sin handläggare på telefontiden.",
        theme_keys=["handlaggning"],
        quote_ids=client_quotes,
        now=now,
    )
    finding_letters = await reviews.add_finding(
        session,
        user=manager,
        review_id=review.id,
        text="Beslutsbreven är svåra att förstå, särskilt vid avslag.",
        theme_keys=["information"] if "information" in (await _active(session)) else [],
        quote_ids=[],
        now=now,
    )
    callback = await reviews.add_action(
        session,
        user=manager,
        review_id=review.id,
        title="Vi ringer tillbaka inom två arbetsdagar och har sms-bokning av telefontid",
        owner="Maria Enhetschef",
        due_on=today + timedelta(days=60),
        finding_id=finding_wait.id,
        now=now,
    )
    await reviews.add_action(
        session,
        user=manager,
        review_id=review.id,
        title="Skriva om mallen för beslutsbrev i klarspråk tillsammans med panelen",
        owner="Enhetens klarspråksgrupp",
        due_on=today + timedelta(days=120),
        finding_id=finding_letters.id,
        now=now,
    )
    await reviews.set_status(session, user=manager, action_id=callback.id, status="done")
    await reviews.publish_action(
        session,
        user=manager,
        action_id=callback.id,
        you_said="Det var svårt att nå sin handläggare, och ingen ringde tillbaka.",
        we_did="Nu ringer vi tillbaka inom två arbetsdagar, och du kan boka telefontid med sms.",
        sms_text=None,
        settings=settings,
        now=now,
    )
    return [
        f"Brukarpanel: omgången ”{ROUND_TITLE}” med {len(members)} medlemmars reflektioner ({themed} svar temasatta)",
        "Översyn: ”Översyn hösten 2026 – kontakt och väntetider” med 2 fynd, 2 åtgärder, 1 publicerad (ni sa – vi gjorde)",
    ]


async def _active(session: AsyncSession) -> list[str]:
    from feedback.themes.decisions import current_codebook

    return (await current_codebook(session)).keys


async def _theme_pending(session: AsyncSession, settings: Any, now: datetime, round_id: Any) -> int:
    """Theme this round's reflections now so the demo report and review have them.

    Only these rows: other pending answers are the worker's (and may be many).
    """
    from feedback.panel.models import Reflection
    from feedback.themes import theming
    from surveys.answers.models import OpenText

    refs = [
        panel.source_ref(rid)
        for rid in await session.scalars(sa.select(Reflection.id).where(Reflection.round_id == round_id))
    ]
    rows = list(await session.scalars(sa.select(OpenText).where(OpenText.source_ref.in_(refs))))
    model = await theming.load_or_train_model(settings.model_dir)
    return await theming.theme_rows(session, model, rows, now=now)
