"""Seeding, loading and saving questionnaire texts against the database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import InvalidInput
from surveys.questionnaires import service
from surveys.questionnaires.answers import QuestionKind
from surveys.questionnaires.defaults import DEFAULT_QUESTIONNAIRE
from surveys.questionnaires.models import Questionnaire


async def test_seed_is_idempotent_and_loads_the_default(db_session: AsyncSession) -> None:
    assert len(await service.seed_defaults(db_session)) == 2
    await db_session.commit()
    assert await service.seed_defaults(db_session) == []
    assert await db_session.scalar(sa.select(sa.func.count()).select_from(Questionnaire)) == 2
    default = await service.get_active(db_session, "default_followup")
    assert [q.key for q in default.questions] == [
        "status", "satisfaction", "respect", "influence", "cooperation", "helped", "improve"
    ]  # fmt: skip
    assert [q.kind for q in default.questions][:5] == [
        QuestionKind.CHOICE, QuestionKind.SCALE, QuestionKind.SCALE, QuestionKind.YES_NO, QuestionKind.SCALE
    ]  # fmt: skip
    status = await service.get_active(db_session, "status_check")
    assert len(status.questions) == 1 and status.questions[0].is_status
    assert "Arbetar du eller studerar du nu?" in service.text_for(status, "sv", "question:status")
    assert service.text_for(default, "en", "intro").startswith("Hi!")
    # Issue 16: Arabic is Arabic (a shipped draft); only a language without texts gets Swedish
    assert service.text_for(default, "ar", "intro").startswith("مرحبًا")
    assert service.text_for(default, "ti", "intro").startswith("Hej!")
    spec = service.question_spec(default.questions[4])
    assert spec.allow_dont_know and spec.kind is QuestionKind.SCALE


async def test_get_active_creates_defaults_on_first_use(db_session: AsyncSession) -> None:
    questionnaire = await service.get_active(db_session, "status_check")
    assert questionnaire.version == 1


async def test_save_text_reports_segments_and_ucs2(db_session: AsyncSession) -> None:
    questionnaire = await service.get_active(db_session, "default_followup")
    saved = await service.save_text(
        db_session, questionnaire.id, "sv", "question:satisfaction", "Hur nöjd? Svara 1–5."
    )
    assert saved.info.encoding == "UCS-2" and saved.info.ucs2_chars == ("–",)
    assert saved.row.segments == 1 and saved.row.ucs2_chars == "–"
    saved = await service.save_text(db_session, questionnaire.id, "ar", "intro", "مرحبا " * 20)
    assert saved.row.encoding == "UCS-2" and saved.row.segments == 2
    await db_session.commit()
    reloaded = await service.get_active(db_session, "default_followup")
    assert service.text_for(reloaded, "ar", "intro").startswith("مرحبا")


async def test_save_text_refuses_indiscreet_wording(db_session: AsyncSession) -> None:
    questionnaire = await service.get_active(db_session, "default_followup")
    with pytest.raises(InvalidInput, match="socialtjänst"):
        await service.save_text(db_session, questionnaire.id, "sv", "intro", "Hej från socialtjänsten!")


def test_required_languages_are_enforced() -> None:
    broken = {**DEFAULT_QUESTIONNAIRE, "texts": {"sv": DEFAULT_QUESTIONNAIRE["texts"]["sv"]}}
    with pytest.raises(InvalidInput, match="en:intro"):
        service.build_questionnaire(broken)
