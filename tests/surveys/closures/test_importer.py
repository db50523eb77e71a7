"""CSV import: parsing (pure), the use-case (idempotent, per-row rejections) and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback.core.models import AuditEvent
from surveys.closures.contact import VaultPhoneProtector
from surveys.closures.importer import ImportFileError, import_closures, masked_ref, parse_csv
from surveys.closures.models import Client, Closure
from surveys.plans.models import FollowUp
from tests.helpers import make_unit

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GOOD_AND_BAD = (
    "client_ref,phone,language,closed_on,reason,unit\n"  # line 1
    "K-1,070-123 45 67,sv,2026-02-01,work,\n"  # 2 ok
    "19811228-9874,070-123 45 68,sv,2026-02-01,work,\n"  # 3 personnummer
    "K-3,08-123 456 78,sv,2026-02-01,studies,\n"  # 4 landline
    "K-4,070-123 45 69,sv,2026-02-30,work,\n"  # 5 bad date
    "K-5,070-123 45 70,sv,2026-02-01,semester,\n"  # 6 unknown reason
    "K-1,070-123 45 67,sv,2026-02-01,work,\n"  # 7 duplicate of 2
    "K-7,,en,2026-01-15,studier,\n"  # 8 ok (Swedish reason, no phone)
)


def test_good_and_bad_rows_are_sorted_with_line_numbers_and_swedish_reasons() -> None:
    parsed = parse_csv(GOOD_AND_BAD.encode())
    assert [r.line for r in parsed.rows] == [2, 8]
    reasons = {r.line: r.reason for r in parsed.rejected}
    assert sorted(reasons) == [3, 4, 5, 6, 7]
    assert "personnummer" in reasons[3]
    assert "mobilnummer" in reasons[4]
    assert "ÅÅÅÅ-MM-DD" in reasons[5]
    assert "avslutsorsak" in reasons[6]
    assert "Dubblett" in reasons[7] and "rad 2" in reasons[7]


def test_the_report_never_echoes_a_personnummer() -> None:
    parsed = parse_csv(GOOD_AND_BAD.encode())
    rejected = next(r for r in parsed.rejected if r.line == 3)
    assert "9874" not in rejected.ref and "811228" not in rejected.ref
    assert rejected.ref == "XXXXXXXX-XXXX"
    assert "19811228" not in repr(parsed)
    assert masked_ref("K-12") == "K-12"


def test_excel_semicolon_export_with_bom_and_swedish_headers() -> None:
    text = "\ufeffKlientreferens;Telefon;Språk;Avslutsdatum;Avslutsorsak;Enhet\r\nA-1;0701234567;Svenska;2026-02-01;Arbete;fsd\r\n;;;;;\r\n"
    parsed = parse_csv(text.encode("utf-8"))
    assert parsed.delimiter == ";" and not parsed.rejected
    [row] = parsed.rows
    assert row.unit_code == "fsd" and row.data.client_ref == "A-1" and str(row.data.reason) == "work"


def test_windows_1252_export_is_read() -> None:
    text = "client_ref;closed_on;reason;language\nA-1;2026-02-01;work;lätt svenska\n"
    parsed = parse_csv(text.encode("cp1252"))
    assert [r.data.language for r in parsed.rows] == ["sv-easy"]


def test_missing_required_column_rejects_the_file() -> None:
    with pytest.raises(ImportFileError, match="closed_on"):
        parse_csv(b"client_ref,phone,reason\nK-1,0701234567,work\n")


def test_conflicting_phone_numbers_for_one_client_in_a_file_are_rejected() -> None:
    text = (
        "client_ref,phone,closed_on,reason\nK-1,0701234567,2026-01-01,work\nK-1,0707654321,2026-02-01,work\n"
    )
    parsed = parse_csv(text.encode())
    assert [r.line for r in parsed.rows] == [2]
    assert parsed.rejected[0].line == 3 and "rad 2" in parsed.rejected[0].reason


def test_quoted_field_with_newline_keeps_line_numbers_right() -> None:
    text = 'client_ref,closed_on,reason,kommentar\nK-1,2026-01-01,work,"två\nrader"\nK-2,2026-13-01,work,\n'
    parsed = parse_csv(text.encode())
    assert [r.line for r in parsed.rows] == [2]
    assert [r.line for r in parsed.rejected] == [4]


async def _import(session, settings, unit, content: bytes):
    parsed = parse_csv(content)
    report = await import_closures(
        session,
        parsed,
        default_unit_id=unit.id,
        units_by_code={unit.code.lower(): unit.id},
        phones=VaultPhoneProtector(settings),
        actor_id=None,
        now=NOW,
        min_gap_days=14,
    )
    await session.commit()
    return report


async def _counts(session) -> tuple[int, int, int]:
    return tuple(
        [await session.scalar(sa.select(sa.func.count()).select_from(t)) for t in (Client, Closure, FollowUp)]
    )


async def test_import_registers_good_rows_and_a_second_import_changes_nothing(db_session, settings) -> None:
    unit = await make_unit(db_session)
    report = await _import(db_session, settings, unit, GOOD_AND_BAD.encode())
    assert (report.created, report.updated, len(report.rejected)) == (2, 0, 5)
    before = await _counts(db_session)
    assert before[:2] == (2, 2)
    stored = await db_session.scalar(sa.select(Client).where(Client.client_ref == "K-1"))
    assert stored.phone_masked and "0701234567" not in (stored.phone_ciphertext or "")
    updated_at = {c.id: c.updated_at for c in await db_session.scalars(sa.select(Client))}

    again = await _import(db_session, settings, unit, GOOD_AND_BAD.encode())
    assert (again.created, again.updated, again.unchanged, len(again.rejected)) == (0, 0, 2, 5)
    assert await _counts(db_session) == before
    db_session.expire_all()
    assert {c.id: c.updated_at for c in await db_session.scalars(sa.select(Client))} == updated_at
    # no personnummer anywhere in the stored clients
    refs = list(await db_session.scalars(sa.select(Client.client_ref)))
    assert not any("19811228" in (r or "") for r in refs)


async def test_import_does_not_clear_a_do_not_contact_flag(db_session, settings) -> None:
    unit = await make_unit(db_session)
    await _import(db_session, settings, unit, b"client_ref,closed_on,reason\nK-1,2026-02-01,work\n")
    client = await db_session.scalar(sa.select(Client))
    client.do_not_contact = True
    await db_session.commit()
    report = await _import(db_session, settings, unit, b"client_ref,closed_on,reason\nK-1,2026-02-01,work\n")
    assert report.unchanged == 1
    db_session.expire_all()
    assert (await db_session.scalar(sa.select(Client))).do_not_contact is True


async def test_rows_for_other_units_are_rejected(db_session, settings) -> None:
    unit = await make_unit(db_session)
    content = (
        f"client_ref,closed_on,reason,unit\nK-1,2026-02-01,work,{unit.code}\nK-2,2026-02-01,work,annan\n"
    )
    report = await _import(db_session, settings, unit, content.encode())
    assert report.created == 1
    assert [(r.line, "enhet" in r.reason.lower()) for r in report.rejected] == [(3, True)]


async def test_future_closure_date_is_rejected_per_row(db_session, settings) -> None:
    unit = await make_unit(db_session)
    report = await _import(db_session, settings, unit, b"client_ref,closed_on,reason\nK-1,2030-01-01,work\n")
    assert [(r.line, "framtiden" in r.reason) for r in report.rejected] == [(2, True)]
    assert await _counts(db_session) == (0, 0, 0)


def test_cli_reports_rejections_and_exit_status(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    env = {
        **os.environ,
        "FEEDBACK_ENV": "test",
        "FEEDBACK_DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "FEEDBACK_LOG_JSON": "0",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "feedback", *args], env=env, capture_output=True, text=True, timeout=120
        )

    assert run("migrate").returncode == 0
    import asyncio

    from feedback.auth import services
    from feedback.core.db import create_engine, session_factory

    async def add_unit() -> None:
        engine = create_engine(env["FEEDBACK_DATABASE_URL"])
        async with session_factory(engine)() as session:
            await services.create_unit(session, code="fsd", name="Försörjningsstöd")
            await session.commit()
        await engine.dispose()

    asyncio.run(add_unit())
    csv_file = tmp_path / "avslut.csv"
    csv_file.write_bytes(("\ufeff" + GOOD_AND_BAD.replace(",", ";")).encode())
    first = run("import-closures", str(csv_file), "--unit", "fsd")
    assert first.returncode == 1, first.stderr
    assert "2 nya" in first.stdout and "5 avvisade" in first.stdout
    assert "rad 3 (XXXXXXXX-XXXX): Klientreferensen ser ut som ett personnummer" in first.stdout
    assert "19811228" not in first.stdout + first.stderr
    second = run("import-closures", str(csv_file), "--unit", "fsd")
    assert "0 nya, 0 ändrade, 2 oförändrade" in second.stdout
    good = tmp_path / "ok.csv"
    good.write_text("client_ref,closed_on,reason,unit\nK-9,2026-02-01,work,fsd\n", encoding="utf-8")
    assert run("import-closures", str(good)).returncode == 0
    unknown = run("import-closures", str(good), "--unit", "nope")
    assert unknown.returncode != 0 and "Okänd enhet" in unknown.stderr

    async def audit_count() -> int:
        engine = create_engine(env["FEEDBACK_DATABASE_URL"])
        async with session_factory(engine)() as session:
            n = await session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "closures.import")
            )
        await engine.dispose()
        return int(n or 0)

    assert asyncio.run(audit_count()) == 3
