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
from feedback.core.models import AuditEvent
from feedback.core.settings import Settings
from feedback.panel.models import PublishedItem
from feedback.panel.service import local_today
from feedback.reports import reviews
from feedback.reports.models import ActionStatus, Finding, Review, ReviewAction
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
    # the panel marks the unit's own words as Swedish (the member may have chosen another language)
    assert 'Vi arbetar med:</strong> <span lang="sv" dir="ltr">Nu ringer vi' in home.text
    assert "Vi gjorde:" not in home.text
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


# ---------------------------------------------------------------- editing, "vi gjorde", overdue
async def _review_with_action(db_session: AsyncSession, unit_name: str = "Västra"):
    unit = await make_unit(db_session, name=unit_name)
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [unit]))
    review = await reviews.create_review(
        db_session, user=manager, unit_id=unit.id, title="Översyn", period_from=FROM, period_to=TO, now=NOW
    )
    finding = await reviews.add_finding(
        db_session,
        user=manager,
        review_id=review.id,
        text="Svårt att nå handläggaren.",
        theme_keys=["handlaggning"],
        quote_ids=[],
        now=NOW,
    )
    action = await reviews.add_action(
        db_session,
        user=manager,
        review_id=review.id,
        title="Telefontid varje dag",
        owner="Maria",
        due_on=date(2026, 12, 1),
        finding_id=finding.id,
        now=NOW,
    )
    await db_session.commit()
    return unit, manager, review, finding, action


async def _audit(db_session: AsyncSession, action: str) -> list[AuditEvent]:
    return list(
        await db_session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


async def test_editing_a_finding_checks_like_adding_redacts_and_is_audited(db_session: AsyncSession) -> None:
    unit, manager, _review, finding, _ = await _review_with_action(db_session)
    consented = await _answer(db_session, unit.id, "c1", "Ingen ringde tillbaka", "handlaggning", True)
    refused = await _answer(db_session, unit.id, "c2", "Inget samtycke", "handlaggning", False)
    await db_session.commit()
    consented_id, refused_id, finding_id = consented.id, refused.id, finding.id  # survive the rollback
    later = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    base = {"user": manager, "finding_id": finding_id, "now": later}

    refusals = [
        ({"text": "  ", "theme_keys": [], "quote_ids": []}, "text"),
        ({"text": "x", "theme_keys": ["finns_inte"], "quote_ids": []}, "theme_keys"),
        ({"text": "x", "theme_keys": [], "quote_ids": [refused_id]}, "quote_ids"),
        ({"text": "x" * 4001, "theme_keys": [], "quote_ids": []}, "text"),
    ]
    for fields, field in refusals:
        with pytest.raises(InvalidInput) as caught:
            await reviews.update_finding(db_session, **base, **fields)
        assert caught.value.field == field
    await db_session.rollback()
    await db_session.refresh(unit)

    updated = await reviews.update_finding(
        db_session,
        **base,
        text="Anna Berg på 070-123 45 67 kom inte fram.",
        theme_keys=["bemotande", "bemotande"],
        quote_ids=[consented_id],
    )
    await db_session.commit()
    stored = await db_session.get(Finding, finding_id)
    assert stored is not None and stored is updated
    assert "Anna" not in stored.text and "[NAMN]" in stored.text and "[TELEFON]" in stored.text
    assert stored.theme_keys == ["bemotande"]
    assert stored.quotes == [{"open_text_id": str(consented_id), "text": "Ingen ringde tillbaka"}]
    assert stored.updated_at is not None and stored.updated_at == later
    events = await _audit(db_session, "review.finding.update")
    assert len(events) == 1 and events[0].actor_id == manager.id and events[0].subject_id == str(finding_id)
    assert sorted(events[0].detail["changed"]) == ["quotes", "text", "theme_keys"]
    assert "Anna" not in str(events[0].detail)  # ids and field names, never the text

    # saving the same content again changes nothing and audits nothing
    await reviews.update_finding(
        db_session, **base, text=stored.text, theme_keys=["bemotande"], quote_ids=[consented_id]
    )
    await db_session.commit()
    assert len(await _audit(db_session, "review.finding.update")) == 1

    other_unit = await make_unit(db_session, name="Annan")
    other = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [other_unit]))
    with pytest.raises(NotFound):
        await reviews.update_finding(
            db_session, user=other, finding_id=finding_id, text="x", theme_keys=[], quote_ids=[], now=later
        )
    caseworker = CurrentUser.from_user(await make_user(db_session, Role.CASEWORKER, [unit]))
    with pytest.raises(Forbidden):
        await reviews.update_finding(
            db_session,
            user=caseworker,
            finding_id=finding.id,
            text="x",
            theme_keys=[],
            quote_ids=[],
            now=later,
        )


