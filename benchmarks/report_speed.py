"""Theme report speed on 1 000 000 generated answers over a year (PostgreSQL).

Creates its own database next to FEEDBACK_TEST_POSTGRES_URL, migrates it, generates the open
answers with ``generate_series`` in SQL (the database triggers fill the report's compact copy
``report_theme_fact`` exactly as in production, in the same statements), then times the yearly theme
report (``build_theme_report``: every section, suppression included) for one unit and for all
units, against a plain ``SELECT count(*)`` over the same table in the same run. Drops the
database at the end, also on failure.

Figure lines (contract): ``report_year_unit_s``, ``report_year_all_s``, ``count_baseline_s``.
Targets: one unit ≤ 1 s, all units ≤ 2 s.

The PDF part seeds the demo year into a temporary SQLite file with the code ``feedback seed-demo``
runs, then times the manager's whole-year PDF (report, printable HTML and WeasyPrint, as the
``/reports/rapport.pdf`` route does, without HTTP) against the same report rendered as HTML only,
in the same run. Figure lines: ``report_pdf_s`` (target ≤ 3 s), ``report_pdf_html_baseline_s``,
``report_pdf_cpu_s`` (this process's CPU time for one PDF: less sensitive to a busy machine than
the wall clock) and ``report_pdf_first_s`` (the first PDF of a process, WeasyPrint import and font
loading included). ``--only-pdf`` runs just that part (no PostgreSQL needed).

    .venv/bin/python -m benchmarks.report_speed [--answers 1000000] [--units 10] [--repeat 3] [--only-pdf]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from feedback.core import migrate
from feedback.core.db import create_engine, session_factory
from feedback.reports.filters import ReportFilters
from feedback.reports.queries import build_theme_report

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
THEMES = ["bemotande", "samverkan", "fast_i_systemet", "ekonomisk_trygghet", "handlaggning",
          "stod_till_arbete", "halsa", "delaktighet", "annat"]  # fmt: skip


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def generate(url: str, answers: int, units: int) -> list[uuid.UUID]:
    """Units, then ``answers`` open texts spread over 2026 with 1–2 themes each."""
    engine = create_engine(url)
    unit_ids = [uuid.uuid4() for _ in range(units)]
    try:
        async with engine.begin() as conn:
            for i, unit_id in enumerate(unit_ids):
                await conn.execute(
                    sa.text(
                        "INSERT INTO unit (id, code, name, is_active, created_at, updated_at) "
                        "VALUES (:id, :code, :name, true, now(), now())"
                    ),
                    {"id": unit_id, "code": f"bench{i}", "name": f"Enhet {i}"},
                )
            units_array = "ARRAY[" + ",".join(f"'{u}'::uuid" for u in unit_ids) + "]"
            themes_array = "ARRAY[" + ",".join(f"'{t}'" for t in THEMES) + "]"
            # Respondents answer about five times a year: ~answers/5 distinct keys.
            await conn.execute(
                sa.text(f"""
                INSERT INTO open_text (id, channel, source_ref, unit_id, respondent_key, received_at,
                    language, wave_days, closure_reason, question_key, text_redacted, quote_consent,
                    status, sentiment, attempts)
                SELECT gen_random_uuid(),
                       (ARRAY['sms','sms','sms','phone','panel'])[1 + (g % 5)],
                       'bench:' || g,
                       ({units_array})[1 + (g % {units})],
                       md5((g % {max(answers // 5, 1)})::text),
                       timestamptz '2026-01-01 00:00:00+00' + (g % 525600) * interval '1 minute',
                       (ARRAY['sv','sv','sv','en','ar','so'])[1 + (g % 6)],
                       (ARRAY[30, 90, 180, 365])[1 + (g % 4)],
                       (ARRAY['work','work','studies'])[1 + (g % 3)],
                       'improve',
                       'Genererat svar nummer ' || g,
                       (g % 7 = 0),
                       'themed',
                       (ARRAY['pos','neu','neg'])[1 + (g % 3)],
                       0
                FROM generate_series(1, {answers}) AS g
                """)
            )
            await conn.execute(
                sa.text(f"""
                INSERT INTO open_text_theme (open_text_id, theme_key, score, sentiment, evidence, origin)
                SELECT id, ({themes_array})[1 + (abs(hashtext(source_ref)) % {len(THEMES)})], 0.9, sentiment, '[]'::json, 'model'
                FROM open_text
                UNION ALL
                SELECT id, ({themes_array})[1 + (abs(hashtext(source_ref || 'b')) % {len(THEMES)})], 0.6, NULL, '[]'::json, 'model'
                FROM open_text WHERE abs(hashtext(source_ref)) % 3 = 0
                ON CONFLICT DO NOTHING
                """)
            )
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("VACUUM ANALYZE open_text"))
            await conn.execute(sa.text("VACUUM ANALYZE open_text_theme"))
            await conn.execute(sa.text("VACUUM ANALYZE report_theme_fact"))
    finally:
        await engine.dispose()
    return unit_ids


async def measure(url: str, unit_ids: list[uuid.UUID], repeat: int) -> dict[str, float]:
    engine = create_engine(url)
    year = ReportFilters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    now = datetime(2027, 1, 15, tzinfo=UTC)
    results: dict[str, list[float]] = {
        "count_baseline_s": [],
        "report_year_unit_s": [],
        "report_year_all_s": [],
    }
    try:
        async with session_factory(engine)() as session:
            # warm-up: connection, statement cache, codebook load
            await build_theme_report(session, year, frozenset(unit_ids[:1]), now=now)
            for _ in range(repeat):
                started = time.perf_counter()
                total = await session.scalar(sa.text("SELECT count(*) FROM open_text"))
                results["count_baseline_s"].append(time.perf_counter() - started)
                started = time.perf_counter()
                one = await build_theme_report(session, year, frozenset(unit_ids[:1]), now=now)
                results["report_year_unit_s"].append(time.perf_counter() - started)
                started = time.perf_counter()
                every = await build_theme_report(session, year, frozenset(unit_ids), now=now)
                results["report_year_all_s"].append(time.perf_counter() - started)
            print(f"# rows: {total} answers; one unit: {one.respondents} respondents, "
                  f"{len(one.themes)} themes; all units: {every.respondents} respondents", file=sys.stderr)  # fmt: skip
    finally:
        await engine.dispose()
    return {name: statistics.median(values) for name, values in results.items()}


DEMO_MANAGER = "chef@demo.uppfoljning.se"
PDF_TARGET_S = 3.0


async def measure_pdf(repeat: int) -> dict[str, float]:
    """Seed the demo year into a temporary SQLite file, then time the manager's yearly PDF."""
    from feedback.auth.identity import CurrentUser
    from feedback.auth.models import User
    from feedback.core.settings import Settings
    from feedback.demo.accounts import seed_demo
    from feedback.reports import exports
    from feedback.reports.filters import STOCKHOLM, parse_filters
    from feedback.reports.summary import build_summary
    from feedback.web.app import create_app
    from feedback.web.reports import pdf_html, scope_of
    from surveys.closures.models import LANGUAGE_LABELS_SV, REASON_LABELS_SV

    with tempfile.TemporaryDirectory(prefix="uppf-bench-pdf-") as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        settings = Settings.from_env(
            {
                "FEEDBACK_ENV": "development",
                "FEEDBACK_DATABASE_URL": url,
                "FEEDBACK_MODEL_DIR": str(Path(tmp) / "models"),
                "FEEDBACK_SMS_GATEWAY": "fake",
                "FEEDBACK_LOG_LEVEL": "WARNING",
            }
        )
        await asyncio.to_thread(migrate.upgrade, url)
        started = time.perf_counter()
        await seed_demo(settings)  # the same code as `feedback seed-demo`
        print(f"# seeded the demo year in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        templates = create_app(settings).template_engine
        logging.getLogger("weasyprint").setLevel(logging.WARNING)  # one INFO line per page otherwise
        engine = create_engine(url)
        now = datetime.now(UTC)
        filters = parse_filters(  # the page's default: the demo year
            {},
            today=now.astimezone(STOCKHOLM).date(),
            reasons=[str(r) for r in REASON_LABELS_SV],
            languages=[str(k) for k in LANGUAGE_LABELS_SV],
        )
        results: dict[str, list[float]] = {
            "report_pdf_s": [],
            "report_pdf_html_baseline_s": [],
            "report_pdf_cpu_s": [],
        }
        try:
            async with session_factory(engine)() as session:
                manager = await session.scalar(sa.select(User).where(User.email == DEMO_MANAGER))
                assert manager is not None, "the demo seed creates the manager"
                user = CurrentUser.from_user(manager)

                async def html() -> str:
                    report = await build_theme_report(session, filters, scope_of(user), now=now)
                    summary = await build_summary(session, filters, scope_of(user), report, now=now)
                    return await pdf_html(session, user, filters, report, templates, None, summary)

                started = time.perf_counter()
                first = exports.pdf_bytes(await html(), "http://127.0.0.1/")
                first_s = time.perf_counter() - started
                for _ in range(repeat):
                    started = time.perf_counter()
                    await html()
                    results["report_pdf_html_baseline_s"].append(time.perf_counter() - started)
                    started, cpu = time.perf_counter(), time.process_time()
                    pdf = exports.pdf_bytes(await html(), "http://127.0.0.1/")
                    results["report_pdf_s"].append(time.perf_counter() - started)
                    results["report_pdf_cpu_s"].append(time.process_time() - cpu)
                print(f"# period {filters.date_from} – {filters.date_to}; PDF {len(pdf)} bytes "
                      f"(first {len(first)} bytes)", file=sys.stderr)  # fmt: skip
        finally:
            await engine.dispose()
    figures = {name: statistics.median(values) for name, values in results.items()}
    figures["report_pdf_first_s"] = first_s
    return figures


def print_pdf(figures: dict[str, float]) -> bool:
    for name in ("report_pdf_s", "report_pdf_html_baseline_s", "report_pdf_cpu_s", "report_pdf_first_s"):
        print(f"{name}: {figures[name]:.3f} s")
    base_s = max(figures["report_pdf_html_baseline_s"], 1e-9)
    print(f"report_pdf_vs_html: {figures['report_pdf_s'] / base_s:.1f} x")
    return figures["report_pdf_s"] <= PDF_TARGET_S


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only-pdf", action="store_true", help="only the demo-year PDF part (SQLite)")
    args = parser.parse_args(argv)
    pdf_ok = print_pdf(await measure_pdf(args.repeat))
    if args.only_pdf:
        return 0 if pdf_ok else 1
    base = os.environ.get("FEEDBACK_TEST_POSTGRES_URL", DEFAULT_URL)
    name = f"uppf_bench_reports_{uuid.uuid4().hex[:8]}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    await _admin(base, f'CREATE DATABASE "{name}"')
    try:
        await asyncio.to_thread(migrate.upgrade, url)
        started = time.perf_counter()
        unit_ids = await generate(url, args.answers, args.units)
        print(f"# generated {args.answers} answers in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        figures = await measure(url, unit_ids, args.repeat)
    finally:
        await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"count_baseline_s: {figures['count_baseline_s']:.3f} s")
    print(f"report_year_unit_s: {figures['report_year_unit_s']:.3f} s")
    print(f"report_year_all_s: {figures['report_year_all_s']:.3f} s")
    base_s = max(figures["count_baseline_s"], 1e-9)
    print(f"report_year_unit_vs_count: {figures['report_year_unit_s'] / base_s:.1f} x")
    print(f"report_year_all_vs_count: {figures['report_year_all_s'] / base_s:.1f} x")
    ok = figures["report_year_unit_s"] <= 1.0 and figures["report_year_all_s"] <= 2.0
    return 0 if ok and pdf_ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
