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
from sqlalchemy.exc import IntegrityError

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.db import create_engine, session_factory
from feedback.core.settings import Settings
from feedback.themes import decisions, pool, retraining
from feedback.themes.jobs import ThemingJob
from feedback.themes.models import OpenTextTheme, RetrainRequest, RetrainStatus
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
async def test_a_manager_label_wins_at_once_and_retrains_nothing_until_confirmed(env) -> None:
    """A label changes its own answer only: no retraining, no re-theming of the others, until a
    manager asks for a retraining, sees the preview and confirms it (then the label is training data)."""
    settings, maker, job = env
    async with maker() as s:
        unit = await make_unit(s)
        user = CurrentUser.from_user(await make_user(s, Role.MANAGER, [unit]))
        rows = await _register(s, unit.id)
    await job.tick()
    first_version = job.model_info["model_version"]
    async with maker() as s:
        before = {r.id: set(await _themes(s, r.id)) for r in rows}

    async with maker() as s:
        await decisions.relabel_answer(s, user=user, open_text_id=rows[2].id, theme_keys=["halsa"], now=NOW)
        await s.commit()
    assert await job.tick() == 0  # no retraining, nothing re-queued
    assert job.model_info["model_version"] == first_version
    async with maker() as s:
        assert set(await _themes(s, rows[2].id)) == {"halsa"}
        for r in rows[:2]:
            assert set(await _themes(s, r.id)) == before[r.id]
        pending = await s.scalar(sa.select(sa.func.count()).where(OpenText.status == ThemingStatus.PENDING))
        assert pending == 0

    request = await _request(maker)
    done = await _tick_until(job, maker, request.id)
    assert done.model_version != first_version
    manifest = json.loads((settings.model_dir / done.model_version / "manifest.json").read_text())
    assert manifest["label_counts"]["halsa"]["manager"] == 1
    async with maker() as s:
        themes = await _themes(s, rows[2].id)
        assert set(themes) == {"halsa"} and themes["halsa"].origin == "manager"


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
        pool._state.update(model=None, model_dir=None, other=None)
        await engine.dispose()


class Clock:
    """An injected clock the test moves by hand (no wall-clock time in assertions)."""

    def __init__(self, now: datetime) -> None:
        self.at = now

    def now(self) -> datetime:
        return self.at


async def _request(maker, *, now: datetime = NOW) -> RetrainRequest:
    async with maker() as s:
        row, created = await retraining.request_retrain(s, user_id=None, now=now)
        await s.commit()
        assert created
        return row


async def _get_request(maker, request_id: int) -> RetrainRequest:
    async with maker() as s:
        row = await s.get(RetrainRequest, request_id)
        assert row is not None
        return row


async def _confirm(maker, request_id: int, *, now: datetime = NOW) -> None:
    """The manager's yes on the preview (what the page's confirm button does)."""
    async with maker() as s:
        codebook = await decisions.current_codebook(s)
        await retraining.confirm(
            s, request_id=request_id, user_id=None, codebook_version=codebook.version, now=now
        )
        await s.commit()


