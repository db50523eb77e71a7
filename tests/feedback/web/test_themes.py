"""Theme management pages through the real app: decisions by form, scope, roles, bad input."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.db import create_engine, session_factory
from feedback.core.models import AuditEvent
from feedback.core.settings import Settings
from feedback.themes import decisions, pool, retraining
from feedback.themes.jobs import ThemingJob
from feedback.themes.models import CodebookEventRow, OpenTextTheme, RetrainRequest, RetrainStatus
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from nlp import themes as nlp_themes
from surveys.answers.models import OpenText, ThemingStatus
from surveys.answers.service import register_open_text
from tests.helpers import form_post, login, make_unit, make_user

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


async def _themed(session: AsyncSession, unit_id, text: str, key: str, ref: str) -> OpenText:
    row = await register_open_text(
        session,
        channel="sms",
        source_ref=ref,
        unit_id=unit_id,
        respondent_key=ref,
        text=text,
        received_at=NOW,
        redact=lambda t: t,
    )
    row.status = ThemingStatus.THEMED
    session.add(OpenTextTheme(open_text_id=row.id, theme_key=key))
    await session.commit()
    return row


async def test_manager_renames_merges_and_moves_by_form(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session, name="Norra")
    other = await make_unit(db_session, name="Södra")
    manager = await make_user(db_session, Role.MANAGER, [unit])
    mine = await _themed(db_session, unit.id, "Det tog tre veckor att få beslut", "handlaggning", "a1")
    theirs = await _themed(db_session, other.id, "Hemlig text från Södra", "handlaggning", "b1")
    await login(client, manager)

    page = await client.get("/themes/")
    assert page.status_code == 200 and "Handläggning" in page.text
    detail = await client.get("/themes/t/handlaggning")
    assert "tre veckor" in detail.text and "Hemlig text" not in detail.text  # unit scope
    assert (
        await db_session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "open_text.read")
        )
        == 1
    )

    r = await form_post(client, "/themes/t/bemotande/rename", {"label_sv": "Bemötande och respekt"})
    assert r.status_code == 200 and "Bemötande och respekt" in r.text
    # merge: where it applies is the manager's choice, shown on a confirmation page first
    r = await form_post(client, "/themes/t/handlaggning/merge", {"into": "bemotande"})
    assert r.status_code == 400 and "alla enheter eller bara dina enheter" in r.text
    r = await form_post(client, "/themes/t/handlaggning/merge", {"into": "bemotande", "scope": "all"})
    assert r.status_code == 200
    assert "Slå ihop ”Handläggning och tillgänglighet” med ”Bemötande och respekt”?" in r.text
    assert "alla enheter" in r.text and "2 svar från" in r.text  # both units' answers
    assert "färre än 5" in r.text  # few people are not counted out
    assert "handlaggning" in (await decisions.current_codebook(db_session)).keys  # nothing yet
    r = await form_post(
        client, "/themes/t/handlaggning/merge", {"into": "bemotande", "scope": "all", "bekrafta": "ja"}
    )
    assert r.status_code == 200 and "sammanslagna" in r.text and "Ångra ändringen" in r.text
    assert {
        k
        for k in await db_session.scalars(
            sa.select(OpenTextTheme.theme_key).where(OpenTextTheme.open_text_id == mine.id)
        )
    } == {"bemotande"}
    r = await form_post(
        client, f"/themes/answers/{mine.id}/move", {"from_key": "bemotande", "to_key": "halsa"}
    )
    assert r.status_code == 200 and "flyttat" in r.text
    # another unit's answer cannot be moved
    r = await form_post(
        client, f"/themes/answers/{theirs.id}/move", {"from_key": "bemotande", "to_key": "halsa"}
    )
    assert r.status_code == 404
    # bad input: Swedish message, 400, nothing stored
    before = await db_session.scalar(sa.select(sa.func.count()).select_from(CodebookEventRow))
    r = await form_post(client, "/themes/t/halsa/merge", {"into": "halsa", "scope": "mine"})
    assert r.status_code == 400 and "Välj ett annat aktivt tema" in r.text
    r = await form_post(client, "/themes/create", {"label_sv": ""})
    assert r.status_code == 400 and "Skriv ett namn" in r.text
    r = await form_post(
        client, "/themes/t/halsa/split", {"label_a": "Fysisk hälsa", "label_b": "fysisk hälsa"}
    )
    assert r.status_code == 400
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(CodebookEventRow)) == before
    r = await form_post(client, "/themes/create", {"label_sv": "Busskort och resor"})
    assert r.status_code == 200 and "Busskort och resor" in r.text
    codebook = await decisions.current_codebook(db_session)
    assert codebook.label("bemotande") == "Bemötande och respekt" and "busskort_och_resor" in codebook.keys


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.PANEL_MEMBER])
async def test_caseworker_and_panel_member_get_403(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, role: Role
) -> None:
    unit = await make_unit(db_session)
    await login(client, await make_user(db_session, role, [unit]))
    assert (await client.get("/themes/")).status_code == 403
    r = await form_post(client, "/themes/t/halsa/retire", {})
    assert r.status_code == 403
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(CodebookEventRow)) == 0


def _no_training(*args: object, **kwargs: object) -> None:
    raise AssertionError("a model was trained inside the web request")


async def test_retrain_only_records_a_request_and_the_page_shows_its_progress(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings, monkeypatch
) -> None:
    monkeypatch.setattr(pool, "ensure_model", _no_training)
    monkeypatch.setattr(pool, "train_candidate", _no_training)
    monkeypatch.setattr(nlp_themes, "train", _no_training)
    unit = await make_unit(db_session, name="Norra")
    manager = await make_user(db_session, Role.MANAGER, [unit])
    await login(client, manager)
    assert "Senaste omträningen" not in (await client.get("/themes/")).text

    r = await form_post(client, "/themes/retrain", {}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/themes/?klart=omtraning#tran-om"
    page = (await client.get(r.headers["location"])).text
    assert "Förhandsvisningen är beställd" in page and "Inget ändras förrän du har bekräftat" in page
    assert "Förhandsvisningen väntar på att starta. Den beställdes 2026-11-22 11:00." in page  # Stockholm
    # reload by link, no JavaScript: a fresh address each time, so the browser really reloads
    assert re.search(r'href="/themes/\?lage=[0-9a-f]{8}#tran-om">Visa hur långt', page)
    again = await form_post(client, "/themes/retrain", {})
    assert again.status_code == 200 and "En omträning pågår redan" in again.text
    (request,) = list(await db_session.scalars(sa.select(RetrainRequest)))
    assert request.status == RetrainStatus.PENDING and request.requested_by_id == manager.id
    assert not settings.model_dir.exists() or not any(settings.model_dir.iterdir())

    async def shown(**values: object) -> str:
        await db_session.execute(sa.update(RetrainRequest).values(**values))
        await db_session.commit()
        return (await client.get("/themes/")).text

    text = await shown(status=RetrainStatus.TRAINING, started_at=NOW)
    assert "Tränar en ny modell och jämför med dagens teman. Det började 2026-11-22 11:00." in text
    text = await shown(status=RetrainStatus.THEMING, themed=120, total=480)
    assert "Sorterar svaren i teman igen: 120 av 480 svar klara." in text
    text = await shown(
        status=RetrainStatus.DONE, themed=480, finished_at=NOW, open_slot=None, model_version="m-1"
    )
    assert "Klar 2026-11-22 11:00. Modellversion <code>m-1</code> används nu." in text
    assert "Visa hur långt" not in text
    text = await shown(status=RetrainStatus.FAILED, error=retraining.FAILED_TRAINING_SV)
    assert "Misslyckades: modellen gick inte att träna." in text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_retrain_click_then_a_worker_tick_rethemes_the_answers(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    unit = await make_unit(db_session, name="Norra")
    manager = await make_user(db_session, Role.MANAGER, [unit])
    rows = [
        await _themed(db_session, unit.id, text, "annat", f"r{i}")
        for i, text in enumerate(["Det tog tre veckor att få beslut", "Jobbcoachen hjälpte mig med CV"])
    ]
    await login(client, manager)
    await form_post(client, "/themes/retrain", {})

    engine = create_engine(settings.database_url)
    executor = ThreadPoolExecutor(1)
    pool.init(str(settings.model_dir))
    job = ThemingJob(settings, session_factory(engine), executor=executor, now=lambda: NOW)
    try:
        await job.tick()  # the worker: trains a candidate and stores the preview, changes nothing
        page = (await client.get("/themes/")).text
        assert "Förhandsvisningen är klar. Inget har ändrats ännu." in page
        (request,) = list(await db_session.scalars(sa.select(RetrainRequest)))
        changed = request.preview["changed"]
        assert changed >= 1  # "annat" on both: the model finds handläggning and stöd till arbete
        assert f"{changed} svar får andra teman" in page
        assert "Det tog tre veckor att få beslut" in page  # an example, redacted text
        keys = set(
            await db_session.scalars(
                sa.select(OpenTextTheme.theme_key).where(OpenTextTheme.open_text_id == rows[0].id)
            )
        )
        assert keys == {"annat"}  # not applied before the confirmation
        r = await form_post(client, f"/themes/retrain/{request.id}/confirm", {})
        assert r.status_code == 200 and "Omträningen är bekräftad" in r.text
        await job.tick()  # applies: the candidate becomes current, the answers are re-themed
        await job.tick()
    finally:
        executor.shutdown()
        pool._state.update(model=None, model_dir=None, other=None)
        await engine.dispose()

    page = (await client.get("/themes/")).text
    assert "Klar 2026-11-22 11:00." in page
    version = job.model_info["model_version"]
    assert f"modellversion <code>{version}</code>, i bruk sedan 2026-11-22 11:00" in page
    for row in rows:
        stored = await db_session.scalar(
            sa.select(OpenText.model_version).where(
                OpenText.id == row.id, OpenText.status == ThemingStatus.THEMED
            )
        )
        assert stored == version
    keys = set(
        await db_session.scalars(
            sa.select(OpenTextTheme.theme_key).where(OpenTextTheme.open_text_id == rows[0].id)
        )
    )
    assert "handlaggning" in keys


async def test_theme_page_pages_and_searches_its_answers(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session, name="Norra")
    manager = await make_user(db_session, Role.MANAGER, [unit])
    for i in range(120):
        text = f"Svar {i:03d} om väntan" if i % 10 else f"Svar {i:03d} om 100% handläggare_x"
        await _themed(db_session, unit.id, text, "handlaggning", f"p{i}")
    await login(client, manager)
    first = (await client.get("/themes/t/handlaggning")).text
    assert "120 svar i dina enheter" in first and "sida 1 av 3" in first
    assert 'href="/themes/t/handlaggning?sida=2#svar" rel="next"' in first
    third = (await client.get("/themes/t/handlaggning?sida=3")).text
    assert "Du ser svar 101–120" in third and "Föregående sida" in third and "Nästa sida" not in third
    seen = set()
    for page in (1, 2, 3):
        text = (await client.get(f"/themes/t/handlaggning?sida={page}")).text
        seen |= set(re.findall(r"Svar (\d{3})", text))
    assert len(seen) == 120  # every answer on exactly one of the pages
    found = (await client.get("/themes/t/handlaggning", params={"sok": "100%"})).text
    assert "12 svar innehåller ”100%”" in found  # % is a plain character, not a wildcard
    found = (await client.get("/themes/t/handlaggning", params={"sok": "VÄNTAN"})).text
    assert "108 svar innehåller" in found
    assert (await client.get("/themes/t/handlaggning?sida=0")).status_code == 400
    none = (await client.get("/themes/t/handlaggning", params={"sok": "finns inte"})).text
    assert "Inga svar i temat innehåller ”finns inte”" in none


async def test_split_assigns_chosen_answers_and_undo_restores(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session, name="Norra")
    other = await make_unit(db_session, name="Södra")
    manager = await make_user(db_session, Role.MANAGER, [unit])
    texts = ["Jag har ångest varje dag", "Ont i ryggen efter olyckan", "Trött"]
    rows = [await _themed(db_session, unit.id, t, "halsa", f"s{i}") for i, t in enumerate(texts)]
    theirs = await _themed(db_session, other.id, "Ångest hos Södra", "halsa", "x")
    await login(client, manager)
    step1 = await form_post(
        client,
        "/themes/t/halsa/split",
        {
            "label_a": "Psykisk hälsa",
            "terms_a": "ångest, oro",
            "label_b": "Fysisk hälsa",
            "terms_b": "rygg, ont",
        },
    )
    assert step1.status_code == 200 and "Välj för varje svar" in step1.text
    assert "Ångest hos Södra" not in step1.text  # another unit's answer is not offered
    # suggestions by similarity are pre-selected; nothing is stored before the second step
    assert re.search(
        rf'name="svar-{rows[0].id}">\s*<option value="">[^<]*</option>\s*<option value="0" selected',
        step1.text,
    )
    assert "psykisk_halsa" not in (await decisions.current_codebook(db_session)).keys
    r = await form_post(
        client,
        "/themes/t/halsa/split",
        {
            "label_a": "Psykisk hälsa",
            "label_b": "Fysisk hälsa",
            "bekrafta": "ja",
            f"svar-{rows[0].id}": "0",
            f"svar-{rows[1].id}": "1",
            f"svar-{rows[2].id}": "",
        },
    )
    assert r.status_code == 200 and "svaren du valde är flyttade" in r.text

    async def keys(row: OpenText) -> set[str]:
        return set(
            await db_session.scalars(
                sa.select(OpenTextTheme.theme_key).where(OpenTextTheme.open_text_id == row.id)
            )
        )

    assert await keys(rows[0]) == {"psykisk_halsa"} and await keys(rows[1]) == {"fysisk_halsa"}
    assert await keys(rows[2]) == {"halsa"} and await keys(theirs) == {"halsa"}  # not decided: stays
    undo = re.search(r'action="(/themes/edits/\d+/undo)"', r.text)
    assert undo is not None
    r = await form_post(client, undo.group(1), {})
    assert r.status_code == 200 and "Ändringen är ångrad" in r.text
    for row in rows:
        assert await keys(row) == {"halsa"}
    assert "psykisk_halsa" not in (await decisions.current_codebook(db_session)).keys
    r = await form_post(client, undo.group(1), {})  # twice: refused in Swedish, nothing changes
    assert r.status_code == 400 and "redan ångrad" in r.text


async def test_the_report_says_which_model_its_counts_come_from(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session, name="Norra")
    manager = await make_user(db_session, Role.MANAGER, [unit])
    await login(client, manager)
    assert "Ingen temamodell har använts ännu" in (await client.get("/reports/")).text
    await retraining.note_model(db_session, model_version="m-abc123", now=NOW)
    await db_session.commit()
    page = (await client.get("/reports/")).text
    assert "modellversion m-abc123, i bruk sedan 2026-11-22 11:00 (första modellen)" in page
    assert "modellversion m-abc123" in (await client.get("/reports/print")).text
