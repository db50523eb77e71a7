"""Issue 16: the admin text catalogue pages — list per language, edit with cost, review, audit."""

from __future__ import annotations

import html
from urllib.parse import quote

import sqlalchemy as sa
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.models import AuditEvent
from surveys.texts import service
from surveys.texts.shipped import shipped
from tests.helpers import form_post, login, make_unit, make_user

KEY = "default_followup.question:influence"
EDIT = f"/admin/texts/text?sprak=ar&nyckel={quote(KEY)}"
LONG_AR = "هذا نص طويل جدا " * 10  # 160 UCS-2 units: three parts


async def test_only_admins_see_the_catalogue(client: AsyncTestClient, db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    await login(client, await make_user(db_session, Role.MANAGER, [unit]))
    assert (await client.get("/admin/texts")).status_code == 403
    assert (
        await form_post(client, "/admin/texts/text", {"language": "ar", "key": KEY, "body": "x"})
    ).status_code == 403


async def test_list_edit_preview_warn_save_and_review(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    admin = await make_user(db_session, Role.ADMIN)
    name = admin.display_name
    await login(client, admin)
    listing = await client.get("/admin/texts?sprak=ar")
    assert listing.status_code == 200
    assert 'dir="rtl"' in listing.text and 'lang="ar"' in listing.text
    assert html.escape(shipped()["ar"][KEY].body) in listing.text and "Utkast" in listing.text
    assert (await client.get("/admin/texts?sprak=xx")).status_code == 404

    page = await client.get(EDIT)
    assert page.status_code == 200 and "UCS-2" in page.text and "Utkast (inte granskad)" in page.text

    preview = await form_post(
        client, "/admin/texts/text", {"language": "ar", "key": KEY, "body": LONG_AR, "action": "preview"}
    )
    assert (
        preview.status_code == 200
        and "3 sms-delar" in preview.text
        and "högst 67 tecken per del" in preview.text
    )
    refused = await form_post(
        client, "/admin/texts/text", {"language": "ar", "key": KEY, "body": LONG_AR, "action": "save"}
    )
    assert refused.status_code == 400 and "3 sms-delar" in refused.text
    catalogue = await service.load(db_session)
    assert catalogue.entry(KEY, "ar").body == shipped()["ar"][KEY].body  # nothing saved

    saved = await form_post(client, "/admin/texts/text",
                            {"language": "ar", "key": KEY, "body": LONG_AR, "action": "save", "acknowledge": "ja"})  # fmt: skip
    assert saved.status_code == 200 and "sparad som utkast" in saved.text
    db_session.expire_all()
    entry = (await service.load(db_session)).entry(KEY, "ar")
    assert entry is not None and entry.body == LONG_AR.strip() and entry.status == "utkast"

    reviewed = await form_post(client, "/admin/texts/review", {"language": "ar", "key": KEY})
    assert reviewed.status_code == 200 and f"Granskad av {name}" in reviewed.text
    db_session.expire_all()
    entry = (await service.load(db_session)).entry(KEY, "ar")
    assert entry is not None and entry.status == "granskad" and entry.reviewed_by == name
    actions = list(
        await db_session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("text.%")))
    )
    assert sorted(actions) == ["text.edit", "text.review"]


async def test_a_new_draft_does_not_replace_a_reviewed_text(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    await login(client, await make_user(db_session, Role.ADMIN))
    key = "default_followup.thanks"
    await form_post(
        client,
        "/admin/texts/text",
        {"language": "sv", "key": key, "body": "Tack! Ny text.", "action": "save"},
    )
    db_session.expire_all()
    catalogue = await service.load(db_session)
    entry = catalogue.entry(key, "sv")
    assert (
        entry is not None and entry.body == shipped()["sv"][key].body and entry.draft_body == "Tack! Ny text."
    )
    assert catalogue.resolve(key, "sv").body == shipped()["sv"][key].body  # still what is sent
    bad = await form_post(client, "/admin/texts/text",
                          {"language": "sv", "key": key, "body": "Hej från socialtjänsten", "action": "save"})  # fmt: skip
    assert bad.status_code == 400 and "avslöja" in bad.text


async def test_the_closure_form_shows_review_status_per_language(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    await login(client, await make_user(db_session, Role.CASEWORKER, [unit]))
    page = await client.get("/caseworker/closures/ny")
    assert page.status_code == 200
    assert "Arabiska: texterna är inte granskade (utkast)" in page.text
    assert "Svenska: texterna är granskade" in page.text
    assert "Arabiska (texter ej granskade)" in page.text


async def test_a_panel_member_chooses_arabic_and_the_page_is_right_to_left(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    await login(client, await make_user(db_session, Role.PANEL_MEMBER, [unit]))
    swedish = await client.get("/panel/")
    assert swedish.status_code == 200 and 'id="panel-page" lang="sv" dir="ltr"' in swedish.text
    chosen = await client.get("/panel/?sprak=ar")
    assert chosen.status_code == 200
    assert 'id="panel-page" lang="ar" dir="rtl"' in chosen.text
    assert shipped()["ar"]["panel.title"].body in chosen.text
    again = await client.get("/panel/")  # remembered
    assert 'lang="ar" dir="rtl"' in again.text
    back = await client.get("/panel/?sprak=so")
    assert (
        'id="panel-page" lang="so" dir="ltr"' in back.text
        and shipped()["so"]["panel.title"].body in back.text
    )
    unknown = await client.get("/panel/?sprak=xx")  # not offered: the remembered language stays
    assert unknown.status_code == 200 and 'lang="so"' in unknown.text


def test_the_dev_phone_shows_arabic_right_to_left() -> None:
    from feedback.web.dev_phone import script_of

    assert script_of(shipped()["ar"]["signal.opt_out_confirm"].body) == {"text_lang": "ar", "text_dir": "rtl"}
    assert script_of("Hej! Svara 1-5.")["text_dir"] == "auto"