async def _tick_until(job: ThemingJob, maker, request_id: int, *, max_ticks: int = 20) -> RetrainRequest:
    """Run worker ticks until the request is finished (a condition, not a sleep), confirming
    the preview when it is ready."""
    for _ in range(max_ticks):
        await job.tick()
        row = await _get_request(maker, request_id)
        if row.status == RetrainStatus.READY:
            await _confirm(maker, request_id)
        if row.status in (RetrainStatus.DONE, RetrainStatus.FAILED):
            return row
    raise AssertionError(f"request {request_id} still {row.status} after {max_ticks} ticks")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_the_worker_carries_out_a_retrain_request_in_batches(settings, tmp_path) -> None:
    """Train in the job's own pool, re-theme every answer batch by batch, keep the manager's rules."""
    engine = create_engine(settings.database_url)
    maker = session_factory(engine)
    clock = Clock(NOW)
    job = ThemingJob(settings, maker, now=clock.now, batch=2)
    try:
        async with maker() as s:
            unit = await make_unit(s)
            user = CurrentUser.from_user(await make_user(s, Role.MANAGER, [unit]))
            rows = await _register(s, unit.id)
        while await job.tick():
            pass
        first_version = job.model_info["model_version"]
        first_pid = job.model_info["pid"]
        async with maker() as s:  # a merge the retrained model must not undo
            await decisions.record_theme_event(
                s, user=user, kind="merge", payload={"key": "samverkan", "into": "fast_i_systemet"}, now=NOW
            )
            await decisions.relabel_answer(
                s, user=user, open_text_id=rows[0].id, theme_keys=["halsa"], now=NOW
            )
            await s.commit()
        async with maker() as s:
            before = {r.id: set(await _themes(s, r.id)) for r in rows}
        request = await _request(maker)

        clock.at = NOW.replace(hour=11)
        assert await job.tick() == 0  # trains a candidate and compares: nothing is written
        row = await _get_request(maker, request.id)
        assert row.status == RetrainStatus.READY and row.attempts == 1 and row.started_at == clock.at
        assert row.model_version != first_version and row.preview["total"] == len(ANSWERS)
        assert 0 <= row.preview["changed"] <= len(ANSWERS)
        assert job.model_info["model_version"] == first_version  # still the current model
        async with maker() as s:
            assert {r.id: set(await _themes(s, r.id)) for r in rows} == before
        assert await job.tick() == 0  # a ready preview waits for the manager
        assert (await _get_request(maker, request.id)).status == RetrainStatus.READY

        await _confirm(maker, request.id, now=clock.at)
        assert await job.tick() == 2  # makes the candidate current, re-queues all, first batch
        row = await _get_request(maker, request.id)
        assert row.status == RetrainStatus.THEMING and row.total == len(ANSWERS) and row.themed == 2
        assert row.model_version == job.model_info["model_version"] != first_version
        assert job.model_info["pid"] == first_pid  # the same pool
        assert job.more  # a full batch: the worker runs the job again on its next pass

        clock.at = NOW.replace(hour=12)
        assert await job.tick() == 1
        row = await _get_request(maker, request.id)
        assert row.status == RetrainStatus.DONE and row.finished_at == clock.at
        assert (row.themed, row.total, row.open_slot, row.error) == (3, 3, None, None)
        async with maker() as s:
            for answer in await s.scalars(sa.select(OpenText)):
                assert answer.status == ThemingStatus.THEMED
                assert answer.model_version == row.model_version
            assert set(await _themes(s, rows[0].id)) == {"halsa"}  # the manager's label wins
            stored = set(await s.scalars(sa.select(OpenTextTheme.theme_key).distinct()))
            assert "samverkan" not in stored and "fast_i_systemet" in stored  # merged stays merged
            change = await retraining.current_model(s)
            assert change.model_version == row.model_version and change.request_id == row.id
            assert change.at == clock.at and change.changed == row.preview["changed"]
        assert await job.tick() == 0 and not job.more  # nothing left, no new training
        assert job.model_info["model_version"] == row.model_version
    finally:
        await asyncio.to_thread(job.close)
        await engine.dispose()


async def test_a_second_request_while_one_is_open_is_not_queued(db_session) -> None:
    first, created = await retraining.request_retrain(db_session, user_id=None, now=NOW)
    await db_session.commit()
    again, created_again = await retraining.request_retrain(db_session, user_id=None, now=NOW)
    await db_session.commit()
    assert created and not created_again and again.id == first.id
    first.status = RetrainStatus.TRAINING  # running counts as open too
    await db_session.commit()
    assert not (await retraining.request_retrain(db_session, user_id=None, now=NOW))[1]
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(RetrainRequest)) == 1

    first_id = first.id
    # the database keeps it at one even when two clicks race past the check
    db_session.add(RetrainRequest(status=RetrainStatus.PENDING, open_slot=1, requested_at=NOW))
    with pytest.raises(IntegrityError):
        await db_session.flush()
    await db_session.rollback()

    first = await db_session.get(RetrainRequest, first_id)
    retraining.finish(first, now=NOW)
    await db_session.commit()
    latest, created = await retraining.request_retrain(db_session, user_id=None, now=NOW)
    await db_session.commit()
    assert created and latest.id != first_id  # once finished, a new request can be made
    assert (await retraining.latest_request(db_session)).id == latest.id


async def test_a_click_that_loses_the_race_gets_the_open_request(db_session, monkeypatch) -> None:
    winner, _ = await retraining.request_retrain(db_session, user_id=None, now=NOW)
    await db_session.commit()
    real_open = retraining.open_request
    calls = []

    async def blind_once(session):  # the loser checked before the winner committed
        calls.append(1)
        return None if len(calls) == 1 else await real_open(session)

    monkeypatch.setattr(retraining, "open_request", blind_once)
    got, created = await retraining.request_retrain(db_session, user_id=None, now=NOW)
    assert not created and got.id == winner.id
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(RetrainRequest)) == 1


