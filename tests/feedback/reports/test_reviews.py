"""Reviews: frozen snapshots, findings with approved quotes, actions, publishing to panel and SMS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from feedback.core.settings import Settings
from feedback.panel.models import PublishedItem
from feedback.reports import reviews
from feedback.reports.models import Finding, Review, ReviewAction
from feedback.themes.models import OpenTextTheme
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from notifications.models import OutboxStatus, SmsOutbox
from notifications.optout import record_opt_out
from notifications.phone import PhoneVault
from surveys.answers.models import OpenText, ThemingStatus
from surveys.answers.service import closure_respondent_key, register_open_text
from surveys.closures.models import Client, Closure
from tests.helpers import form_post, login, make_unit, make_user

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
FROM, TO = date(2026, 1, 1), date(2026, 11, 30)


async def _answer(
    session, unit_id, ref: str, text: str, key: str, consent: bool = False, rkey: str | None = None
):
    row = await register_open_text(
        session,
        channel="sms",
        source_ref=ref,
        unit_id=unit_id,
        respondent_key=rkey or ref,
        text=text,
        received_at=datetime(2026, 6, 1, 12, tzinfo=UTC),
        quote_consent=consent,
        redact=lambda t: t,
    )
    row.status = ThemingStatus.THEMED
    session.add(OpenTextTheme(open_text_id=row.id, theme_key=key))
    await session.flush()
    return row


async def _client(
    session, settings: Settings, unit_id, phone: str, *, consent: bool, answered: bool
) -> Client:
    vault = PhoneVault.from_settings(settings)
    client = Client(
        unit_id=unit_id,
        client_ref=uuid.uuid4().hex[:10],
        phone_ciphertext=vault.encrypt(phone),
        phone_index=vault.blind_index(phone),
        phone_masked=phone[:5] + "*****",
        consent_on=date(2026, 1, 5) if consent else None,
    )
    session.add(client)
    await session.flush()
    closure = Closure(client_id=client.id, unit_id=unit_id, closed_on=date(2026, 2, 1), reason="work")
    session.add(closure)
    await session.flush()
    if answered:
        await _answer(
            session,
            unit_id,
            f"answer:{closure.id}",
            "Bra bemötande",
            "bemotande",
            rkey=closure_respondent_key(settings.secret_key, closure.id),
        )
    return client


async def test_snapshot_is_frozen_and_publishing_reaches_panel_and_consenting_respondents(
    db_session: AsyncSession, settings: Settings
) -> None:
    unit = await make_unit(db_session, name="Norra")
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [unit]))
    for i in range(6):
        await _answer(db_session, unit.id, f"a{i}", f"Lång väntan på beslut {i}", "handlaggning")
    quote = await _answer(
        db_session, unit.id, "q1", "Handläggaren ringde aldrig tillbaka", "handlaggning", True
    )
    secret = await _answer(db_session, unit.id, "q2", "Inget samtycke här", "handlaggning", False)
    yes = await _client(db_session, settings, unit.id, "+46701234567", consent=True, answered=True)
    await _client(db_session, settings, unit.id, "+46701234568", consent=False, answered=True)
    await _client(db_session, settings, unit.id, "+46701234569", consent=True, answered=False)
    stopped = await _client(db_session, settings, unit.id, "+46701234560", consent=True, answered=True)
    await record_opt_out(db_session, stopped.phone_index, source="keyword", at=NOW)
    for i in range(3):  # bemotande reaches 6 people, so no cell needs suppression
        await _answer(db_session, unit.id, f"b{i}", "Trevligt bemötande", "bemotande")
    await db_session.commit()

    review = await reviews.create_review(
        db_session,
        user=manager,
        unit_id=unit.id,
        title="Översyn 2026",
        period_from=FROM,
        period_to=TO,
        now=NOW,
    )
    await db_session.commit()
    themes = {t["key"]: t["respondents"] for t in review.snapshot["themes"]}
    assert themes["handlaggning"] == 8 and themes["bemotande"] == 6
    frozen, review_id = dict(review.snapshot), review.id
    # later answers and a merge do not change the saved snapshot
    for i in range(6):
        await _answer(db_session, unit.id, f"later{i}", "Ännu mer väntan", "handlaggning")
    await db_session.commit()
    await db_session.refresh(review)
    again = await db_session.get(Review, review_id)
    assert again.snapshot == frozen and reviews.snapshot_digest(again.snapshot) == again.snapshot_sha256

    with pytest.raises(InvalidInput):  # a quote without consent is not approved
        await reviews.add_finding(
            db_session,
            user=manager,
            review_id=review.id,
            text="x",
            theme_keys=[],
            quote_ids=[secret.id],
            now=NOW,
        )
    finding = await reviews.add_finding(
        db_session,
        user=manager,
        review_id=review.id,
        text="Många väntar länge på beslut.",
        theme_keys=["handlaggning"],
        quote_ids=[quote.id],
        now=NOW,
    )
    assert finding.quotes == [{"open_text_id": str(quote.id), "text": "Handläggaren ringde aldrig tillbaka"}]
    action = await reviews.add_action(
        db_session,
        user=manager,
        review_id=review.id,
        title="Beslut inom tio dagar",
        owner="Maria",
        due_on=date(2027, 3, 1),
        finding_id=finding.id,
        now=NOW,
    )
    with pytest.raises(InvalidInput):  # the SMS must not reveal the kind of support
        await reviews.publish_action(
            db_session,
            user=manager,
            action_id=action.id,
            you_said="Lång väntan",
            we_did="Snabbare beslut",
            sms_text="Om ditt försörjningsstöd: vi är snabbare nu.",
            settings=settings,
            now=NOW,
        )
    item = await reviews.publish_action(
        db_session,
        user=manager,
        action_id=action.id,
        you_said="Det tar för lång tid att få beslut.",
        we_did="Nu får alla beslut inom tio dagar.",
        sms_text="Tack för dina svar! Nu får du besked inom tio dagar.",
        settings=settings,
        now=NOW,
    )
    await db_session.commit()
    assert item.unit_id == unit.id and item.action_id == action.id
    rows = list(await db_session.scalars(sa.select(SmsOutbox)))
    # consenting respondents only: the one who never answered and the one without consent get nothing
    assert len(rows) == 2 and action.sms_queued == 2
    by_status = sorted(r.status for r in rows)
    assert by_status == sorted([OutboxStatus.QUEUED, OutboxStatus.SKIPPED])  # STOPP is respected
    assert all(r.idempotency_key.startswith(f"review-action:{action.id}:client:") for r in rows)
    assert any(r.idempotency_key.endswith(str(yes.id)) for r in rows)
    with pytest.raises(Conflict):
        await reviews.publish_action(
            db_session,
            user=manager,
            action_id=action.id,
            you_said="a",
            we_did="b",
            sms_text=None,
            settings=settings,
            now=NOW,
        )


async def test_manager_of_another_unit_sees_nothing(db_session: AsyncSession) -> None:
    a = await make_unit(db_session, name="A")
    b = await make_unit(db_session, name="B")
    manager_a = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [a]))
    manager_b = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [b]))
    review = await reviews.create_review(
        db_session, user=manager_a, unit_id=a.id, title="A", period_from=FROM, period_to=TO, now=NOW
    )
    await db_session.commit()
    assert await reviews.reviews_for(db_session, manager_b) == []
    with pytest.raises(NotFound):
        await reviews.get_review(db_session, user=manager_b, review_id=review.id)
    with pytest.raises(Forbidden):
        await reviews.create_review(
            db_session, user=manager_b, unit_id=a.id, title="B", period_from=FROM, period_to=TO, now=NOW
        )


# ---------------------------------------------------------------- through the web app
@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


async def test_review_pages_publish_to_the_panel_and_enforce_scope(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session, name="Norra")
    other = await make_unit(db_session, name="Södra")
    manager = await make_user(db_session, Role.MANAGER, [unit])
    other_manager = await make_user(db_session, Role.MANAGER, [other])
    member = await make_user(db_session, Role.PANEL_MEMBER, [unit])
    caseworker = await make_user(db_session, Role.CASEWORKER, [unit])

    await login(client, manager)
    r = await form_post(
        client,
        "/reviews/",
        {"unit_id": str(unit.id), "title": "", "period_from": "2026-01-01", "period_to": "x"},
    )
    assert r.status_code == 400 and ("ÅÅÅÅ-MM-DD" in r.text or "rubrik" in r.text)
    r = await form_post(
        client,
        "/reviews/",
        {
            "unit_id": str(unit.id),
            "title": "Höstens översyn",
            "period_from": "2026-01-01",
            "period_to": "2026-11-30",
        },
    )
    assert r.status_code == 200 and "Höstens översyn" in r.text
    review_id = await db_session.scalar(sa.select(Review.id))
    r = await form_post(
        client,
        f"/reviews/{review_id}/findings",
        {"text": "Väntan är ett problem", "theme_keys": "handlaggning"},
    )
    assert r.status_code == 200 and "Väntan är ett problem" in r.text
    r = await form_post(client, f"/reviews/{review_id}/actions", {"title": "", "owner": "Maria"})
    assert r.status_code == 400 and "Skriv vad som ska göras" in r.text
    r = await form_post(
        client,
        f"/reviews/{review_id}/actions",
        {"title": "Ring tillbaka inom två dagar", "owner": "Maria", "due_on": "2027-01-31"},
    )
    assert r.status_code == 200 and "Ring tillbaka inom två dagar" in r.text
    action_id = await db_session.scalar(sa.select(ReviewAction.id))
    r = await form_post(client, f"/reviews/actions/{action_id}/status", {"status": "ongoing"})
    assert r.status_code == 200
    texts = {"you_said": "Det var svårt att nå oss.", "we_did": "Nu ringer vi tillbaka inom två dagar."}
    # publishing cannot be undone: the first post only shows what will happen and asks to confirm
    r = await form_post(client, f"/reviews/actions/{action_id}/publish", texts)
    assert r.status_code == 200 and "Bekräfta att du vill publicera" in r.text
    assert "Vi arbetar med:</strong> Nu ringer vi tillbaka inom två dagar." in r.text  # still "pågår"
    assert 'name="bekrafta" value="ja"' in r.text and "Inget sms skickas" in r.text
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(PublishedItem)) == 0
    r = await form_post(client, f"/reviews/actions/{action_id}/publish", {**texts, "bekrafta": "ja"})
    assert r.status_code == 200 and "publicerad" in r.text
    assert "som ”Vi arbetar med”" in r.text
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(PublishedItem)) == 1
    # a second confirm (back button, double click) publishes nothing more: 409 with a message
    r = await form_post(client, f"/reviews/actions/{action_id}/publish", {**texts, "bekrafta": "ja"})
    assert r.status_code == 409 and "redan publicerad" in r.text
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(PublishedItem)) == 1

    for user, status in ((other_manager, 404), (caseworker, 403), (member, 403)):
        client.cookies.clear()
        await login(client, user)
        assert (await client.get(f"/reviews/{review_id}")).status_code == status
        assert (await client.get("/reviews/")).status_code == (200 if user is other_manager else 403)
        if user is other_manager:
            assert "Höstens översyn" not in (await client.get("/reviews/")).text
    client.cookies.clear()
    await login(client, member)
    home = await client.get("/panel/")
    assert "Nu ringer vi tillbaka inom två dagar." in home.text
    assert "Vi arbetar med:</strong> Nu ringer vi" in home.text and "Vi gjorde:" not in home.text
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(OpenText)) == 0


PERSONAL_TEXT = (
    "Klienten Anna Berg (811218_9876) ringde 070-123 45 67, mejl anna.berg@example.se, "
    "bor på Storgatan 12, 123 45 Småstad."
)


async def test_finding_text_is_stored_redacted(db_session: AsyncSession) -> None:
    """Issue 20: review_finding.text kept names, numbers, addresses and personnummer."""
    unit = await make_unit(db_session, name="Södra")
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [unit]))
    review = await reviews.create_review(
        db_session, user=manager, unit_id=unit.id, title="Översyn", period_from=FROM, period_to=TO, now=NOW
    )
    finding = await reviews.add_finding(
        db_session,
        user=manager,
        review_id=review.id,
        text=PERSONAL_TEXT,
        theme_keys=[],
        quote_ids=[],
        now=NOW,
    )
    await db_session.commit()
    stored = await db_session.scalar(sa.select(Finding.text).where(Finding.id == finding.id))
    assert stored is not None
    for secret in ("Anna", "Berg", "811218", "9876", "070", "example.se", "Storgatan", "Småstad"):
        assert secret not in stored, (secret, stored)
    for placeholder in ("[NAMN]", "[PERSONNUMMER]", "[TELEFON]", "[E-POST]", "[ADRESS]"):
        assert placeholder in stored, (placeholder, stored)
