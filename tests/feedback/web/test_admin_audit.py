"""Loggkontroll: the admin and the granskare list, filter, sample and export the audit log.

SQLite and PostgreSQL (the ``settings`` fixture). Viewing the log is itself logged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core import audit
from feedback.core.clock import FrozenClock
from feedback.core.models import AuditEvent
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from surveys.closures.models import Client
from tests.helpers import form_post, login, make_user
from tests.surveys.world import NOW, make_world


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


async def _seed(session: AsyncSession, settings: Settings) -> dict[str, object]:
    """Two clients; a caseworker read both, one of them twice; one event is old."""
    first = await make_world(session, settings, ref="LOGG-1")
    second = await make_world(session, settings, ref="LOGG-2", phone="+46701234568")
    reader = await make_user(session, Role.CASEWORKER, [first.unit, second.unit])
    other = await make_user(session, Role.CASEWORKER, [first.unit])
    clients = {c.client_ref: c.id for c in await session.scalars(sa.select(Client))}
    for ref, who, action, days, reason in (
        ("LOGG-1", reader, "client.read", 1, "Klientsidan visades"),
        ("LOGG-1", reader, "contact.read", 2, '=HYPERLINK("http://evil")'),
        ("LOGG-2", reader, "client.read", 3, "Klientsidan visades"),
        ("LOGG-2", other, "contact.change", 4, "Nytt nummer"),
        ("LOGG-1", other, "client.read", 40, "Gammal läsning"),
    ):
        await audit.record(
            session, actor_id=who.id, action=action, subject_type="client", subject_id=clients[ref],
            reason=reason, at=NOW - timedelta(days=days),
        )  # fmt: skip
    await session.commit()
    return {"reader": reader, "other": other}


async def test_the_granskare_filters_the_log_and_each_view_is_logged(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    seeded = await _seed(db_session, settings)
    auditor = await make_user(db_session, Role.AUDITOR, [])
    await login(client, auditor)

    first = await client.get("/admin/logg/")
    assert first.status_code == 200 and "Loggkontroll" in first.text
    assert first.text.count('data-label="Händelse"') == 4  # the last seven days; not the old read
    assert "Gammal läsning" not in first.text and "LOGG-2" in first.text

    by_client = await form_post(
        client, "/admin/logg/", {"klient": "LOGG-1", "fran": "2026-01-01", "till": "2026-03-02"}
    )
    assert by_client.status_code == 200
    assert "Gammal läsning" in by_client.text and "LOGG-2" not in by_client.text
    assert by_client.text.count('data-label="Händelse"') == 3

    reader = seeded["reader"]
    by_user = await form_post(
        client, "/admin/logg/", {"anvandare": str(reader.id), "handelse": "client.read"}
    )  # type: ignore[attr-defined]
    assert by_user.text.count('data-label="Händelse"') == 2 and "Nytt nummer" not in by_user.text

    bad = await form_post(client, "/admin/logg/", {"fran": "2026-13-40"})
    assert bad.status_code == 400 and "ÅÅÅÅ-MM-DD" in bad.text
    reversed_period = await form_post(client, "/admin/logg/", {"fran": "2026-03-01", "till": "2026-02-01"})
    assert reversed_period.status_code == 400 and "Slutdatum" in reversed_period.text

    reviews = list(
        await db_session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "audit.read", AuditEvent.actor_id == auditor.id)
        )
    )
    assert len(reviews) == 3  # the GET and two searches (the refused ones saved nothing)
    assert all("LOGG" not in str(e.detail) for e in reviews)  # the typed reference is not stored
    assert any(e.detail["client_filter"] and len(e.detail["client_ids"]) == 1 for e in reviews)


async def test_stickprov_is_random_repeatable_and_only_contact_reads(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    await _seed(db_session, settings)
    admin = await make_user(db_session, Role.ADMIN, [])
    await login(client, admin)
    period = {"fran": "2026-01-01", "till": "2026-03-02", "antal": "2"}
    drawn = await form_post(client, "/admin/logg/stickprov", period)
    assert drawn.status_code == 200, drawn.text
    assert "2 av 4 läsningar" in drawn.text  # contact.change is not a read
    seed = drawn.text.split("Stickprov nummer ")[1].split(":")[0]
    again = await form_post(client, "/admin/logg/stickprov", {**period, "nummer": seed})

    def table(html: str) -> str:
        return html.split('id="sample"')[1].split("</table>")[0]

    assert table(again.text) == table(drawn.text)
    assert "Nytt nummer" not in table(drawn.text)
    too_many = await form_post(client, "/admin/logg/stickprov", {**period, "antal": "5000"})
    assert too_many.status_code == 400
    samples = await db_session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "audit.sample")
    )
    assert samples == 2


async def test_csv_export_is_neutralised_and_audited(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    await _seed(db_session, settings)
    auditor = await make_user(db_session, Role.AUDITOR, [])
    await login(client, auditor)
    exported = await form_post(client, "/admin/logg/export.csv", {"fran": "2026-01-01", "till": "2026-03-02"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8-sig")
    assert text.startswith("Tid;Användare;Roll;Händelse")
    assert "'=HYPERLINK" in text and ";=HYPERLINK" not in text
    assert text.count("\r\n") == 6  # header + five events
    export = await db_session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "audit.export"))
    assert export is not None and export.detail["rows"] == 5


async def test_only_admin_and_granskare_read_the_log_and_the_granskare_nothing_else(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    world = await make_world(db_session, settings)
    caseworker = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, caseworker)
    assert (await client.get("/admin/logg/")).status_code == 403
    client.cookies.clear()
    auditor = await make_user(db_session, Role.AUDITOR, [])
    await login(client, auditor)
    home = await client.get("/")
    assert home.status_code == 200 and "Loggkontroll" in home.text
    for page in ("/admin/users", "/caseworker/closures/", "/reports/", "/admin/api-nycklar/"):
        assert (await client.get(page)).status_code == 403, page
