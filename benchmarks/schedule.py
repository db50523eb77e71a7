"""Plan expansion for 100 000 closures and the due-follow-ups query with 100k future rows.

    python benchmarks/schedule.py [--db sqlite|postgres|both] [--n 100000]

Figures (one per line, ``name: value unit db=…``):

* ``schedule_expand_100k_s`` – ``surveys.plans.service.expand_new_closures`` for N closures
  (window/catch-up/gap rules per closure + bulk INSERT of 4 follow-ups each), committed;
* ``schedule_baseline_insert_100k_s`` – same-run baseline: a plain bulk INSERT of the same number
  of precomputed follow-up rows (what the expansion costs beyond writing its rows);
* ``due_query_ms`` – median of the scheduler's due query (``surveys.plans.scheduler.due_query``)
  with N×4 future follow-ups and 50 due ones;
* ``due_query_fullscan_ms`` – same-run baseline: the same query with the index disabled.

The PostgreSQL run uses a throw-away database on FEEDBACK_TEST_POSTGRES_URL (default
postgresql+asyncpg://postgres@127.0.0.1:5432/test). Machine noise: run twice, compare.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedback.auth.models import Unit  # noqa: E402
from feedback.core import migrate  # noqa: E402
from feedback.core.db import create_engine, session_factory, utcnow  # noqa: E402
from surveys.closures.models import Client, Closure, ClosureReason  # noqa: E402
from surveys.plans import service as plans  # noqa: E402
from surveys.plans.models import FollowUp  # noqa: E402
from surveys.plans.scheduler import due_query  # noqa: E402

PG_URL = os.environ.get("FEEDBACK_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
CHUNK = 5_000


async def _seed(url: str, n: int) -> tuple[uuid.UUID, list[SimpleNamespace]]:
    """Unit, plan, N clients and closures (closed today: every wave lies in the future)."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            unit = Unit(code=f"bench{uuid.uuid4().hex[:6]}", name="Benchmark")
            session.add(unit)
            await session.flush()
            await plans.active_plan(session, unit.id)
            now = utcnow()
            closures = []
            for start in range(0, n, CHUNK):
                clients, rows = [], []
                for i in range(start, min(n, start + CHUNK)):
                    client_id, closure_id = uuid.uuid4(), uuid.uuid4()
                    reason = ClosureReason.WORK if i % 2 else ClosureReason.STUDIES
                    clients.append(
                        {
                            "id": client_id,
                            "unit_id": unit.id,
                            "client_ref": f"B-{i}",
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    rows.append(
                        {
                            "id": closure_id,
                            "client_id": client_id,
                            "unit_id": unit.id,
                            "closed_on": TODAY,
                            "reason": reason,
                            "registered_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    closures.append(
                        SimpleNamespace(
                            id=closure_id,
                            client_id=client_id,
                            unit_id=unit.id,
                            closed_on=TODAY,
                            reason=reason,
                            returned_on=None,
                        )
                    )
                await session.execute(sa.insert(Client), clients)
                await session.execute(sa.insert(Closure), rows)
            await session.commit()
            return unit.id, closures
    finally:
        await engine.dispose()


async def _expand(url: str, unit_id: uuid.UUID, closures: list[SimpleNamespace]) -> float:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            plan = await plans.active_plan(session, unit_id)
            started = time.perf_counter()
            for start in range(0, len(closures), CHUNK):
                await plans.expand_new_closures(
                    session, closures[start : start + CHUNK], plan, today=TODAY, min_gap_days=14
                )
            await session.commit()
            return time.perf_counter() - started
    finally:
        await engine.dispose()


async def _baseline_insert(url: str, unit_id: uuid.UUID, closures: list[SimpleNamespace]) -> float:
    """The rows the expansion would write, precomputed (untimed), then a plain bulk INSERT."""
    from surveys.plans.expansion import expand

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            plan = await plans.active_plan(session, unit_id)
            specs = plans.plan_specs(plan)
            rows = [
                plans._row(c, plan, slot)
                for c in closures
                for slot in expand(c.closed_on, specs, today=TODAY, min_gap_days=14)
            ]
            started = time.perf_counter()
            for start in range(0, len(rows), CHUNK * 4):
                await session.execute(sa.insert(FollowUp), rows[start : start + CHUNK * 4])
            await session.commit()
            return time.perf_counter() - started
    finally:
        await engine.dispose()


async def _due(
    url: str, closures: list[SimpleNamespace], *, dialect: str, runs: int = 25
) -> tuple[float, float, str]:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            # 50 follow-ups due today among the future ones (a realistic morning).
            ids = list(
                await session.scalars(sa.select(FollowUp.id).where(FollowUp.wave_days == 30).limit(50))
            )
            await session.execute(sa.update(FollowUp).where(FollowUp.id.in_(ids)).values(due_on=TODAY))
            await session.commit()
            if dialect == "postgresql":
                await session.execute(sa.text("ANALYZE follow_up"))
            else:
                await session.execute(sa.text("ANALYZE"))
            await session.commit()
            query = due_query(TODAY, 200)

            async def timed(q: sa.Select) -> float:
                samples = []
                for _ in range(runs):
                    started = time.perf_counter()
                    rows = (await session.execute(q)).all()
                    samples.append((time.perf_counter() - started) * 1000)
                    assert len(rows) == 50, len(rows)
                return statistics.median(samples)

            indexed = await timed(query)
            compiled = query.compile(dialect=session.bind.dialect, compile_kwargs={"literal_binds": True})
            plan = "\n".join(
                str(r[-1])
                for r in await session.execute(
                    sa.text(
                        ("EXPLAIN " if dialect == "postgresql" else "EXPLAIN QUERY PLAN ") + str(compiled)
                    )
                )
            )
            if dialect == "postgresql":
                await session.execute(sa.text("SET enable_indexscan = off"))
                await session.execute(sa.text("SET enable_bitmapscan = off"))
                await session.execute(sa.text("SET enable_indexonlyscan = off"))
                # new SQL text, so asyncpg prepares (and plans) it again under these settings
                raw = "/* fullscan */ " + str(compiled)
                full = await timed(sa.text(raw).columns(*FollowUp.__table__.columns))
            else:
                raw = str(compiled).replace("FROM follow_up", "FROM follow_up NOT INDEXED", 1)
                full = await timed(sa.text(raw).columns(*FollowUp.__table__.columns))
            await session.rollback()
            return indexed, full, plan
    finally:
        await engine.dispose()


async def _pg_database() -> tuple[str, str]:
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"uppf_bench_{uuid.uuid4().hex[:8]}"
    dsn = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name, make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def _pg_drop(name: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    dsn = make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def run(db: str, url: str, baseline_url: str, n: int) -> None:
    """Seed ``url`` and ``baseline_url`` identically; expand in one, plain-insert in the other."""
    label = f"{n // 1000}k"
    for target in (url, baseline_url):
        migrate.upgrade(target)
    unit_id, closures = asyncio.run(_seed(url, n))
    _, twins = asyncio.run(_seed_like(baseline_url, unit_id, closures))
    baseline = asyncio.run(_baseline_insert(baseline_url, unit_id, twins))
    expand_s = asyncio.run(_expand(url, unit_id, closures))
    dialect = "postgresql" if db == "postgres" else "sqlite"
    due_ms, full_ms, plan = asyncio.run(_due(url, closures, dialect=dialect))
    print(f"schedule_expand_{label}_s: {expand_s:.2f} s db={db}", flush=True)
    print(f"schedule_baseline_insert_{label}_s: {baseline:.2f} s db={db}", flush=True)
    print(f"due_query_ms: {due_ms:.2f} ms db={db} rows={n * 4}", flush=True)
    print(f"due_query_fullscan_ms: {full_ms:.2f} ms db={db}", flush=True)
    uses_index = "ix_follow_up_status_due_on" in plan
    print(f"# {db} due-query plan uses ix_follow_up_status_due_on: {uses_index}", flush=True)


async def _seed_like(
    url: str, unit_id: uuid.UUID, closures: list[SimpleNamespace]
) -> tuple[uuid.UUID, list[SimpleNamespace]]:
    """The same unit, plan and closures in a second database (the baseline's)."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            session.add(Unit(id=unit_id, code=f"bench{uuid.uuid4().hex[:6]}", name="Benchmark"))
            await session.flush()
            await plans.active_plan(session, unit_id)
            now = utcnow()
            for start in range(0, len(closures), CHUNK):
                chunk = closures[start : start + CHUNK]
                await session.execute(
                    sa.insert(Client),
                    [
                        {
                            "id": c.client_id,
                            "unit_id": unit_id,
                            "client_ref": f"B-{i}",
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i, c in enumerate(chunk, start)
                    ],
                )
                await session.execute(
                    sa.insert(Closure),
                    [
                        {
                            "id": c.id,
                            "client_id": c.client_id,
                            "unit_id": unit_id,
                            "closed_on": c.closed_on,
                            "reason": c.reason,
                            "registered_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for c in chunk
                    ],
                )
            await session.commit()
            return unit_id, closures
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run(
                "sqlite",
                f"sqlite+aiosqlite:///{Path(tmp) / 'a.db'}",
                f"sqlite+aiosqlite:///{Path(tmp) / 'b.db'}",
                args.n,
            )
    if args.db in ("postgres", "both"):
        try:
            (name, url), (name_b, url_b) = asyncio.run(_pg_database()), asyncio.run(_pg_database())
        except Exception as exc:  # unreachable server: say so, keep the SQLite figures
            print(f"# PostgreSQL unreachable ({type(exc).__name__}): skipped", file=sys.stderr)
            return
        try:
            run("postgres", url, url_b, args.n)
        finally:
            asyncio.run(_pg_drop(name))
            asyncio.run(_pg_drop(name_b))


if __name__ == "__main__":
    main()
