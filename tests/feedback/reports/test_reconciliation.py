"""Reconciliation: the theme report's totals equal a naive recount from the raw tables.

Answers are stored through the real SMS conversation and phone call (``answering.py``) for two
units, both followed-up reasons, four languages and both channels. The recount never reads the
attributes copied onto ``open_text``: it follows each open text back to its answer or call note,
its closure (unit, reason), its client (registered language) and its conversation (the language
the SMS was held in), and counts distinct closures per filter in Python. The report reads
``report_theme_fact``, so any attribute lost on the way (intake, copy, trigger) shows as a
difference. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role
from feedback.core.settings import Settings
from feedback.reports.filters import ReportFilters
from feedback.reports.queries import build_theme_report
from feedback.reports.suppression import MIN_PEOPLE
from feedback.themes.models import OpenTextTheme
from surveys.answers.models import OpenText, ThemingStatus
from tests.feedback.reports.answering import answer_by_phone, answer_by_sms, register
from tests.helpers import make_unit, make_user

SURVEYED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LANGUAGES = ("sv", "en", "ar", "so")

RAW = sa.text(
    """
    SELECT a.open_text_id AS text_id, c.id AS closure_id, c.unit_id AS unit_id, c.reason AS reason,
           CASE WHEN a.mode = 'phone' THEN cl.language ELSE cv.language END AS language,
           a.mode AS channel, a.wave_days AS wave
    FROM survey_answer a
    JOIN closure c ON c.id = a.closure_id
    JOIN client cl ON cl.id = c.client_id
    LEFT JOIN sms_conversation cv ON cv.follow_up_id = a.follow_up_id
    WHERE a.open_text_id IS NOT NULL
    UNION ALL
    SELECT ca.note_open_text_id, c.id, c.unit_id, c.reason, cl.language, 'phone', t.wave_days
    FROM call_attempt ca
    JOIN call_task t ON t.id = ca.task_id
    JOIN closure c ON c.id = t.closure_id
    JOIN client cl ON cl.id = c.client_id
    WHERE ca.note_open_text_id IS NOT NULL
    """
)


@dataclass(frozen=True)
class Raw:
    text_id: str
    closure_id: str
    unit_id: str
    reason: str
    language: str
    channel: str
    wave: int


async def _generate(session: AsyncSession, settings: Settings) -> list[uuid.UUID]:
    """Every unit × reason × language × channel once, plus extra Arabic calls and English SMS."""
    units = [await make_unit(session, name="Norra"), await make_unit(session, name="Södra")]
    caller = await make_user(session, Role.CASEWORKER, units)
    combos = list(itertools.product(range(2), ("work", "studies"), LANGUAGES, ("sms", "phone")))
    combos += [(0, "work", "ar", "phone"), (1, "studies", "ar", "phone"), (0, "studies", "en", "sms")]
    combos += [(1, "work", "en", "sms"), (0, "work", "so", "phone")]
    for number, (unit, reason, language, channel) in enumerate(combos, start=1):
        person = await register(
            session,
            settings,
            units[unit],
            number,
            language=language,
            reason=reason,
            now=SURVEYED - timedelta(days=31),
        )
        text = f"Stödet mot jobb hjälpte ({number})"
        if channel == "sms":
            await answer_by_sms(session, settings, person, text, now=SURVEYED)
        else:
            note = "Ville prata om praktiken" if number % 3 == 0 else ""
            await answer_by_phone(session, settings, person, caller.id, text, now=SURVEYED, note=note)
    # the worker's theming, by hand: every text is about support toward work, every other also treatment
    for i, row in enumerate(await session.scalars(sa.select(OpenText).order_by(OpenText.source_ref))):
        row.status = ThemingStatus.THEMED
        session.add(OpenTextTheme(open_text_id=row.id, theme_key="stod_till_arbete"))
        if i % 2 == 0:
            session.add(OpenTextTheme(open_text_id=row.id, theme_key="bemotande"))
    await session.commit()
    return [u.id for u in units]


FILTERS = {
    "alla": {},
    "Avslutsorsak = Arbete": {"closure_reason": "work"},
    "Avslutsorsak = Studier": {"closure_reason": "studies"},
    "Telefon + Arabiska": {"channel": "phone", "language": "ar"},
    "SMS + Engelska": {"channel": "sms", "language": "en"},
    "Somaliska": {"language": "so"},
    "Telefon": {"channel": "phone"},
    "30 dagar + Arbete": {"wave_days": 30, "closure_reason": "work"},
}


def _recount(
    raw: list[Raw], themes: dict[str, set[str]], units: tuple[str, ...], **f: object
) -> dict[str, int]:
    kept = [
        r
        for r in raw
        if (not units or r.unit_id in units)
        and all(
            getattr(r, {"closure_reason": "reason", "wave_days": "wave"}.get(k, k)) == v for k, v in f.items()
        )
    ]
    counts = {"total": len({r.closure_id for r in kept})}
    for key, text_ids in themes.items():
        counts[key] = len({r.closure_id for r in kept if r.text_id in text_ids})
    return counts


def _id(value: object) -> str:
    """An id as the same string on both drivers (text SQL gives hex on SQLite, UUID on PostgreSQL)."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


@pytest.mark.parametrize("unit_index", [None, 0], ids=["alla enheter", "en enhet"])
async def test_theme_report_totals_equal_a_recount_from_raw_tables(
    db_session: AsyncSession, settings: Settings, unit_index: int | None
) -> None:
    unit_ids = await _generate(db_session, settings)
    raw = [
        Raw(_id(r.text_id), _id(r.closure_id), _id(r.unit_id), r.reason, r.language, r.channel, r.wave)
        for r in await db_session.execute(RAW)
    ]
    assert (
        len({r.text_id for r in raw})
        == len(raw)
        == await db_session.scalar(sa.select(sa.func.count(OpenText.id)))
    )
    themes: dict[str, set[str]] = {}
    for text_id, key in await db_session.execute(
        sa.select(OpenTextTheme.open_text_id, OpenTextTheme.theme_key)
    ):
        themes.setdefault(key, set()).add(_id(text_id))
    units = () if unit_index is None else (_id(unit_ids[unit_index]),)
    for name, f in FILTERS.items():
        filters = ReportFilters(
            date_from=date(2026, 1, 1),
            date_to=date(2026, 6, 30),
            unit_ids=tuple(uuid.UUID(u) for u in units),
            **f,  # type: ignore[arg-type]
        )
        report = await build_theme_report(db_session, filters, None, now=NOW)
        truth = _recount(raw, themes, units, **f)
        published = {"total": report.respondents} | {t.key: t.respondents for t in report.themes}
        assert set(published) <= set(truth), (name, published)
        for key, value in truth.items():
            # a cell may be hidden (small, or hiding another: issue 14 item 1), never wrong
            assert published.get(key) in (value, None), (name, key, published, truth)
        if unit_index is None:  # every named filter reaches enough people to be published
            assert truth["stod_till_arbete"] >= MIN_PEOPLE, name
            assert published["stod_till_arbete"] == truth["stod_till_arbete"], (name, published, truth)
        if not f:
            assert published["total"] == truth["total"] >= MIN_PEOPLE, (published, truth)
