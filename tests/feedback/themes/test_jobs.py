"""The worker's theming job: pending open text is themed in one tick, in a process pool."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.themes import decisions, pool
from feedback.themes.jobs import ThemingJob
from feedback.themes.models import OpenTextTheme
from feedback.worker import build_jobs
from surveys.answers.models import OpenText, ThemingStatus
from surveys.answers.service import register_open_text
from tests.conftest import make_settings
from tests.helpers import make_unit, make_user

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

ANSWERS = [
    ("sms", "Bra bemötande men lång väntan på beslut"),
    ("phone", "Klienten berättar att AF och kommunen sa olika saker, hon skickades runt"),
    ("panel", "Praktiken ledde till jobb, jobbcoachen hjälpte mig med CV 😊"),
]


def _plain(text: str) -> str:
    return text


async def _register(session, unit_id, answers=ANSWERS, prefix="t") -> list[OpenText]:
    rows = [
        await register_open_text(
            session,
            channel=channel,
            source_ref=f"{prefix}:{i}",
            unit_id=unit_id,
            respondent_key=f"{prefix}-r{i}",
            text=text,
            received_at=NOW,
            redact=_plain,
        )
        for i, (channel, text) in enumerate(answers)
    ]
    await session.commit()
    return rows


async def _themes(session, row_id) -> dict[str, OpenTextTheme]:
    rows = await session.scalars(sa.select(OpenTextTheme).where(OpenTextTheme.open_text_id == row_id))
    return {t.theme_key: t for t in rows}


@pytest.fixture
async def env(settings: Settings):
    engine = create_engine(settings.database_url)
    maker = session_factory(engine)
    job = ThemingJob(settings, maker, now=lambda: NOW)
    try:
        yield settings, maker, job
    finally:
        await asyncio.to_thread(job.close)
        await engine.dispose()


async def test_pending_answers_from_every_channel_are_themed_in_one_tick(env) -> None:
    settings, maker, job = env
    async with maker() as s:
        unit = await make_unit(s)
        rows = await _register(s, unit.id)
    assert not (settings.model_dir / "current.json").exists()

    assert await job.tick() == len(ANSWERS)

    # first start: trained from the shipped data in the pool process and persisted without pickles
    info = job.model_info
    assert info["trained"] and info["pid"] != os.getpid()
    current = json.loads((settings.model_dir / "current.json").read_text())["model_version"]
    files = {p.name for p in (settings.model_dir / current).iterdir()}
    assert files == {"manifest.json", "arrays.npz"}
    assert not list(Path(settings.model_dir).rglob("*.pkl"))

    async with maker() as s:
        stored = {r.id: r for r in await s.scalars(sa.select(OpenText))}
        for row in rows:
            got = stored[row.id]
            assert got.status == ThemingStatus.THEMED
            assert got.model_version == current and got.codebook_version
            assert got.sentiment in {"pos", "neg", "neu", "mix"}
            assert got.attempts == 1 and got.themed_at is not None
        first = await _themes(s, rows[0].id)
        assert {"bemotande", "handlaggning"} <= set(first)
        assert first["bemotande"].sentiment == "pos"  # per mention: "bra bemötande" …
        assert first["handlaggning"].sentiment == "neg"  # … "men lång väntan"
        assert stored[rows[0].id].sentiment == "mix"
        assert first["handlaggning"].evidence and first["handlaggning"].origin == "model"
        assert 0 < first["handlaggning"].score <= 1
        assert "samverkan" in await _themes(s, rows[1].id)
        third = await _themes(s, rows[2].id)
        assert "stod_till_arbete" in third and third["stod_till_arbete"].sentiment == "pos"
    assert await job.tick() == 0  # nothing pending: no work, no retraining
    assert job.model_info["model_version"] == current


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_event_loop_keeps_running_while_the_pool_trains_and_assigns(env) -> None:
    _settings, maker, job = env
    async with maker() as s:
        unit = await make_unit(s)
        await _register(s, unit.id)
    beats: list[float] = []

    async def heartbeat() -> None:
        while True:
            beats.append(time.perf_counter())
            await asyncio.sleep(0.01)

    hb = asyncio.create_task(heartbeat())
    started = time.perf_counter()
    await job.tick()  # starts a spawn process, trains (seconds of CPU), themes
    took = time.perf_counter() - started
    hb.cancel()
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    assert took > 1.0  # real work happened …
    assert max(gaps) < min(1.0, took / 2), (max(gaps), took)  # … but never on the event loop
    assert len(beats) > took / 0.05


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_manager_label_wins_and_feeds_the_retrained_model(env) -> None:
    settings, maker, job = env
    async with maker() as s:
        unit = await make_unit(s)
        user = CurrentUser.from_user(await make_user(s, Role.MANAGER, [unit]))
        rows = await _register(s, unit.id)
    await job.tick()
    first_version = job.model_info["model_version"]

    async with maker() as s:
        await decisions.relabel_answer(s, user=user, open_text_id=rows[2].id, theme_keys=["halsa"], now=NOW)
        await s.commit()
    await job.tick()  # labels changed → retrain in the pool → every answer re-queued and re-themed
    assert job.model_info["trained"]
    assert job.model_info["model_version"] != first_version
    await job.tick()
    manifest = json.loads(
        (settings.model_dir / job.model_info["model_version"] / "manifest.json").read_text()
    )
    assert manifest["label_counts"]["halsa"]["manager"] == 1
    async with maker() as s:
        themes = await _themes(s, rows[2].id)
        assert set(themes) == {"halsa"} and themes["halsa"].origin == "manager"
        row = await s.get(OpenText, rows[2].id)
        assert row.status == ThemingStatus.THEMED
        assert row.model_version == job.model_info["model_version"]
        pending = await s.scalar(sa.select(sa.func.count()).where(OpenText.status == ThemingStatus.PENDING))
        assert pending == 0


async def test_a_failing_text_is_retried_and_does_not_block_the_others(
    sqlite_url, tmp_path, monkeypatch
) -> None:
    settings = make_settings(sqlite_url, tmp_path)
    engine = create_engine(settings.database_url)
    maker = session_factory(engine)
    executor = ThreadPoolExecutor(1)  # same process, so the model can be sabotaged
    job = ThemingJob(settings, maker, executor=executor, now=lambda: NOW)
    pool.init(str(settings.model_dir))
    try:
        async with maker() as s:
            unit = await make_unit(s)
            rows = await _register(s, unit.id, [*ANSWERS, ("sms", "BOOM")])
            await job.ensure_model(s)
        model = pool._state["model"]
        real_assign = model.assign

        def assign(text: str):
            if text == "BOOM":
                raise RuntimeError("kaputt")
            return real_assign(text)

        def assign_many(texts):
            return [assign(t) for t in texts]

        monkeypatch.setattr(model, "assign", assign)
        monkeypatch.setattr(model, "assign_many", assign_many)
        assert await job.tick() == len(ANSWERS)
        async with maker() as s:
            statuses = {r.id: (r.status, r.attempts) for r in await s.scalars(sa.select(OpenText))}
        assert statuses[rows[-1].id] == (ThemingStatus.PENDING, 1)
        assert all(statuses[r.id][0] == ThemingStatus.THEMED for r in rows[:-1])
        for _ in range(4):
            assert await job.tick() == 0
        async with maker() as s:
            failed = await s.get(OpenText, rows[-1].id)
            assert (failed.status, failed.attempts) == (ThemingStatus.FAILED, 5)
        assert await job.tick() == 0  # a failed row is not picked up again
    finally:
        executor.shutdown()
        pool._state.update(model=None, model_dir=None)
        await engine.dispose()


def test_the_worker_runs_the_theming_job(tmp_path) -> None:
    settings = make_settings("sqlite+aiosqlite:///:memory:", tmp_path)
    jobs = {j.name: j for j in build_jobs(settings, session_factory(create_engine(settings.database_url)))}
    job = jobs["theme-open-text"]
    assert job.interval_s <= 60 and job.close is not None


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in "ZX"  # exited (a zombie only waits for init to reap it)


def test_a_pool_process_exits_when_its_parent_is_killed(tmp_path) -> None:
    """A killed server (SIGKILL, out of memory) leaves no theming process behind."""
    import signal
    import subprocess
    import sys

    script = (
        "import multiprocessing, os, signal, sys\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from feedback.themes import pool\n"
        "ex = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn'),"
        " initializer=pool.init, initargs=(sys.argv[1],))\n"
        "print(ex.submit(os.getpid).result(), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    out = tmp_path / "out.txt"
    with out.open("w") as sink:  # a file, not a pipe: an orphan would keep a pipe open
        proc = subprocess.run(
            [sys.executable, "-c", script, str(tmp_path / "models")],
            stdout=sink,
            stderr=subprocess.STDOUT,
            timeout=120,
            cwd=Path(__file__).resolve().parents[3],
            check=False,
        )
    assert proc.returncode == -signal.SIGKILL, out.read_text()
    child = int(out.read_text().split()[0])
    deadline = time.monotonic() + 15
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        assert _gone(child), "the pool process outlived its killed parent"
    finally:
        if not _gone(child):
            os.kill(child, signal.SIGKILL)
