"""`feedback import-closures FILE.csv` and `feedback purge` (thin: read input, call one service).

Both own their transaction and commit before reporting success. Time comes from the app's clock
(in development with dev tools on, the persisted "Testklocka" offset, so the CLI and the web app
agree on what "today" is).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from feedback.core.settings import Settings

if TYPE_CHECKING:
    from surveys.closures.importer import ImportReport


async def _now(session: object, settings: Settings) -> datetime:
    from feedback.devtools import clock as devclock

    now = datetime.now(UTC)
    if devclock.enabled(settings):
        now += await devclock.load_offset(session)  # type: ignore[arg-type]
    return now


async def run_import(settings: Settings, content: bytes, unit_code: str | None) -> ImportReport:
    import sqlalchemy as sa

    from feedback.auth.models import Unit
    from feedback.core import audit
    from feedback.core.db import create_engine, session_factory
    from feedback.core.errors import NotFound
    from surveys.closures.contact import VaultPhoneProtector
    from surveys.closures.importer import import_closures, parse_csv

    parsed = parse_csv(content)
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            units = {code.lower(): uid for uid, code in await session.execute(sa.select(Unit.id, Unit.code))}
            default_unit = None
            if unit_code is not None:
                default_unit = units.get(unit_code.lower())
                if default_unit is None:
                    raise NotFound(f"Okänd enhet: {unit_code}", field="unit")
            report = await import_closures(
                session,
                parsed,
                default_unit_id=default_unit,
                units_by_code=units,
                phones=VaultPhoneProtector(settings),
                actor_id=None,
                now=await _now(session, settings),
                min_gap_days=settings.contact_min_gap_days,
            )
            await audit.record(
                session,
                actor_id=None,
                action="closures.import",
                subject_type="unit",
                subject_id=default_unit,
                reason="feedback import-closures",
                detail={
                    "created": report.created,
                    "updated": report.updated,
                    "rejected": len(report.rejected),
                },
            )
            await session.commit()
            return report
    finally:
        await engine.dispose()


@click.command("import-closures")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit", "unit_code", default=None, help="Unit code for rows without a unit column.")
@click.pass_obj
def import_closures_command(settings: Settings, file: Path, unit_code: str | None) -> None:
    """Import closures from a CSV file (client_ref,phone,language,closed_on,reason,unit).

    Every rejected row is listed with its line number and reason; the exit status is 1 when any
    row was rejected. Re-importing the same file changes nothing.
    """
    from feedback.core.errors import DomainError

    try:
        report = asyncio.run(run_import(settings, file.read_bytes(), unit_code))
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(
        f"{report.rows} rader: {report.created} nya, {report.updated} ändrade, "
        f"{report.unchanged} oförändrade, {len(report.rejected)} avvisade"
    )
    for rejection in report.rejected:
        ref = f" ({rejection.ref})" if rejection.ref else ""
        click.echo(f"rad {rejection.line}{ref}: {rejection.reason}")
    if report.rejected:
        sys.exit(1)


async def run_purge(settings: Settings, *, dry_run: bool) -> int:
    from feedback.core.db import create_engine, session_factory
    from surveys.closures.erasure import purge_expired

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            ids = await purge_expired(
                session,
                now=await _now(session, settings),
                retention_days=settings.retention_days,
                dry_run=dry_run,
            )
            if not dry_run:
                await session.commit()
            return len(ids)
    finally:
        await engine.dispose()


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count the clients that would be erased.")
@click.pass_obj
def purge_command(settings: Settings, dry_run: bool) -> None:
    """Erase contact data (phone, client_ref) of clients whose follow-up plan finished more than
    FEEDBACK_RETENTION_DAYS ago. Answers stay, pseudonymous; every erasure is audited."""
    count = asyncio.run(run_purge(settings, dry_run=dry_run))
    verb = "would erase" if dry_run else "erased"
    click.echo(f"{verb} contact data of {count} clients (retention {settings.retention_days} days)")
