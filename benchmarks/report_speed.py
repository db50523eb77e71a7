"""Theme report speed on 1 000 000 generated answers over a year (PostgreSQL).

Creates its own database next to FEEDBACK_TEST_POSTGRES_URL, migrates it, generates the open
answers with ``generate_series`` in SQL (the database triggers fill the report's compact copy
``report_theme_fact`` exactly as in production, in the same statements), then times the yearly theme
report (``build_theme_report``: every section, suppression included) for one unit and for all
units, against a plain ``SELECT count(*)`` over the same table in the same run. Drops the
database at the end, also on failure.

Figure lines (contract): ``report_year_unit_s``, ``report_year_all_s``, ``count_baseline_s``.
Targets: one unit ≤ 1 s, all units ≤ 2 s.

    .venv/bin/python -m benchmarks.report_speed [--answers 1000000] [--units 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime

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


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
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
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
