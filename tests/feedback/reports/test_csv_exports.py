"""Every CSV export neutralises formulas: an SMS reply or reflection starting with ``=`` is text.

The texts are stored through the real paths (the SMS conversation, the panel service) and read
back through the two download routes, so the test crosses intake → redaction → export.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.clock import FrozenClock
from feedback.core.csvfiles import FORMULA_PREFIXES, excel_csv, neutralise
from feedback.core.settings import Settings
from feedback.panel import service as panel
from feedback.themes.models import OpenTextTheme
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from surveys.answers.models import OpenText, ThemingStatus
from tests.feedback.reports.answering import answer_by_sms, register
from tests.feedback.reports.factories import ReportData
from tests.helpers import login, make_unit, make_user

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SURVEYED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PERIOD = "fran=2026-01-01&till=2026-11-30"
SMS_REPLY = '=HYPERLINK("https://example.org/x";"Klicka här")'
REFLECTION = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+46 70", "'+46 70"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Bra = bra", "Bra = bra"),
        ("", ""),
        (7, 7),
        (None, None),
    ],
)
def test_neutralise_prefixes_only_formula_starts(cell: object, written: object) -> None:
    assert neutralise(cell) == written


def test_excel_csv_is_semicolon_bom_crlf() -> None:
    data = excel_csv([["tema", "antal"], ["=A1", 5]])
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig") == "tema;antal\r\n'=A1;5\r\n"


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))


async def test_formula_in_sms_reply_reflection_and_unit_name_is_neutralised_in_every_csv(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, settings: Settings
) -> None:
    north = await make_unit(db_session, name="=Norra")  # staff-typed names are cells too
    south = await make_unit(db_session, name="Södra")
    person = await register(db_session, settings, north, 1, now=SURVEYED - timedelta(days=31))
    await answer_by_sms(db_session, settings, person, SMS_REPLY, now=SURVEYED)
    manager = await make_user(db_session, Role.MANAGER, [north, south])
    member = CurrentUser.from_user(await make_user(db_session, Role.PANEL_MEMBER, [north]))
    panel_round = await panel.create_round(
        db_session,
        user=CurrentUser.from_user(manager),
        unit_id=north.id,
        title="Vår",
        prompts=["Vad kan bli bättre?"],
        opens_on=date(2026, 3, 1),
        closes_on=date(2026, 3, 31),
    )
    await panel.save_reflection(
        db_session,
        user=member,
        round_id=panel_round.id,
        prompt_index=0,
        text=REFLECTION,
        importance=None,
        quote_consent=False,
        now=SURVEYED,
        pseudonym_key=settings.index_key,
    )
    for text in await db_session.scalars(sa.select(OpenText)):  # the worker's theming, by hand
        text.status = ThemingStatus.THEMED
        db_session.add(OpenTextTheme(open_text_id=text.id, theme_key="handlaggning"))
    data = ReportData(db_session)
    for unit in (north, south):
        for i in range(5):
            await data.text(unit, ["handlaggning"], at=SURVEYED, text=f"Lång väntan {i}")
    await db_session.commit()
    stored = {
        t.source_ref.split(":")[0]: t.text_redacted
        for t in await db_session.scalars(sa.select(OpenText))
        if not t.source_ref.startswith("test:")
    }
    assert stored["answer"].startswith("=") and stored["reflection"].startswith("@")  # stored as written

    await login(client, manager)
    answers = await client.get(f"/reports/svar.csv?{PERIOD}")
    themes = await client.get(f"/reports/teman.csv?{PERIOD}")
    assert answers.status_code == 200 and themes.status_code == 200
    answer_rows, theme_rows = _rows(answers.content), _rows(themes.content)
    texts = [row[2] for row in answer_rows[1:]]
    assert "'" + stored["answer"] in texts and "'" + stored["reflection"] in texts
    assert ["'=Norra", "", "", "7", ""] in theme_rows  # the per-unit table (5 + SMS + panel)
    for row in answer_rows + theme_rows:
        assert not any(cell.startswith(FORMULA_PREFIXES) for cell in row), row
