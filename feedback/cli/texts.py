"""``feedback texts export [--language L]``: the text catalogue as JSON lines.

One line per key and language: ``{"key","language","text","status","segments","encoding"}``
(status ``utkast``/``granskad``, or ``saknas`` when a language lacks a key Swedish has; encoding
``GSM-7``/``UCS-2``). Why: translators and reviewers work from a file, and an operator can see
before production which languages still have unreviewed texts. Admins' edits are included: the
text listed is the version in use.
"""

from __future__ import annotations

import asyncio
import json

import click

from feedback.core.settings import Settings


async def _rows(settings: Settings, language: str | None) -> list[dict[str, object]]:
    from feedback.core.db import create_engine, session_factory
    from feedback.core.errors import InvalidInput
    from surveys.texts import service

    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            catalogue = await service.load(session)
        try:
            return [row.as_json() for row in service.listing(catalogue, language)]
        except InvalidInput as exc:
            raise click.ClickException(str(exc)) from exc
    finally:
        await engine.dispose()


@click.group("texts")
def texts() -> None:
    """The text catalogue: every text people get, per language, with its review status."""


@texts.command("export")
@click.option("--language", "language", default=None, help="Bara ett språk, t.ex. ar (annars alla).")
@click.pass_obj
def export_command(settings: Settings, language: str | None) -> None:
    """Print the catalogue as JSON lines (one text per line)."""
    for row in asyncio.run(_rows(settings, language)):
        click.echo(json.dumps(row, ensure_ascii=False))
