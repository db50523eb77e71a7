"""Questionnaire use-cases: seed the defaults, load the active version, save a text.

The caller owns the transaction (commits); these functions only flush.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.errors import InvalidInput, NotFound
from surveys.questionnaires.answers import Choice, QuestionKind, QuestionSpec
from surveys.questionnaires.defaults import DEFAULTS
from surveys.questionnaires.models import (
    REQUIRED_LANGUAGES,
    Question,
    Questionnaire,
    QuestionnaireText,
    TextLanguage,
)
from surveys.questionnaires.texts import SegmentInfo, indiscreet_words, segment_info
from surveys.texts.catalogue import Catalogue

MAX_TEXT_CHARS = 640  # four GSM-7 segments; longer texts are refused, not silently split further


def question_spec(question: Question) -> QuestionSpec:
    """The pure parser's view of a question row."""
    return QuestionSpec(
        key=question.key,
        kind=QuestionKind(question.kind),
        choices=tuple(
            Choice(int(c["key"]), str(c["value"]), str(c.get("label_sv", ""))) for c in question.choices
        ),
        allow_dont_know=question.allow_dont_know,
        allow_skip=question.allow_skip,
    )


def text_for(questionnaire: Questionnaire, language: str, text_key: str) -> str:
    """The shipped or pinned text in the person's language (``surveys.texts.catalogue`` rules).

    Without the admins' edits: the conversation loads the whole catalogue
    (``surveys.texts.service.load``) and records which language it actually used.
    """
    return Catalogue().questionnaire_text(questionnaire, language, text_key).body


QUOTE_TEXT_KEYS = frozenset({"quote_consent", "quote_withdrawn"})


def quote_text(questionnaire: Questionnaire | None, language: str, text_key: str) -> str:
    """The quoting question (or withdrawal confirmation) in the person's language.

    The question belongs to every questionnaire with free text (catalogue key
    ``quote.<text key>``); a questionnaire's own text in that language overrides it.
    """
    if text_key not in QUOTE_TEXT_KEYS:
        raise ValueError(f"{text_key} is not a quoting text")
    return Catalogue().questionnaire_text(questionnaire, language, text_key, key=f"quote.{text_key}").body


async def get_active(session: AsyncSession, key: str) -> Questionnaire:
    """The newest active version of questionnaire ``key`` (the defaults are created on first use)."""
    row = await _newest_active(session, key)
    if row is None and any(d["key"] == key for d in DEFAULTS):
        await seed_defaults(session)
        row = await _newest_active(session, key)
    if row is None:
        raise NotFound(f"Frågeformuläret {key} finns inte.")
    return row


async def _newest_active(session: AsyncSession, key: str) -> Questionnaire | None:
    return await session.scalar(
        sa.select(Questionnaire)
        .where(Questionnaire.key == key, Questionnaire.is_active.is_(True))
        .order_by(Questionnaire.version.desc())
        .limit(1)
    )


async def get(session: AsyncSession, questionnaire_id: uuid.UUID) -> Questionnaire:
    row = await session.get(Questionnaire, questionnaire_id)
    if row is None:
        raise NotFound("Frågeformuläret finns inte.")
    return row


def _text_row(language: str, text_key: str, body: str) -> QuestionnaireText:
    info = segment_info(body)
    return QuestionnaireText(
        language=TextLanguage(language),
        text_key=text_key,
        body=body,
        encoding=info.encoding,
        segments=info.segments,
        ucs2_chars="".join(info.ucs2_chars)[:64],
    )


def build_questionnaire(definition: dict[str, Any], version: int = 1) -> Questionnaire:
    """A questionnaire (not yet added to a session) from a definition like ``defaults.py``."""
    texts: list[QuestionnaireText] = []
    for language, entries in definition["texts"].items():
        texts.extend(_text_row(language, k, v) for k, v in entries.items())
    texts.append(_text_row("sv", "phone:intro", definition.get("phone_intro", "")))
    texts.append(_text_row("sv", "phone:consent", definition.get("phone_consent", "")))
    texts.append(_text_row("sv", "phone:closing", definition.get("phone_closing", "")))
    questions = []
    for position, q in enumerate(definition["questions"], start=1):
        for language, entries in q["texts"].items():
            texts.extend(_text_row(language, k, v) for k, v in entries.items())
        questions.append(
            Question(
                position=position,
                key=q["key"],
                kind=QuestionKind(q["kind"]),
                choices=list(q.get("choices", [])),
                allow_dont_know=bool(q.get("allow_dont_know", False)),
                allow_skip=bool(q.get("allow_skip", False)),
                skr_area=q.get("skr_area"),
                is_status=bool(q.get("is_status", False)),
                low_score_opens_case=bool(q.get("low_score_opens_case", False)),
                phone_prompt=q.get("phone_prompt", ""),
                phone_probe=q.get("phone_probe", ""),
            )
        )
    missing = [
        f"{lang}:{key}"
        for lang in REQUIRED_LANGUAGES
        for key in ["intro", "thanks", *[f"question:{q.key}" for q in questions]]
        if not any(t.language == lang and t.text_key == key for t in texts)
    ]
    if missing:
        raise InvalidInput("Texter saknas på svenska eller engelska: " + ", ".join(missing))
    return Questionnaire(
        key=definition["key"], version=version, name=definition["name"], questions=questions, texts=texts
    )


async def seed_defaults(session: AsyncSession) -> list[Questionnaire]:
    """Create the default questionnaires if they do not exist (idempotent)."""
    created = []
    for definition in DEFAULTS:
        exists = await session.scalar(
            sa.select(Questionnaire.id).where(Questionnaire.key == definition["key"])
        )
        if exists is None:
            questionnaire = build_questionnaire(definition)
            session.add(questionnaire)
            created.append(questionnaire)
    await session.flush()
    return created


@dataclass(frozen=True)
class SavedText:
    row: QuestionnaireText
    info: SegmentInfo


async def save_text(
    session: AsyncSession, questionnaire_id: uuid.UUID, language: str, text_key: str, body: str
) -> SavedText:
    """Save one SMS text and report its cost; indiscreet wording is refused."""
    body = body.strip()
    if not body:
        raise InvalidInput("Texten får inte vara tom.", field="body")
    if len(body) > MAX_TEXT_CHARS:
        raise InvalidInput(f"Texten är för lång (högst {MAX_TEXT_CHARS} tecken).", field="body")
    if not text_key.startswith("phone:"):
        bad = indiscreet_words(body)
        if bad:
            raise InvalidInput(
                "Sms-texten får inte avslöja kontakten med oss. Ta bort: " + ", ".join(sorted(set(bad))),
                field="body",
            )
    try:
        lang = TextLanguage(language)
    except ValueError as exc:
        raise InvalidInput("Okänt språk.", field="language") from exc
    questionnaire = await get(session, questionnaire_id)
    row = await session.scalar(
        sa.select(QuestionnaireText).where(
            QuestionnaireText.questionnaire_id == questionnaire_id,
            QuestionnaireText.language == lang,
            QuestionnaireText.text_key == text_key,
        )
    )
    info = segment_info(body)
    if row is None:
        row = QuestionnaireText(language=lang, text_key=text_key, body=body)
        questionnaire.texts.append(row)
    row.body = body
    row.encoding = info.encoding
    row.segments = info.segments
    row.ucs2_chars = "".join(info.ucs2_chars)[:64]
    await session.flush()
    return SavedText(row, info)
