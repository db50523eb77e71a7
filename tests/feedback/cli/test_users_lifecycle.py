"""`feedback users deactivate|reactivate|set-role|set-units|reset-password` and `feedback sso map|list`
through click's CliRunner, on SQLite and PostgreSQL, with the audit rows they leave."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from feedback.auth import services
from feedback.auth.models import Role, User
from feedback.cli.main import main
from feedback.core.db import create_engine, session_factory
from feedback.core.models import AuditEvent

EMAIL = "karin@kommun.se"


def _db(url: str, work: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _seed(url: str) -> None:
    async def work(session: Any) -> None:
        north = await services.create_unit(session, code="norr", name="Norr")
        await services.create_unit(session, code="syd", name="Syd")
        await services.create_user(
            session, email="admin@kommun.se", display_name="A", role=Role.ADMIN, unit_ids=[]
        )
        await services.create_user(
            session,
            email=EMAIL,
            display_name="Karin",
            role=Role.CASEWORKER,
            unit_ids=[north.id],
            password="ett-langt-losenord-1",
        )

    _db(url, work)


def _state(url: str) -> tuple[str, bool, set[str], bool, list[str]]:
    async def work(session: Any) -> Any:
        user = await session.scalar(sa.select(User).where(User.email == EMAIL))
        codes = {m.unit.code for m in user.memberships}
        actions = list(
            await session.scalars(
                sa.select(AuditEvent.action)
                .where(AuditEvent.subject_id == str(user.id))
                .order_by(AuditEvent.at)
            )
        )
        return user.role.value, user.is_active, codes, user.password_hash is not None, actions

    return _db(url, work)


def _cli(url: str, *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env={"FEEDBACK_DATABASE_URL": url})


def test_lifecycle_commands_change_the_account_and_are_audited(db_url: str) -> None:
    _seed(db_url)
    assert _cli(db_url, "users", "set-role", EMAIL, "manager").exit_code == 0
    result = _cli(db_url, "users", "set-units", EMAIL, "--unit", "syd", "--unit", "norr")
    assert result.exit_code == 0, result.output
    assert _state(db_url)[:3] == ("manager", True, {"norr", "syd"})

    assert _cli(db_url, "users", "deactivate", EMAIL).exit_code == 0
    assert _state(db_url)[1] is False
    assert _cli(db_url, "users", "reactivate", EMAIL).exit_code == 0
    assert _state(db_url)[1] is True

    reset = _cli(db_url, "users", "reset-password", EMAIL)
    assert reset.exit_code == 0, reset.output
    assert "/invitation/" in reset.output
    *_, has_password, actions = _state(db_url)
    assert not has_password
    assert actions == [
        "user.role",
        "user.units",
        "user.deactivate",
        "user.reactivate",
        "user.password_reset",
        "invitation.create",
    ]


def test_lifecycle_commands_refuse_in_swedish(db_url: str) -> None:
    _seed(db_url)
    unknown = _cli(db_url, "users", "deactivate", "ingen@kommun.se")
    assert unknown.exit_code == 1 and "Det finns ingen användare" in unknown.output
    no_units = _cli(db_url, "users", "set-units", EMAIL)
    assert no_units.exit_code == 1 and "Välj minst en enhet" in no_units.output
    bad_unit = _cli(db_url, "users", "set-units", EMAIL, "--unit", "finns-inte")
    assert bad_unit.exit_code == 1 and "finns inte" in bad_unit.output
    last_admin = _cli(db_url, "users", "deactivate", "admin@kommun.se")
    assert last_admin.exit_code == 1 and "minst en aktiv administratör" in last_admin.output
    assert _state(db_url)[4] == []


def test_sso_map_and_list(db_url: str) -> None:
    _seed(db_url)
    ok = _cli(db_url, "sso", "map", "--value", "fs-handlaggare", "--role", "caseworker", "--unit", "norr")
    assert ok.exit_code == 0, ok.output
    assert _cli(db_url, "sso", "map", "--value", "it-admin", "--role", "admin").exit_code == 0
    twice = _cli(db_url, "sso", "map", "--value", "it-admin", "--role", "admin")
    assert twice.exit_code == 1 and "finns redan" in twice.output
    listed = _cli(db_url, "sso", "list")
    assert listed.output.splitlines() == ["groups=fs-handlaggare caseworker norr", "groups=it-admin admin -"]
