"""Durable theme decisions: merges, renames and moves survive retraining; rejects stay rejected."""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.core.db import create_engine, session_factory
from feedback.core.errors import Forbidden, InvalidInput, NotFound
from feedback.core.settings import Settings
from feedback.themes import decisions, pool, proposals, retraining
from feedback.themes.jobs import ThemingJob
from feedback.themes.models import AnswerLabel, OpenTextTheme, RetrainRequest, RetrainStatus
from surveys.answers.models import OpenText
from surveys.answers.service import register_open_text
from tests.helpers import make_unit, make_user

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

TEXTS = [
    "Min handläggare lyssnade verkligen på mig",
    "Det tog tre veckor att få ett beslut",
    "Svårt att komma fram på telefontiden",
    "Arbetsförmedlingen och kommunen sa olika saker",
    "Praktiken ledde till anställning",
    "Jobbcoachen hjälpte mig med CV",
]
TOLK = [
    "fick ingen tolk på mötet",
    "tolken kom aldrig",
    "behövde tolk men fick ingen tolk",
    "tolken förstod inte min dialekt",
    "utan tolk förstod jag ingenting",
    "tolken var sen igen",
    "tolk via telefon fungerade dåligt",
    "tolken översatte fel",
]


def _plain(text: str) -> str:
    return text


async def _answers(session: AsyncSession, unit_id, texts, prefix: str = "a") -> list[OpenText]:
    rows = []
    for i, text in enumerate(texts):
        rows.append(
            await register_open_text(
                session,
                channel="sms",
                source_ref=f"{prefix}:{i}",
                unit_id=unit_id,
                respondent_key=f"{prefix}-r{i}",
                text=text,
                received_at=NOW,
                redact=_plain,
            )
        )
    await session.commit()
    return rows


async def _keys(session: AsyncSession, open_text_id) -> set[str]:
    return set(
        await session.scalars(
            sa.select(OpenTextTheme.theme_key).where(OpenTextTheme.open_text_id == open_text_id)
        )
    )


async def _retrain(settings: Settings) -> RetrainRequest:
    """Retrain the way the themes page does: record a request, let the worker's job make the
    preview, confirm it as the manager does, and let the job apply it."""
    engine = create_engine(settings.database_url)
    maker = session_factory(engine)
    executor = ThreadPoolExecutor(1)
    job = ThemingJob(settings, maker, executor=executor, now=lambda: NOW)
    try:
        async with maker() as s:
            request, _ = await retraining.request_retrain(s, user_id=None, now=NOW)
            await s.commit()
        for _ in range(20):
            await job.tick()
            async with maker() as s:
                row = await s.get(RetrainRequest, request.id)
                if row is not None and row.status == RetrainStatus.READY:
                    codebook = await decisions.current_codebook(s)
                    await retraining.confirm(
                        s, request_id=row.id, user_id=None, codebook_version=codebook.version, now=NOW
                    )
                    await s.commit()
            if row is not None and row.status == RetrainStatus.DONE:
                return row
        raise AssertionError("the retrain request did not finish")
    finally:
        await asyncio.to_thread(executor.shutdown)
        await engine.dispose()


@pytest.fixture
def in_process_pool(settings: Settings):
    """The theming pool's functions run in a thread of this process (no spawn start-up)."""
    pool.init(str(settings.model_dir))
    yield
    pool._state.update(model=None, model_dir=None, other=None)


async def _manager(session: AsyncSession):
    unit = await make_unit(session, name="Norra")
    user = await make_user(session, Role.MANAGER, [unit])
    return unit, CurrentUser.from_user(user)


