"""No English keys in Swedish UI text: every role's pages are rendered and their visible text
scanned for internal keys (enum values, question keys, Litestar's English refusals).

Seeded with the demo-like client year (``tests/surveys/client_story.py``) plus a low-score case,
so the client page, case list, erasure search and register extract all show real rows.
SQLite and PostgreSQL (the ``settings`` fixture).
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from surveys.answers.service import low_score_summary
from tests.helpers import form_post, login, make_unit, make_user
from tests.surveys.client_story import build_client_story
from tests.surveys.world import NOW

# Internal values that must never be shown as text to a Swedish reader.
ENGLISH_KEYS = re.compile(
    r"\b(work|studies|other_income|moved|unknown|caseworker|manager|panel_member|auditor|integration"
    r"|respect|sms_out|sms_in|opt_out|low_score|call_me|crisis|queued|delivered|undelivered|needs_review"
    r"|read|write|None|True|False)\b"
    r"|CSRF token verification failed|no session data found|respect \(\d\)"
)


def visible_text(page: str) -> str:
    """What a reader sees: no scripts, styles, tags or attribute values."""
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return html.unescape(page)


def english_in(page: str) -> list[str]:
    return sorted({m.group(0) for m in ENGLISH_KEYS.finditer(visible_text(page))})


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


def test_the_low_score_case_summary_names_the_question_not_its_key() -> None:
    summary = low_score_summary(3, "Kände du dig lyssnad på och respekterad? 1 till 5.")
    assert summary == "Svarade 1 (lägsta) på fråga 3: Kände du dig lyssnad på och respekterad?"
    assert english_in(summary) == []


async def test_pages_of_every_role_show_no_english_keys(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    unit = await make_unit(db_session, code="fsd", name="Försörjningsstöd")
    caseworker = await make_user(db_session, Role.CASEWORKER, [unit])
    story = await build_client_story(
        db_session, settings, unit_id=unit.id, caseworker_id=caseworker.id, ref="K-SPRAK", now=NOW
    )
    await db_session.commit()
    users = {
        Role.ADMIN: await make_user(db_session, Role.ADMIN, []),
        Role.CASEWORKER: caseworker,
        Role.MANAGER: await make_user(db_session, Role.MANAGER, [unit]),
        Role.AUDITOR: await make_user(db_session, Role.AUDITOR, []),
        Role.PANEL_MEMBER: await make_user(db_session, Role.PANEL_MEMBER, [unit]),
    }
    for number, user in enumerate(users.values()):  # make_user names people "Test <role key>"
        user.display_name = f"Person {number}"
    await db_session.commit()
    pages = {
        Role.ADMIN: ["/", "/admin/users", "/admin/units", "/admin/radering/", "/admin/logg/",
                     "/admin/api-nycklar/", "/admin/registerutdrag/", "/account/password"],
        Role.CASEWORKER: ["/", "/caseworker/closures/", f"/caseworker/closures/{story.closure_id}",
                          "/caseworker/cases/", "/caseworker/inkorg/", "/caseworker/calls/"],
        Role.MANAGER: ["/", "/reports/", "/reports/arenden", "/themes/", "/reviews/", "/panel/manage/"],
        Role.AUDITOR: ["/", "/admin/logg/"],
        Role.PANEL_MEMBER: ["/", "/panel/"],
    }  # fmt: skip
    found: dict[str, list[str]] = {}
    for role, user in users.items():
        client.cookies.clear()
        await login(client, user)
        for path in pages[role]:
            response = await client.get(path)
            assert response.status_code == 200, (role, path, response.status_code)
            if words := english_in(response.text):
                found[f"{role.value} {path}"] = words
        if role is Role.ADMIN:
            ref = {"unit": str(unit.id), "client_ref": "K-SPRAK"}
            for path, data in (("/admin/radering/", {**ref, "action": "sok"}),
                               ("/admin/registerutdrag/", {**ref, "format": "visa"})):  # fmt: skip
                response = await form_post(client, path, data)
                assert response.status_code == 200, (path, response.text[:300])
                if words := english_in(response.text):
                    found[f"admin POST {path}"] = words
        if role is Role.CASEWORKER:
            cases = await client.get("/caseworker/cases/", params={"status": "alla"})
            for case_path in sorted(set(re.findall(r'href="(/caseworker/cases/[0-9a-f-]{36})"', cases.text))):
                response = await client.get(case_path)
                if words := english_in(response.text):
                    found[f"caseworker {case_path}"] = words
    # a form sent without its CSRF token: Litestar's English refusal must be said in Swedish
    forged = await client.post("/account/password", data={"current_password": "x"})
    assert forged.status_code == 403
    if words := english_in(forged.text):
        found["forged POST"] = words
    assert found == {}


async def test_an_erasure_reason_with_a_personnummer_is_stored_redacted(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    import sqlalchemy as sa

    from feedback.core.models import AuditEvent
    from tests.surveys.world import make_world

    world = await make_world(db_session, settings, ref="K-RADERA")
    admin = await make_user(db_session, Role.ADMIN, [])
    await login(client, admin)
    ref = {"unit": str(world.unit.id), "client_ref": "K-RADERA"}
    found = await form_post(client, "/admin/radering/", {**ref, "action": "sok"})
    assert found.status_code == 200 and "Arbete" in found.text and english_in(found.text) == []
    client_id = re.search(r'name="client_id" value="([0-9a-f-]{36})"', found.text)
    assert client_id is not None
    reason = "Begäran från Anna Svensson 19850412-1234, ring 070-111 22 33"
    erased = await form_post(
        client,
        "/admin/radering/",
        {**ref, "action": "radera", "client_id": client_id.group(1), "reason": reason},
    )
    assert erased.status_code == 200 and 'id="erased"' in erased.text
    event = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "contact.erase"))
    assert event is not None and "[PERSONNUMMER]" in event.reason
    assert "19850412" not in event.reason and "1234" not in event.reason and "111 22 33" not in event.reason