async def test_editing_an_action_checks_like_adding_and_is_audited(db_session: AsyncSession) -> None:
    unit, manager, review, finding, action = await _review_with_action(db_session)
    _, _, other_review, other_finding, _ = await _review_with_action(db_session, "Östra")
    action_id, other_finding_id, review_id = action.id, other_finding.id, review.id  # survive rollbacks
    later = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    ok = {"title": "Telefontid", "owner": "Maria", "due_on": None, "finding_id": None, "status": "planned"}
    refusals = [
        ({"title": " "}, "title"),
        ({"owner": ""}, "owner"),
        ({"title": "x" * 301}, "title"),
        ({"finding_id": other_finding_id}, "finding_id"),  # a finding of another review
        ({"finding_id": uuid.uuid4()}, "finding_id"),
        ({"status": "kanske"}, "status"),
    ]
    for change, field in refusals:
        with pytest.raises(InvalidInput) as caught:
            await reviews.update_action(
                db_session, user=manager, action_id=action_id, now=later, **{**ok, **change}
            )
        assert caught.value.field == field
    await db_session.rollback()

    await reviews.update_action(
        db_session,
        user=manager,
        action_id=action_id,
        title="Telefontid varje vardag",
        owner="Ahmed",
        due_on=date(2027, 1, 15),
        finding_id=None,
        status="ongoing",
        now=later,
    )
    await db_session.commit()
    stored = await db_session.get(ReviewAction, action_id)
    assert stored is not None
    assert (stored.title, stored.owner, stored.due_on, stored.finding_id, stored.status) == (
        "Telefontid varje vardag",
        "Ahmed",
        date(2027, 1, 15),
        None,
        ActionStatus.ONGOING,
    )
    assert stored.updated_at == later and stored.published_item_id is None
    [event] = await _audit(db_session, "review.action.update")
    assert sorted(event.detail["changed"]) == ["due_on", "finding_id", "owner", "status", "title"]
    assert event.detail["review_id"] == str(review_id) and event.actor_id == manager.id
    del other_review, unit, finding


async def test_only_klar_actions_say_vi_gjorde_and_the_panel_item_follows_the_status(
    db_session: AsyncSession, settings: Settings
) -> None:
    unit, manager, review, _, action = await _review_with_action(db_session)
    published_at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    await reviews.set_status(db_session, user=manager, action_id=action.id, status="ongoing", now=NOW)
    # an SMS about unfinished work may not say it is done
    for claim in (
        "Nu har vi ändrat telefontiderna.",
        "Vi gjorde om telefontiden.",
        "Vi har infört telefontid.",
    ):
        with pytest.raises(InvalidInput) as caught:
            await reviews.prepare_publication(
                db_session,
                user=manager,
                action_id=action.id,
                you_said="Svårt att nå er",
                we_did="Telefontid",
                sms_text=claim,
                settings=settings,
            )
        assert caught.value.field == "sms_text"
    plan = await reviews.prepare_publication(
        db_session,
        user=manager,
        action_id=action.id,
        you_said="Svårt att nå er",
        we_did="Telefontid varje dag",
        sms_text=reviews.default_sms_text(action),
        settings=settings,
    )
    assert plan.label == "Vi arbetar med" and "Nu arbetar vi med" in (plan.sms_text or "")
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(PublishedItem)) == 0  # no write

    item = await reviews.publish_action(
        db_session,
        user=manager,
        action_id=action.id,
        you_said="Svårt att nå er",
        we_did="Telefontid varje dag",
        sms_text=None,
        settings=settings,
        now=published_at,
    )
    await db_session.commit()
    assert item.done is False
    [published] = await _audit(db_session, "review.action.publish")
    assert published.detail["done"] is False

    await reviews.set_status(db_session, user=manager, action_id=action.id, status="done", now=NOW)
    await db_session.commit()
    await db_session.refresh(item)
    assert item.done is True
    assert [e.detail["status"] for e in await _audit(db_session, "review.action.status")] == [
        "ongoing",
        "done",
    ]

    # edited back to "pågår" after publication: the panel says "Vi arbetar med" again
    later = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    await reviews.update_action(
        db_session,
        user=manager,
        action_id=action.id,
        title=action.title,
        owner=action.owner,
        due_on=action.due_on,
        finding_id=action.finding_id,
        status="ongoing",
        now=later,
        you_said="Svårt att nå er på telefon",
        we_did="Telefontid varje vardag 9–11",
    )
    await db_session.commit()
    await db_session.refresh(item)
    assert (item.done, item.you_said, item.we_did, item.updated_at) == (
        False,
        "Svårt att nå er på telefon",
        "Telefontid varje vardag 9–11",
        later,
    )
    with pytest.raises(InvalidInput) as caught:  # the published texts keep the publish rules
        await reviews.update_action(
            db_session,
            user=manager,
            action_id=action.id,
            title=action.title,
            owner=action.owner,
            due_on=None,
            finding_id=None,
            status="done",
            now=later,
            we_did=" ",
        )
    assert caught.value.field == "we_did"
    await db_session.rollback()
    await db_session.refresh(action)
    # the done action's default SMS may say so
    await reviews.set_status(db_session, user=manager, action_id=action.id, status="done", now=NOW)
    assert "Nu har vi ändrat" in reviews.default_sms_text(action)
    assert reviews._check_sms(reviews.default_sms_text(action), done=True)
    del unit, review