def _in_process_job(settings, maker, clock) -> tuple[ThemingJob, ThreadPoolExecutor]:
    """A job whose pool functions run in this process, so a test can break them."""
    executor = ThreadPoolExecutor(1)
    pool.init(str(settings.model_dir))
    return ThemingJob(settings, maker, executor=executor, now=clock.now), executor


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_request_left_running_by_a_killed_worker_is_resumed(settings) -> None:
    engine = create_engine(settings.database_url)
    maker = session_factory(engine)
    clock = Clock(NOW)
    job, executor = _in_process_job(settings, maker, clock)
    try:
        async with maker() as s:
            unit = await make_unit(s)
            await _register(s, unit.id)
        # a worker was killed while training: the row says "training", nothing was re-queued
        request = await _request(maker)
        async with maker() as s:
            row = await s.get(RetrainRequest, request.id)
            retraining.start_training(row, now=NOW)
            await s.commit()
        done = await _tick_until(job, maker, request.id)  # a fresh worker's job
        assert done.status == RetrainStatus.DONE and done.attempts == 2 and done.total == len(ANSWERS)

        # killed while re-theming: the new model is saved, the answers still wait in the queue
        request = await _request(maker)
        async with maker() as s:
            row = await s.get(RetrainRequest, request.id)
            retraining.start_training(row, now=NOW)
            retraining.start_theming(row, model_version=done.model_version, total=len(ANSWERS))
            await s.execute(sa.update(OpenText).values(status=ThemingStatus.PENDING))
            await s.commit()
        restarted = ThemingJob(settings, maker, executor=executor, now=clock.now)
        clock.at = NOW.replace(hour=13)
        row = await _tick_until(restarted, maker, request.id)
        assert row.status == RetrainStatus.DONE and row.attempts == 1  # resumed, not retrained
        assert not restarted.model_info["trained"] and row.finished_at == clock.at
        async with maker() as s:
            versions = set(await s.scalars(sa.select(OpenText.model_version).distinct()))
        assert versions == {row.model_version}
    finally:
        executor.shutdown()
        pool._state.update(model=None, model_dir=None, other=None)
        await engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_request_that_cannot_be_done_fails_with_a_swedish_reason(settings, monkeypatch) -> None:
    engine = create_engine(settings.database_url)
    maker = session_factory(engine)
    clock = Clock(NOW)
    job, executor = _in_process_job(settings, maker, clock)
    try:
        async with maker() as s:
            unit = await make_unit(s)
            await _register(s, unit.id)
        assert await job.tick() == len(ANSWERS)  # the ordinary model, before training breaks

        def broken(*args, **kwargs):
            raise ValueError("no labels")

        monkeypatch.setattr(pool, "train_candidate", broken)
        request = await _request(maker)
        await job.tick()
        row = await _get_request(maker, request.id)
        assert row.status == RetrainStatus.FAILED and row.open_slot is None
        assert row.error == retraining.FAILED_TRAINING_SV and "gick inte att träna" in row.error

        # interrupted too often (each start counts): given up instead of crash-looping
        request = await _request(maker)
        async with maker() as s:
            await s.execute(
                sa.update(RetrainRequest)
                .where(RetrainRequest.id == request.id)
                .values(status=RetrainStatus.TRAINING, attempts=retraining.MAX_ATTEMPTS)
            )
            await s.commit()
        async with maker() as s:  # new answers are still themed by the current model
            await _register(s, unit.id, ANSWERS[:1], prefix="new")
        assert await job.tick() == 1
        row = await _get_request(maker, request.id)
        assert row.status == RetrainStatus.FAILED and row.error == retraining.FAILED_INTERRUPTED_SV
    finally:
        executor.shutdown()
        pool._state.update(model=None, model_dir=None, other=None)
        await engine.dispose()


def test_the_worker_runs_the_theming_job(tmp_path) -> None:
    settings = make_settings("sqlite+aiosqlite:///:memory:", tmp_path)
    jobs = {j.name: j for j in build_jobs(settings, session_factory(create_engine(settings.database_url)))}
    job = jobs["theme-open-text"]
    assert job.interval_s <= 60 and job.close is not None
    assert job.busy is not None and job.busy() is False  # nothing themed yet: wait the interval


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
