"""``feedback tokens create|revoke|list``: service accounts' API keys from the command line.

Thin: each command owns its transaction, calls ``feedback.auth.api_tokens`` and commits before it
prints. ``create`` prints the key once, on standard output alone on its last line, so a script
can capture it; it is never written to a log.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import click

from feedback.core.settings import Settings


async def _create(settings: Settings, name: str, unit_codes: list[str], scope: str) -> str:
    from feedback.auth import api_tokens, services
    from feedback.core.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            unit_ids = [(await services.get_unit_by_code(session, code)).id for code in unit_codes]
            issued = await api_tokens.create_token(
                session, name=name, unit_ids=unit_ids, scope=scope, created_by=None, now=datetime.now(UTC)
            )
            await session.commit()
            return issued.key
    finally:
        await engine.dispose()


async def _revoke(settings: Settings, name: str) -> None:
    from feedback.auth import api_tokens
    from feedback.core.db import create_engine, session_factory

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            await api_tokens.revoke_token(session, name=name, revoked_by=None, now=datetime.now(UTC))
            await session.commit()
    finally:
        await engine.dispose()


async def _list(settings: Settings) -> list[str]:
    from feedback.auth import api_tokens
    from feedback.core.clock import STOCKHOLM
    from feedback.core.db import create_engine, session_factory

    def when(at: datetime | None) -> str:
        return at.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M") if at else "aldrig"

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            lines = []
            for token in await api_tokens.list_tokens(session):
                units = ",".join(sorted(m.unit.code for m in token.user.memberships))
                state = f"återkallad {when(token.revoked_at)}" if token.revoked_at else "aktiv"
                lines.append(
                    f"{token.name}\t{token.scope.value}\t{units}\t{token.prefix}…\t{state}\t"
                    f"senast använd {when(token.last_used_at)}"
                )
            return lines
    finally:
        await engine.dispose()


@click.group("tokens")
def tokens() -> None:
    """API keys for service accounts (case systems calling /api/...)."""


@tokens.command("create")
@click.option("--name", required=True, help="The service account's name, e.g. procapita.")
@click.option("--unit", "units", multiple=True, required=True, help="Unit code (repeat for several).")
@click.option("--scope", required=True, type=click.Choice(["read", "write"]))
@click.pass_obj
def create_command(settings: Settings, name: str, units: tuple[str, ...], scope: str) -> None:
    """Create a service account and print its key once (only its hash is stored)."""
    from feedback.core.errors import DomainError

    try:
        key = asyncio.run(_create(settings, name, list(units), scope))
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(
        f"API-nyckel för {name.strip().lower()} ({scope}). Den visas bara nu; spara den säkert:", err=True
    )
    click.echo(key)


@tokens.command("revoke")
@click.argument("name")
@click.pass_obj
def revoke_command(settings: Settings, name: str) -> None:
    """Revoke a key at once (the next call with it gets 401)."""
    from feedback.core.errors import DomainError

    try:
        asyncio.run(_revoke(settings, name))
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"återkallad: {name.strip().lower()}")


@tokens.command("list")
@click.pass_obj
def list_command(settings: Settings) -> None:
    """Every key: name, scope, units, prefix, state, last use (never the key)."""
    for line in asyncio.run(_list(settings)):
        click.echo(line)
