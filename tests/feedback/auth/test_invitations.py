"""Invitation links: single use, expiring, only a hash stored, scope-checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import invitations
from feedback.auth.identity import CurrentUser
from feedback.auth.models import Invitation, Role, Unit, User
from feedback.core.clock import FrozenClock
from feedback.core.errors import Conflict, Forbidden
from feedback.core.logs import scrub
from feedback.core.models import AuditEvent
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from tests.helpers import form_post, make_unit, make_user

NEW_PASSWORD = "mitt-eget-langa-losenord"
T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


async def _admin(db_session: AsyncSession) -> CurrentUser:
    return CurrentUser.from_user(await make_user(db_session, Role.ADMIN))


async def _invite(db_session: AsyncSession, unit: Unit, **kwargs) -> tuple[Invitation, str]:
    invitation, url = await invitations.create_invitation(
        db_session,
        email=kwargs.pop("email", "omar.panel@example.se"),
        role=kwargs.pop("role", Role.PANEL_MEMBER),
        unit_id=unit.id,
        invited_by=kwargs.pop("invited_by", None) or await _admin(db_session),
        base_url="http://testserver.local",
        **kwargs,
    )
    await db_session.commit()
    return invitation, url


def _path(url: str) -> str:
    return url.removeprefix("http://testserver.local")


async def test_only_a_hash_of_the_token_is_stored(db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    invitation, url = await _invite(db_session, unit)
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 40 and url.startswith("http://testserver.local/invitation/")
    rows = (await db_session.execute(sa.text("SELECT * FROM invitation"))).all()
    assert rows and not any(token in str(value) for row in rows for value in row)
    assert invitation.token_hash == invitations.hash_token(token) != token
    user = await db_session.scalar(sa.select(User).where(User.email == "omar.panel@example.se"))
    assert user is not None and user.password_hash is None and user.is_active is False
    assert user.role == Role.PANEL_MEMBER and user.unit_ids == {unit.id}


async def test_link_sets_password_activates_account_and_signs_in(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    _, url = await _invite(db_session, unit)
    page = await client.get(_path(url))
    assert page.status_code == 200
    assert "omar.panel@example.se" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    response = await form_post(
        client,
        _path(url),
        {"password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    home = await client.get("/")
    assert home.status_code == 200 and "panelmedlem" in home.text
    user = await db_session.scalar(sa.select(User).where(User.email == "omar.panel@example.se"))
    await db_session.refresh(user)
    assert user.is_active and user.password_hash and user.password_hash.startswith("$argon2id$")
    actions = set(await db_session.scalars(sa.select(AuditEvent.action)))
    assert {"invitation.create", "invitation.accept"} <= actions


async def test_used_link_is_refused_the_second_time(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    _, url = await _invite(db_session, unit)
    first = await form_post(
        client,
        _path(url),
        {"password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
        follow_redirects=False,
    )
    assert first.status_code == 303
    client.cookies.clear()
    again = await client.get(_path(url))
    assert again.status_code == 410 and "redan använts" in again.text
    second = await form_post(
        client, _path(url), {"password": "nagon-annans-losenord", "repeat_password": "nagon-annans-losenord"}
    )
    assert second.status_code == 410
    assert (await client.get("/", follow_redirects=False)).status_code == 303


async def test_expired_link_is_refused(settings: Settings, db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    _, url = await _invite(db_session, unit, ttl=timedelta(hours=1), now=T0)
    clock = FrozenClock(T0 + timedelta(minutes=59))
    async with AsyncTestClient(
        app=create_app(settings, Collaborators(clock=clock)), base_url="http://testserver.local"
    ) as client:
        assert (await client.get(_path(url))).status_code == 200
        clock.advance(timedelta(minutes=2))
        page = await client.get(_path(url))
        assert page.status_code == 410 and "slutat gälla" in page.text
        post = await form_post(
            client, _path(url), {"password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}
        )
        assert post.status_code == 410


async def test_unknown_token_is_404(client: AsyncTestClient) -> None:
    response = await client.get("/invitation/" + "x" * 43)
    assert response.status_code == 404 and "Inbjudan finns inte" in response.text


async def test_bad_password_keeps_the_link_usable(client: AsyncTestClient, db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    _, url = await _invite(db_session, unit)
    mismatch = await form_post(client, _path(url), {"password": NEW_PASSWORD, "repeat_password": "annat"})
    assert mismatch.status_code == 400 and "inte likadana" in mismatch.text
    weak = await form_post(client, _path(url), {"password": "kort", "repeat_password": "kort"})
    assert weak.status_code == 400 and "minst 12 tecken" in weak.text
    assert (await client.get(_path(url))).status_code == 200


async def test_invited_person_cannot_log_in_before_accepting(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    await _invite(db_session, unit)
    response = await form_post(client, "/login", {"email": "omar.panel@example.se", "password": ""})
    assert response.status_code == 400


async def test_reinvite_replaces_the_open_link(client: AsyncTestClient, db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    _, old = await _invite(db_session, unit)
    _, new = await _invite(db_session, unit)
    assert (await client.get(_path(old))).status_code == 410
    assert (await client.get(_path(new))).status_code == 200


async def test_manager_may_invite_panel_members_to_own_units_only(db_session: AsyncSession) -> None:
    own, other = await make_unit(db_session), await make_unit(db_session)
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [own]))
    caseworker = CurrentUser.from_user(await make_user(db_session, Role.CASEWORKER, [own]))
    await _invite(db_session, own, invited_by=manager, email="p1@example.se")
    with pytest.raises(Forbidden):
        await _invite(db_session, other, invited_by=manager, email="p2@example.se")
    with pytest.raises(Forbidden):
        await _invite(db_session, own, invited_by=manager, email="p3@example.se", role=Role.CASEWORKER)
    with pytest.raises(Forbidden):
        await _invite(db_session, own, invited_by=caseworker, email="p4@example.se")


async def test_existing_account_cannot_be_invited(db_session: AsyncSession) -> None:
    unit = await make_unit(db_session)
    user = await make_user(db_session, Role.PANEL_MEMBER, [unit])
    with pytest.raises(Conflict):
        await _invite(db_session, unit, email=user.email)


def test_invitation_path_is_masked_in_logs() -> None:
    line = 'GET /invitation/AbC-123_xyz HTTP/1.1" 200'
    assert "AbC-123_xyz" not in scrub(line)


def test_cli_prints_a_working_link(sqlite_url: str, tmp_path: Path) -> None:
    from feedback.cli.main import main

    env = {"FEEDBACK_DATABASE_URL": sqlite_url, "FEEDBACK_PUBLIC_URL": "https://uppf.example.se"}
    runner = CliRunner()
    unit = runner.invoke(
        main, ["users", "create", "--email", "a@x.se", "--role", "admin", "--password", "x" * 3], env=env
    )
    assert unit.exit_code != 0  # weak password refused with a message, not a traceback
    assert "minst 12 tecken" in unit.output
    result = runner.invoke(
        main, ["users", "invite", "--email", "ny@example.se", "--role", "admin", "--hours", "2"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "https://uppf.example.se/invitation/" in result.output


async def test_manager_cannot_take_over_another_units_pending_invitation(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    """Issue 20, item 4: an AME-only manager re-invites a pending FSD invitee."""
    ame, fsd = await make_unit(db_session, name="AME"), await make_unit(db_session, name="FSD")
    ame_manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [ame]))
    _, admins_link = await _invite(db_session, fsd, email="fsd.panel@example.se")

    with pytest.raises(Forbidden) as refused:
        await _invite(db_session, ame, invited_by=ame_manager, email="fsd.panel@example.se")
    await db_session.rollback()
    assert refused.value.status_code == 403
    assert "inbjuden till en enhet som du inte är chef för" in str(refused.value)

    # The admin's link still works and the person is still a member of FSD only.
    assert (await client.get(_path(admins_link))).status_code == 200
    user = await db_session.scalar(sa.select(User).where(User.email == "fsd.panel@example.se"))
    assert user is not None
    await db_session.refresh(user, ["memberships"])
    assert user.unit_ids == {fsd.id}
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 1


async def test_manager_may_reinvite_own_pending_invitee(
    client: AsyncTestClient, db_session: AsyncSession
) -> None:
    own = await make_unit(db_session)
    manager = CurrentUser.from_user(await make_user(db_session, Role.MANAGER, [own]))
    _, old = await _invite(db_session, own, invited_by=manager, email="own.panel@example.se")
    _, new = await _invite(db_session, own, invited_by=manager, email="own.panel@example.se")
    assert (await client.get(_path(old))).status_code == 410
    assert (await client.get(_path(new))).status_code == 200
