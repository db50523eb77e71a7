"""Unit settings page: sender name (alphanumeric sender id rules), send window, holidays; audited;
the SMS names the unit's sender. SQLite and PostgreSQL (the ``settings`` fixture)."""

from __future__ import annotations

from datetime import time

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role, Unit
from feedback.auth.unit_settings import check_sender_name
from feedback.core.errors import InvalidInput
from feedback.core.models import AuditEvent
from feedback.core.settings import Settings
from notifications.models import SmsOutbox
from notifications.windows import window_for_unit
from surveys.conversations.service import start_sms_follow_up
from surveys.plans.models import FollowUp
from tests.helpers import form_post, login, make_user
from tests.surveys.world import NOW, make_world


@pytest.mark.parametrize("name", ["Norrkoping", "IFO Vast", "Kommun 1", "A"])
def test_valid_sender_names(name: str) -> None:
    assert check_sender_name(f"  {name} ") == name


@pytest.mark.parametrize(
    "name", ["Göteborgs stad", "Örebro", "123456", "Kommun-Väst", "ab_c", "Tolv tecken!"]
)
def test_refused_sender_names(name: str) -> None:
    with pytest.raises(InvalidInput):
        check_sender_name(name)


async def test_admin_saves_settings_audited_and_the_sms_uses_the_name(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    world = await make_world(db_session, settings)
    unit_id, follow_up_id = world.unit.id, world.follow_up.id
    admin = await make_user(db_session, Role.ADMIN, [])
    await login(client, admin)
    url = f"/admin/units/{unit_id}/installningar/"
    page = await client.get(url)
    assert page.status_code == 200 and 'value="09:00"' in page.text and "Kommunen" in page.text

    refused = await form_post(
        client, url, {"sender_name": "Göteborg", "weekdays": ["0"], "start": "09:00", "end": "17:00"}
    )
    assert refused.status_code == 400 and "inte å, ä, ö" in refused.text
    late = await form_post(
        client, url, {"sender_name": "Norrkoping", "weekdays": ["0"], "start": "18:00", "end": "09:00"}
    )
    assert late.status_code == 400 and "Starttiden" in late.text
    bad_time = await form_post(client, url, {"weekdays": ["0"], "start": "25:00", "end": "09:00"})
    assert bad_time.status_code == 400 and "TT:MM" in bad_time.text

    saved = await form_post(
        client, url, {"sender_name": "Norrkoping", "weekdays": ["0", "1", "2", "3", "4", "5"],
                      "start": "10:00", "end": "16:30"}, follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    db_session.expire_all()
    unit = await db_session.get(Unit, unit_id)
    assert unit is not None and unit.sms_sender_name == "Norrkoping"
    window = await window_for_unit(db_session, unit_id)
    assert window.weekdays == frozenset(range(6)) and window.start == time(10) and not window.skip_holidays
    events = list(await db_session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "unit.settings")))
    assert len(events) == 1 and set(events[0].detail["fields"]) == {"sender_name", "send_window"}

    follow_up = await db_session.get(FollowUp, follow_up_id)
    assert follow_up is not None
    await start_sms_follow_up(db_session, follow_up, now=NOW, settings=settings)
    await db_session.commit()
    bodies = list(await db_session.scalars(sa.select(SmsOutbox.body)))
    assert bodies and any("Norrkoping" in b for b in bodies) and not any("Kommunen" in b for b in bodies)

    client.cookies.clear()
    caseworker = await make_user(db_session, Role.CASEWORKER, [world.unit])
    await login(client, caseworker)
    assert (await client.get(url)).status_code == 403
