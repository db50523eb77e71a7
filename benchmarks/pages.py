"""Page and export latency at a large city's scale (PostgreSQL), against ``/health`` in the same run.

A large city closes ~10 000 cases to work or studies a year; this builds five years of that
(``benchmarks/large_city.py``: the demo year copied with new keys over 20 units and ~300 staff,
about 50 000 closures) in its own PostgreSQL database, then asks every page a caseworker,
manager, admin and panel member uses, logged in as that person, through the whole app (the same
middleware, session store and guards as in production; in process, so the figures are the app's
and not the network's). Each page is asked ``--repeat`` times after one warm-up request.

Figure lines (contract): ``page <path> p50_ms=… p95_ms=… status=…`` per page and export,
``health_p95_ms`` (the same-run baseline), ``pages_p95_max_ms`` and ``exports_max_s``.
Targets: every page p95 ≤ 250 ms, every export ≤ 3 s. Exit status 1 when a target is missed.

    .venv/bin/python -m benchmarks.pages [--closures 50000] [--repeat 20] [--demo-template DB] [--keep]

``--demo-template`` starts from an already seeded demo database (saves the seeding minute when
you iterate); ``--keep`` leaves the generated database for inspection and prints its name.
Run it on a quiet machine with ``nice``; report the load average next to the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from benchmarks import large_city
from feedback.core import migrate
from feedback.core.db import create_engine

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
DEMO_PASSWORD = "Uppfoljning-demo-2026"
PAGE_TARGET_MS = 250.0
EXPORT_TARGET_S = 3.0
UNIT_COPIES = 10  # the demo's two units become 20
YEARS = 5
CSRF_COOKIE = "uppf_csrf"


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _settings(url: str, tmp: Path) -> Any:
    from feedback.core.settings import Settings

    return Settings.from_env(
        {
            "FEEDBACK_ENV": "development",
            "FEEDBACK_DATABASE_URL": url,
            "FEEDBACK_MODEL_DIR": str(tmp / "models"),
            "FEEDBACK_SMS_GATEWAY": "fake",
            "FEEDBACK_LOG_LEVEL": "WARNING",
        }
    )


async def build(url: str, tmp: Path, *, closures: int, from_template: bool) -> dict[str, int]:
    """Seed (unless copied from a seeded template) and multiply to ``closures``; return row counts."""
    await asyncio.to_thread(migrate.upgrade, url)  # also brings an older seeded template to head
    if not from_template:
        from feedback.demo.accounts import seed_demo

        started = time.perf_counter()
        await seed_demo(_settings(url, tmp))
        print(f"# seeded the demo year in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            demo = int(await conn.scalar(sa.text("SELECT count(*) FROM closure")) or 0)
            copies = max(1, math.ceil(closures / max(demo, 1)))
            started = time.perf_counter()
            await large_city.multiply(conn, copies=copies, unit_copies=UNIT_COPIES, years=YEARS)
            password_hash = await conn.scalar(
                sa.text("SELECT password_hash FROM app_user WHERE password_hash IS NOT NULL LIMIT 1")
            )
            await large_city.add_staff_and_reads(conn, staff=300, reads=200_000, password_hash=password_hash)
            print(
                f"# copied the demo year {copies} times in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text("ANALYZE"))
            counts = {}
            for table in (
                "unit",
                "app_user",
                "closure",
                "sms_outbox",
                "survey_answer",
                "open_text",
                "audit_event",
            ):
                counts[table] = int(await conn.scalar(sa.text(f'SELECT count(*) FROM "{table}"')) or 0)
        return counts
    finally:
        await engine.dispose()


async def _ids(url: str) -> dict[str, str]:
    """Concrete ids for the detail pages, in the demo units (copy 0) the demo accounts see."""
    engine = create_engine(url)
    queries = {
        "closure": "SELECT c.id FROM closure c JOIN unit u ON u.id = c.unit_id WHERE u.code = 'fsd' "
        "ORDER BY c.closed_on DESC LIMIT 1",
        "case": "SELECT s.id FROM survey_case s JOIN unit u ON u.id = s.unit_id WHERE u.code = 'fsd' "
        "ORDER BY s.opened_at DESC LIMIT 1",
        "call": "SELECT t.id FROM call_task t JOIN unit u ON u.id = t.unit_id WHERE u.code = 'fsd' "
        "ORDER BY t.due_at DESC LIMIT 1",
        "review": "SELECT r.id FROM review r JOIN unit u ON u.id = r.unit_id WHERE u.code IN ('fsd', 'ame') LIMIT 1",
        "round": "SELECT r.id FROM panel_round r JOIN unit u ON u.id = r.unit_id WHERE u.code = 'fsd' LIMIT 1",
        "theme": "SELECT theme_key FROM open_text_theme GROUP BY theme_key ORDER BY count(*) DESC LIMIT 1",
    }
    try:
        async with engine.connect() as conn:
            return {name: str(await conn.scalar(sa.text(sql))) for name, sql in queries.items()}
    finally:
        await engine.dispose()


def _pages(ids: dict[str, str]) -> dict[str, list[tuple[str, bool]]]:
    """Per demo account: (path, is_export)."""
    return {
        "handlaggare@demo.uppfoljning.se": [
            ("/", False),
            ("/caseworker/closures", False),
            ("/caseworker/closures?sida=20", False),
            ("/caseworker/closures?ref=DEMO-01", False),
            (f"/caseworker/closures/{ids['closure']}", False),
            ("/caseworker/closures/ny", False),
            ("/caseworker/calls", False),
            (f"/caseworker/calls/{ids['call']}", False),
            ("/caseworker/cases", False),
            ("/caseworker/cases?visa=alla", False),
            (f"/caseworker/cases/{ids['case']}", False),
            ("/caseworker/inkorg", False),
            ("/api/closures", False),
        ],
        "chef@demo.uppfoljning.se": [
            ("/reports", False),
            ("/reports?kanal=sms&sprak=ar", False),
            ("/reports?orsak=work&vag=90", False),
            (f"/reports/svar?tema={ids['theme']}", False),
            ("/reports/arenden", False),
            ("/api/reports/themes", False),
            ("/themes", False),
            (f"/themes/t/{ids['theme']}", False),
            ("/reviews", False),
            (f"/reviews/{ids['review']}", False),
            ("/panel/manage", False),
            (f"/panel/manage/rounds/{ids['round']}", False),
            ("/reports/print", True),
            ("/reports/svar.csv", True),
            ("/reports/teman.csv", True),
            ("/reports/rapport.pdf", True),
            (f"/reviews/{ids['review']}/oversyn.pdf", True),
        ],
        "admin@demo.uppfoljning.se": [
            ("/admin", False),
            ("/admin/users", False),
            ("/admin/units", False),
            ("/admin/radering", False),
        ],
        "panel@demo.uppfoljning.se": [
            ("/panel", False),
            (f"/panel/rounds/{ids['round']}", False),
        ],
    }


async def _login(client: Any, email: str) -> None:
    await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "email": email,
            "password": DEMO_PASSWORD,
            "next": "/",
            "_csrf_token": client.cookies[CSRF_COOKIE],
        },
    )
    if response.status_code not in (200, 303):
        raise RuntimeError(f"login as {email} gave {response.status_code}")


async def _time(client: Any, path: str, repeat: int) -> tuple[list[float], int]:
    await client.get(path)  # warm-up: first-use caches, template compilation
    samples, status = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = await client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return samples, status


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1] if len(samples) > 1 else samples[0]


async def measure(url: str, tmp: Path, repeat: int) -> bool:
    from litestar.testing import AsyncTestClient

    from feedback.web.app import create_app

    logging.getLogger("weasyprint").setLevel(logging.WARNING)
    ids = await _ids(url)
    app = create_app(_settings(url, tmp))
    ok = True
    worst_page = worst_export = 0.0
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as anonymous:
        health, _ = await _time(anonymous, "/health", repeat)
    health_p95 = _p95(health)
    print(f"health_p50_ms: {statistics.median(health):.1f}")
    print(f"health_p95_ms: {health_p95:.1f}")
    for email, pages in _pages(ids).items():
        async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as client:
            await _login(client, email)
            for path, is_export in pages:
                samples, status = await _time(client, path, max(3, repeat // 5) if is_export else repeat)
                p50, p95 = statistics.median(samples), _p95(samples)
                kind = "export" if is_export else "page"
                print(f"{kind} {path} p50_ms={p50:.0f} p95_ms={p95:.0f} vs_health={p95 / max(health_p95, 1e-3):.0f}x "
                      f"status={status} as={email.split('@')[0]}")  # fmt: skip
                if status != 200:
                    ok = False
                if is_export:
                    worst_export = max(worst_export, p95 / 1000)
                else:
                    worst_page = max(worst_page, p95)
    print(f"pages_p95_max_ms: {worst_page:.0f} (target ≤ {PAGE_TARGET_MS:.0f})")
    print(f"exports_max_s: {worst_export:.2f} (target ≤ {EXPORT_TARGET_S:.0f})")
    return ok and worst_page <= PAGE_TARGET_MS and worst_export <= EXPORT_TARGET_S


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--closures", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--demo-template", help="an already seeded demo database to start from")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    args = parser.parse_args(argv)
    base = os.environ.get("FEEDBACK_TEST_POSTGRES_URL", DEFAULT_URL)
    name = f"uppf_bench_pages_{uuid.uuid4().hex[:8]}"
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    template = f' TEMPLATE "{args.demo_template}"' if args.demo_template else ""
    await _admin(base, f'CREATE DATABASE "{name}"{template}')
    print(f"# load average {open('/proc/loadavg').read().split()[:3]}", file=sys.stderr)
    try:
        with tempfile.TemporaryDirectory(prefix="uppf-bench-pages-") as tmp:
            started = time.perf_counter()
            counts = await build(
                url, Path(tmp), closures=args.closures, from_template=bool(args.demo_template)
            )
            print(f"# built in {time.perf_counter() - started:.0f} s: "
                  + ", ".join(f"{k} {v}" for k, v in counts.items()), file=sys.stderr)  # fmt: skip
            ok = await measure(url, Path(tmp), args.repeat)
    finally:
        if args.keep:
            print(f"# kept database {name}", file=sys.stderr)
        else:
            await _admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"# load average {open('/proc/loadavg').read().split()[:3]}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
