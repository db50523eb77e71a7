"""Password policy: at least 12 characters and not a common password (Swedish messages), and the
argon2 work runs in a worker thread so logins never stall the event loop."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import invitations, passwords, services
from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.errors import InvalidInput
from tests.helpers import PASSWORD, form_post, login, make_unit, make_user

COMMON = ["password1234", "Password1234", "Lösenord2024!", "sommar2026!!!", "qwertyuiop12", "123456789012"]


@pytest.mark.parametrize("weak", COMMON)
def test_common_passwords_are_refused_in_swedish(weak: str) -> None:
    problem = passwords.password_problem(weak)
    assert problem is not None and ("vanligt" in problem or "enkelt" in problem)


@pytest.mark.parametrize("good", [PASSWORD, "mitt-eget-langa-losenord", "Uppfoljning-demo-2026"])
def test_long_uncommon_passwords_are_accepted(good: str) -> None:
    assert passwords.password_problem(good) is None


def test_short_passwords_are_refused() -> None:
    assert passwords.password_problem("Kx9!vq2#") == "Lösenordet måste ha minst 12 tecken."


async def test_invitation_accept_refuses_a_common_password(
    client: AsyncTestClient[Any], db_session: AsyncSession
) -> None:
    unit = await make_unit(db_session)
    admin = CurrentUser.from_user(await make_user(db_session, Role.ADMIN))
    _, url = await invitations.create_invitation(
        db_session,
        email="ny.person@example.se",
        role=Role.PANEL_MEMBER,
        unit_id=unit.id,
        invited_by=admin,
        base_url="http://testserver.local",
    )
    await db_session.commit()
    path = url.removeprefix("http://testserver.local")
    weak = await form_post(client, path, {"password": "password1234", "repeat_password": "password1234"})
    assert weak.status_code == 400 and "för vanligt" in weak.text
    assert (await client.get(path)).status_code == 200  # the link still works


async def test_password_change_refuses_a_common_password(
    client: AsyncTestClient[Any], db_session: AsyncSession
) -> None:
    user = await make_user(db_session, Role.CASEWORKER, [await make_unit(db_session)])
    await login(client, user)
    response = await form_post(
        client,
        "/account/password",
        {"current_password": PASSWORD, "new_password": "Sommar2026!!", "repeat_password": "Sommar2026!!"},
    )
    assert response.status_code == 400 and "för vanligt" in response.text
    with pytest.raises(InvalidInput):
        services.set_password(user, "password1234", datetime.now(UTC))


async def test_argon2_runs_off_the_event_loop(
    db_session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make_user(db_session, Role.CASEWORKER, [await make_unit(db_session)])
    loop_thread = threading.current_thread()
    threads: list[threading.Thread] = []
    real = services.verify_password

    def recording(password_hash: str | None, password: str) -> bool:
        threads.append(threading.current_thread())
        return real(password_hash, password)

    monkeypatch.setattr(services, "verify_password", recording)
    # One after the other: an AsyncSession is not for concurrent use (PostgreSQL refuses it);
    # what matters is which thread ran the hash, for a known and an unknown e-mail alike.
    results = [
        await services.authenticate(db_session, email=user.email, password=PASSWORD),
        await services.authenticate(db_session, email="nobody@example.se", password="fel-losenord-123"),
    ]
    assert results[0] is not None and results[1] is None
    assert len(threads) == 2 and loop_thread not in threads
