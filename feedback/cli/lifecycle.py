"""``feedback users deactivate|reactivate|set-role|set-units|reset-password`` and ``feedback sso …``.

The operator at the command line acts as an admin (audit ``actor_id`` NULL, like ``users invite``).
Each command owns its transaction and commits before it prints; a refusal prints the service's
Swedish message and exits 1.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import click
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth import lifecycle, services
from feedback.auth.models import Role, User
from feedback.auth.sso import mapping
from feedback.core.db import create_engine, session_factory, utcnow
from feedback.core.errors import DomainError, NotFound
from feedback.core.settings import Settings

T = TypeVar("T")
ROLES = [r.value for r in Role]


def _run(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    import asyncio

    async def main() -> T:
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                result = await work(session)
                await session.commit()
                return result
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc


async def _user_id(session: AsyncSession, email: str) -> uuid.UUID:
    user_id = await session.scalar(sa.select(User.id).where(User.email == email.strip().lower()))
    if user_id is None:
        raise NotFound(f"Det finns ingen användare med e-postadressen {email}.")
    return user_id


def register(users: click.Group) -> None:
    """Add the lifecycle commands to the existing ``feedback users`` group."""

    @users.command("deactivate")
    @click.argument("email")
    @click.pass_obj
    def deactivate(settings: Settings, email: str) -> None:
        """Switch an account off; its open sessions end at once."""

        async def work(session: AsyncSession) -> None:
            await lifecycle.deactivate(session, user_id=await _user_id(session, email), by=None, now=utcnow())

        _run(settings, work)
        click.echo(f"deactivated {email}")

    @users.command("reactivate")
    @click.argument("email")
    @click.pass_obj
    def reactivate(settings: Settings, email: str) -> None:
        """Switch a deactivated account on again (the person signs in anew)."""

        async def work(session: AsyncSession) -> None:
            await lifecycle.reactivate(session, user_id=await _user_id(session, email), by=None)

        _run(settings, work)
        click.echo(f"reactivated {email}")

    @users.command("set-role")
    @click.argument("email")
    @click.argument("role", type=click.Choice(ROLES))
    @click.pass_obj
    def set_role(settings: Settings, email: str, role: str) -> None:
        """Give the account another role (takes effect at its next request)."""

        async def work(session: AsyncSession) -> None:
            await lifecycle.set_role(session, user_id=await _user_id(session, email), role=role, by=None)

        _run(settings, work)
        click.echo(f"{email} is now {role}")

    @users.command("set-units")
    @click.argument("email")
    @click.option("--unit", "units", multiple=True, help="Unit code (repeat; replaces the current units).")
    @click.pass_obj
    def set_units(settings: Settings, email: str, units: tuple[str, ...]) -> None:
        """Replace the account's units with the given ones."""

        async def work(session: AsyncSession) -> None:
            unit_ids = [(await services.get_unit_by_code(session, code)).id for code in units]
            await lifecycle.set_units(
                session, user_id=await _user_id(session, email), unit_ids=unit_ids, by=None
            )

        _run(settings, work)
        click.echo(f"{email} now has units: {', '.join(units) or '(none)'}")

    @users.command("reset-password")
    @click.argument("email")
    @click.option("--hours", default=None, type=int, help="How long the link works (default from settings).")
    @click.pass_obj
    def reset_password(settings: Settings, email: str, hours: int | None) -> None:
        """Clear the password and print a one-time link to choose a new one."""

        async def work(session: AsyncSession) -> str:
            _, url = await lifecycle.reset_password(
                session,
                user_id=await _user_id(session, email),
                by=None,
                now=utcnow(),
                ttl=timedelta(hours=hours or settings.invitation_ttl_hours),
                base_url=settings.public_url,
                local_passwords=settings.local_passwords,
            )
            return url

        url = _run(settings, work)
        click.echo(f"password of {email} cleared; give this link to the person, it works once:")
        click.echo(url)


@click.group("sso")
def sso() -> None:
    """Single sign-on: the claim → role/units mapping (also on /admin/sso)."""


@sso.command("map")
@click.option("--claim", default=None, help="Claim name (default FEEDBACK_OIDC_GROUPS_CLAIM).")
@click.option("--value", required=True, help="Claim value, e.g. the group's name or id.")
@click.option("--role", required=True, type=click.Choice([r.value for r in mapping.staff_roles()]))
@click.option("--unit", "units", multiple=True, help="Unit code (repeat; not needed for admin).")
@click.pass_obj
def sso_map(settings: Settings, claim: str | None, value: str, role: str, units: tuple[str, ...]) -> None:
    """Whoever has CLAIM = VALUE at login gets ROLE in the units (the first admin, for example)."""

    async def work(session: AsyncSession) -> None:
        unit_ids = [(await services.get_unit_by_code(session, code)).id for code in units]
        await mapping.add_mapping(
            session,
            claim=claim or settings.oidc_groups_claim,
            value=value,
            role=role,
            unit_ids=unit_ids,
            by=None,
        )

    _run(settings, work)
    click.echo(f"mapped {claim or settings.oidc_groups_claim}={value} to {role}")


@sso.command("list")
@click.pass_obj
def sso_list(settings: Settings) -> None:
    """Print the mapping, one line per entry: claim=value role unit-codes."""

    async def work(session: AsyncSession) -> list[str]:
        codes = {u.id: u.code for u in await services.list_units(session)}
        return [
            f"{m.claim}={m.value} {m.role.value} {','.join(sorted(codes[u] for u in m.unit_ids)) or '-'}"
            for m in await mapping.list_mappings(session)
        ]

    for line in _run(settings, work):
        click.echo(line)
