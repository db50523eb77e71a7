"""Tillgänglighetsredogörelse: public page from the footer, a report form that stores redacted
text for the admin. SQLite and PostgreSQL (the ``settings`` fixture)."""

from __future__ import annotations

import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import AccessibilityReport, Role
from tests.helpers import form_post, login, make_user


async def test_statement_report_and_admin_list(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    login_page = await client.get("/login")
    assert 'href="/tillganglighet/"' in login_page.text  # the footer links it on every page
    page = await client.get("/tillganglighet/")
    assert page.status_code == 200
    assert "WCAG 2.1" in page.text and "EN 301 549" in page.text and "Kända brister" in page.text

    empty = await form_post(client, "/tillganglighet/", {"description": ""})
    assert empty.status_code == 400 and "Beskriv problemet" in empty.text
    bad_mail = await form_post(
        client, "/tillganglighet/", {"description": "Knappen syns inte", "reply_to": "nej"}
    )
    assert bad_mail.status_code == 400 and "e-postadress" in bad_mail.text
    sent = await form_post(
        client, "/tillganglighet/",
        {"page": "/reports/", "description": "Jag heter Anna Svensson 19850412-1234, tabellen läses inte upp",
         "reply_to": "Anna@Example.se"},
    )  # fmt: skip
    assert sent.status_code == 200 and "Tack! Vi har tagit emot din rapport." in sent.text
    stored = await db_session.scalar(sa.select(AccessibilityReport))
    assert (
        stored is not None and "19850412" not in stored.description and "[PERSONNUMMER]" in stored.description
    )
    assert stored.reply_to == "anna@example.se"

    admin = await make_user(db_session, Role.ADMIN, [])
    await login(client, admin)
    listing = await client.get("/admin/tillganglighet/")
    assert listing.status_code == 200 and "tabellen läses inte upp" in listing.text
    handled = await form_post(client, f"/admin/tillganglighet/{stored.id}/hanterad", {})
    assert handled.status_code == 200 and "Hanterad" in handled.text
    client.cookies.clear()
    manager = await make_user(db_session, Role.MANAGER, [await _unit(db_session)])
    await login(client, manager)
    assert (await client.get("/admin/tillganglighet/")).status_code == 403


async def _unit(session: AsyncSession):  # type: ignore[no-untyped-def]
    from tests.helpers import make_unit

    return await make_unit(session)