async def test_overdue_is_by_the_swedish_day_and_ignores_klar(db_session: AsyncSession) -> None:
    unit, manager, review, _, action = await _review_with_action(db_session)  # due 2026-12-01
    # 2026-12-01 23:30 UTC is already 2 December in Stockholm: the due day has passed
    late_evening = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert reviews.is_overdue(action, date(2026, 12, 1)) is False  # due today is not overdue
    assert reviews.is_overdue(action, local_today(late_evening)) is True
    assert await reviews.overdue_counts(db_session, [review.id], date(2026, 12, 1)) == {}
    assert await reviews.overdue_counts(db_session, [review.id], date(2026, 12, 2)) == {review.id: 1}
    await reviews.set_status(db_session, user=manager, action_id=action.id, status="done")
    await db_session.commit()
    assert reviews.is_overdue(action, date(2027, 6, 1)) is False
    assert await reviews.overdue_counts(db_session, [review.id], date(2027, 6, 1)) == {}
    del unit


async def test_edit_pages_overdue_flags_and_pdf_through_the_web_app(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session, name="Norra")
    other = await make_unit(db_session, name="Södra")
    manager = await make_user(db_session, Role.MANAGER, [unit])
    other_manager = await make_user(db_session, Role.MANAGER, [other])
    caseworker = await make_user(db_session, Role.CASEWORKER, [unit])
    me = CurrentUser.from_user(manager)
    review = await reviews.create_review(
        db_session, user=me, unit_id=unit.id, title="Höstens översyn", period_from=FROM, period_to=TO, now=NOW
    )
    finding = await reviews.add_finding(
        db_session,
        user=me,
        review_id=review.id,
        text="Många väntar på återkoppling.",
        theme_keys=[],
        quote_ids=[],
        now=NOW,
    )
    late = await reviews.add_action(  # due before the app clock's day (2026-11-22): overdue
        db_session,
        user=me,
        review_id=review.id,
        title="Ring tillbaka inom två dagar",
        owner="Maria",
        due_on=date(2026, 11, 1),
        finding_id=None,
        now=NOW,
    )
    await reviews.add_action(  # due on the clock's day: not yet overdue
        db_session,
        user=me,
        review_id=review.id,
        title="Boka telefontid med sms",
        owner="Ahmed",
        due_on=date(2026, 11, 22),
        finding_id=None,
        now=NOW,
    )
    await db_session.commit()
    review_id, finding_id, late_id = review.id, finding.id, late.id

    await login(client, manager)
    listing = await client.get("/reviews/")
    assert listing.status_code == 200 and "1 försenad" in listing.text
    page = await client.get(f"/reviews/{review_id}")
    assert page.text.count('<span class="tag late">Försenad</span>') == 1
    assert "1 åtgärd är försenad" in page.text
    row = page.text[page.text.index(f'id="atgard-{late_id}"') :][:600]
    assert "Försenad" in row

    # the PDF and its printable page carry the findings and actions, overdue flag included
    printable = await client.get(f"/reviews/{review_id}/utskrift")
    assert printable.status_code == 200
    for text in (
        "Många väntar på återkoppling.",
        "Ring tillbaka inom två dagar",
        "Boka telefontid",
        "Försenad",
    ):
        assert text in printable.text
    pdf = await client.get(f"/reviews/{review_id}/oversyn.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"].startswith("application/pdf")
    assert pdf.content.startswith(b"%PDF")
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf.content)
    text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    document.close()
    flat = " ".join(text.split())
    for expected in (
        "Höstens översyn",
        "Många väntar på återkoppling.",
        "Ring tillbaka inom två dagar",
        "Försenad",
    ):
        assert expected in flat, (expected, flat)

    # editing a finding: errors next to the field, 4xx never 500, then saved with "uppdaterad"
    edit = await client.get(f"/reviews/findings/{finding_id}/andra")
    assert edit.status_code == 200 and "Många väntar på återkoppling." in edit.text
    r = await form_post(client, f"/reviews/findings/{finding_id}", {"text": " "})
    assert r.status_code == 400 and "Skriv vad ni kom fram till." in r.text
    assert 'aria-invalid="true"' in r.text
    r = await form_post(client, f"/reviews/findings/{finding_id}", {"text": "x", "quote_ids": "inte-ett-id"})
    assert r.status_code == 400 and "Välj ett giltigt alternativ." in r.text
    r = await form_post(
        client,
        f"/reviews/findings/{finding_id}",
        {"text": "Många väntar på återkoppling efter besöket.", "theme_keys": "handlaggning"},
    )
    assert r.status_code == 200 and "Ändringen av fyndet är sparad." in r.text
    assert "Många väntar på återkoppling efter besöket." in r.text and "Uppdaterad 2026-11-22" in r.text

    # editing an action: same checks as adding; klar clears the overdue flag
    edit = await client.get(f"/reviews/actions/{late_id}/andra")
    assert edit.status_code == 200 and 'value="Ring tillbaka inom två dagar"' in edit.text
    fields = {
        "title": "Ring tillbaka inom en dag",
        "owner": "Maria",
        "due_on": "2026-11-01",
        "status": "done",
    }
    r = await form_post(client, f"/reviews/actions/{late_id}", {**fields, "due_on": "1 nov"})
    assert r.status_code == 400 and "ÅÅÅÅ-MM-DD" in r.text and 'value="1 nov"' in r.text
    r = await form_post(client, f"/reviews/actions/{late_id}", {**fields, "status": "kanske"})
    assert r.status_code == 400 and "Välj en status ur listan." in r.text
    r = await form_post(client, f"/reviews/actions/{late_id}", {**fields, "owner": ""})
    assert r.status_code == 400 and "Skriv vem som är ansvarig." in r.text
    r = await form_post(client, f"/reviews/actions/{late_id}", fields)
    assert r.status_code == 200 and "Ändringen av åtgärden är sparad." in r.text
    assert "Ring tillbaka inom en dag" in r.text and "Försenad" not in r.text
    assert "Inga" in (await client.get("/reviews/")).text.split('id="review-list"')[1]
    stored = await db_session.get(ReviewAction, late_id, populate_existing=True)
    assert stored is not None and stored.status is ActionStatus.DONE
    # no CSRF token: refused, nothing changed
    r = await client.post(f"/reviews/actions/{late_id}", data={**fields, "title": "Utan token"})
    assert r.status_code == 403

    for user, status in ((other_manager, 404), (caseworker, 403)):
        client.cookies.clear()
        await login(client, user)
        assert (await client.get(f"/reviews/findings/{finding_id}/andra")).status_code == status
        assert (await client.get(f"/reviews/actions/{late_id}/andra")).status_code == status
        assert (await client.get(f"/reviews/{review_id}/oversyn.pdf")).status_code == status
        assert (await client.get(f"/reviews/{review_id}/utskrift")).status_code == status
        r = await form_post(client, f"/reviews/findings/{finding_id}", {"text": "Kapat"})
        assert r.status_code == status
        r = await form_post(client, f"/reviews/actions/{late_id}", {**fields, "title": "Kapat"})
        assert r.status_code == status
    await db_session.refresh(stored)
    assert stored.title == "Ring tillbaka inom en dag"
    assert await db_session.scalar(sa.select(Finding.text).where(Finding.id == finding_id)) == (
        "Många väntar på återkoppling efter besöket."
    )