@pytest.mark.usefixtures("in_process_pool")
async def test_merge_rename_and_move_survive_retraining(db_session: AsyncSession, settings: Settings) -> None:
    unit, manager = await _manager(db_session)
    rows = await _answers(db_session, unit.id, TEXTS)
    request = await _retrain(settings)
    assert request.model_version
    assert "handlaggning" in await _keys(db_session, rows[1].id)

    await decisions.record_theme_event(
        db_session, user=manager, kind="merge", payload={"key": "handlaggning", "into": "bemotande"}, now=NOW
    )
    await decisions.record_theme_event(
        db_session,
        user=manager,
        kind="rename",
        payload={"key": "bemotande", "label_sv": "Bemötande och handläggning"},
        now=NOW,
    )
    await decisions.move_answer(
        db_session,
        user=manager,
        open_text_id=rows[4].id,
        from_key="stod_till_arbete",
        to_key="halsa",
        now=NOW,
    )
    await db_session.commit()
    assert "bemotande" in await _keys(db_session, rows[1].id)  # applied at once

    await _retrain(settings)
    codebook = await decisions.current_codebook(db_session)
    assert codebook.label("bemotande") == "Bemötande och handläggning"
    assert "handlaggning" not in codebook.keys
    stored = set(await db_session.scalars(sa.select(OpenTextTheme.theme_key).distinct()))
    assert "handlaggning" not in stored
    assert "bemotande" in await _keys(db_session, rows[1].id)  # the merged theme
    assert await _keys(db_session, rows[4].id) == {"halsa"}  # the manager's move wins
    origin = await db_session.scalar(
        sa.select(OpenTextTheme.origin).where(OpenTextTheme.open_text_id == rows[4].id)
    )
    assert origin == "manager"
    # the decisions are training data: the manager label is in the model's training set
    labels = await decisions.manager_labels(db_session)
    assert labels == [{"id": f"open_text:{rows[4].id}", "text": TEXTS[4], "themes": ["halsa"]}]


async def test_bad_decisions_are_refused(db_session: AsyncSession) -> None:
    unit, manager = await _manager(db_session)
    other = await make_unit(db_session, name="Södra")
    (row,) = await _answers(db_session, other.id, TEXTS[:1])
    with pytest.raises(InvalidInput):
        await decisions.record_theme_event(
            db_session, user=manager, kind="merge", payload={"key": "halsa", "into": "halsa"}, now=NOW
        )
    with pytest.raises(InvalidInput):
        await decisions.record_theme_event(
            db_session, user=manager, kind="rename", payload={"key": "finns_inte", "label_sv": "x"}, now=NOW
        )
    with pytest.raises(NotFound):  # an answer of another unit
        await decisions.relabel_answer(
            db_session, user=manager, open_text_id=row.id, theme_keys=["halsa"], now=NOW
        )
    caseworker = CurrentUser.from_user(await make_user(db_session, Role.CASEWORKER, [unit]))
    with pytest.raises(Forbidden):
        await decisions.record_theme_event(
            db_session, user=caseworker, kind="retire", payload={"key": "halsa"}, now=NOW
        )
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(AnswerLabel)) == 0


async def test_rejected_proposal_is_not_proposed_again_and_accept_adds_a_theme(
    db_session: AsyncSession, tmp_path: Path
) -> None:
    unit, manager = await _manager(db_session)
    rng = random.Random(3)
    await _answers(db_session, unit.id, TEXTS * 3, prefix="k")
    tolk = [rng.choice(TOLK) + " " + rng.choice(["", "igen", "tyvärr"]) for _ in range(40)]
    await _answers(db_session, unit.id, tolk, prefix="t")
    found = await proposals.run_discovery(db_session, user=manager, model=None, now=NOW)
    await db_session.commit()
    assert found, "the interpreter answers are not covered by the codebook"
    rejected = found[0]
    await proposals.decide(
        db_session, user=manager, proposal_id=rejected.proposal_id, action="reject", now=NOW
    )
    await db_session.commit()
    again = await proposals.run_discovery(db_session, user=manager, model=None, now=NOW)
    await db_session.commit()
    assert rejected.proposal_id not in {p.proposal_id for p in again}
    assert all(set(p.label_terms) != set(rejected.label_terms) for p in again)

    if again:  # accepting another proposal makes a theme, and its answers carry it
        p = again[0]
        await proposals.decide(
            db_session,
            user=manager,
            proposal_id=p.proposal_id,
            action="accept",
            label_sv="Nytt tema",
            now=NOW,
        )
        await db_session.commit()
        codebook = await decisions.current_codebook(db_session)
        assert "nytt_tema" in codebook.keys
        assert "nytt_tema" in await _keys(db_session, __import__("uuid").UUID(p.member_ids[0]))