async def test_a_quote_whose_consent_is_gone_cannot_be_kept_by_editing(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session, name="Norra")
    manager = await make_user(db_session, Role.MANAGER, [unit])
    me = CurrentUser.from_user(manager)
    quote = await _answer(db_session, unit.id, "q9", "Ingen svarade i telefon", "handlaggning", True)
    review = await reviews.create_review(
        db_session, user=me, unit_id=unit.id, title="Översyn", period_from=FROM, period_to=TO, now=NOW
    )
    finding = await reviews.add_finding(
        db_session,
        user=me,
        review_id=review.id,
        text="Svårt att nå oss.",
        theme_keys=[],
        quote_ids=[quote.id],
        now=NOW,
    )
    quote.quote_consent = False  # the writer withdrew consent to being quoted
    await db_session.commit()
    finding_id, quote_id = finding.id, quote.id

    await login(client, manager)
    page = await client.get(f"/reviews/findings/{finding_id}/andra")
    assert page.status_code == 200 and 'id="lost-quotes"' in page.text
    assert f'value="{quote_id}"' not in page.text  # no longer offered
    r = await form_post(
        client, f"/reviews/findings/{finding_id}", {"text": "Svårt att nå oss.", "quote_ids": str(quote_id)}
    )
    assert r.status_code == 400 and "Bara godkända citat" in r.text
    r = await form_post(client, f"/reviews/findings/{finding_id}", {"text": "Svårt att nå oss."})
    assert r.status_code == 200 and "Ingen svarade i telefon" not in r.text
    assert await db_session.scalar(sa.select(Finding.quotes).where(Finding.id == finding_id)) == []
