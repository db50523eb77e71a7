"""Text catalogue use-cases: load, edit, mark reviewed, list and export (the caller commits).

Every edit and review is audited (``text.edit``, ``text.review``: key and language, no text).
An SMS text longer than two segments is refused unless the editor acknowledged the cost
(``acknowledge_long``): Arabic is UCS-2, so 135 characters already make three parts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core import audit
from feedback.core.errors import InvalidInput, NotFound
from surveys.questionnaires.texts import SegmentInfo, indiscreet_words, segment_info
from surveys.texts.catalogue import Catalogue, Entry, is_sms_key
from surveys.texts.models import CatalogueText
from surveys.texts.shipped import DRAFT, REVIEWED, languages, source_keys

MAX_SMS_CHARS = 640
MAX_OTHER_CHARS = 2000
WARN_SEGMENTS = 2


async def load(session: AsyncSession) -> Catalogue:
    """The catalogue with every edit (a small table: one row per edited key and language)."""
    return Catalogue(list(await session.scalars(sa.select(CatalogueText))))


def _check_key(key: str, language: str) -> None:
    if language not in languages():
        raise InvalidInput("Okänt språk.", field="language")
    if key not in set(source_keys()):
        raise NotFound("Texten finns inte i katalogen.")


@dataclass(frozen=True)
class Saved:
    row: CatalogueText
    info: SegmentInfo


async def save(
    session: AsyncSession,
    *,
    key: str,
    language: str,
    body: str,
    actor_id: uuid.UUID | None,
    actor_name: str,
    now: datetime,
    acknowledge_long: bool = False,
) -> Saved:
    """Save a new version of one text, as a draft (a reviewed version stays in use until then)."""
    _check_key(key, language)
    body = body.strip().replace("\r\n", "\n")
    if not body:
        raise InvalidInput("Texten får inte vara tom.", field="body")
    sms = is_sms_key(key)
    limit = MAX_SMS_CHARS if sms else MAX_OTHER_CHARS
    if len(body) > limit:
        raise InvalidInput(f"Texten är för lång (högst {limit} tecken).", field="body")
    info = segment_info(body)
    if sms:
        bad = indiscreet_words(body)
        if bad:
            raise InvalidInput(
                "Sms-texten får inte avslöja kontakten med oss. Ta bort: " + ", ".join(sorted(set(bad))),
                field="body",
            )
        if info.segments > WARN_SEGMENTS and not acknowledge_long:
            raise InvalidInput(
                f"Texten blir {info.segments} sms-delar ({info.encoding}). Kryssa i att du vet att den "
                "kostar mer, eller korta texten.",
                field="acknowledge",
            )
    previous = Catalogue(list(await session.scalars(sa.select(CatalogueText)))).entry(key, language)
    row = await session.scalar(
        sa.select(CatalogueText).where(CatalogueText.key == key, CatalogueText.language == language)
    )
    if row is None:
        row = CatalogueText(key=key, language=language, body=body)
        if previous is not None and previous.status == REVIEWED:  # keep the reviewed version in use
            row.reviewed_body = previous.body
            row.reviewed_by = previous.reviewed_by
            row.reviewed_at = previous.reviewed_at if isinstance(previous.reviewed_at, datetime) else None
        session.add(row)
    row.body = body
    row.status = REVIEWED if row.reviewed_body == body else DRAFT
    row.encoding = info.encoding
    row.segments = info.segments
    row.updated_by = actor_name[:200]
    row.updated_at = now
    await audit.record(
        session, actor_id=actor_id, action="text.edit", subject_type="catalogue_text",
        subject_id=f"{key}:{language}"[:64], at=now,
        detail={"key": key, "language": language, "segments": info.segments, "encoding": info.encoding},
    )  # fmt: skip
    await session.flush()
    return Saved(row, info)


async def mark_reviewed(
    session: AsyncSession,
    *,
    key: str,
    language: str,
    actor_id: uuid.UUID | None,
    actor_name: str,
    now: datetime,
) -> CatalogueText:
    """The newest version of the text is reviewed: it is what people get from now on."""
    _check_key(key, language)
    current = (await load(session)).entry(key, language)
    if current is None:
        raise NotFound("Texten finns inte på det språket ännu. Skriv den först.")
    row = await session.scalar(
        sa.select(CatalogueText).where(CatalogueText.key == key, CatalogueText.language == language)
    )
    if row is None:  # a shipped text: the review is stored as an edit with the same words
        info = segment_info(current.body)
        row = CatalogueText(key=key, language=language, body=current.body, encoding=info.encoding,
                            segments=info.segments, updated_by=actor_name[:200], updated_at=now)  # fmt: skip
        session.add(row)
    row.status = REVIEWED
    row.reviewed_body = row.body
    row.reviewed_by = actor_name[:200]
    row.reviewed_at = now
    await audit.record(
        session, actor_id=actor_id, action="text.review", subject_type="catalogue_text",
        subject_id=f"{key}:{language}"[:64], at=now, detail={"key": key, "language": language},
    )  # fmt: skip
    await session.flush()
    return row


@dataclass(frozen=True)
class Row:
    """One line of the catalogue listing and of ``feedback texts export``."""

    key: str
    language: str
    entry: Entry | None

    def as_json(self) -> dict[str, object]:
        if self.entry is None:
            return {"key": self.key, "language": self.language, "text": None, "status": "saknas",
                    "segments": 0, "encoding": None}  # fmt: skip
        return {
            "key": self.key,
            "language": self.language,
            "text": self.entry.body,
            "status": self.entry.status,
            "segments": self.entry.segments,
            "encoding": self.entry.encoding,
        }


def listing(catalogue: Catalogue, language: str | None = None) -> list[Row]:
    """Every Swedish key in each language (or one), in that language only — no fallback."""
    if language is not None and language not in languages():
        raise InvalidInput(f"Okänt språk: {language}. Välj bland {', '.join(languages())}.", field="language")
    wanted = [language] if language else list(languages())
    return [Row(key, lang, catalogue.entry(key, lang)) for lang in wanted for key in source_keys()]


async def review_status_sv(session: AsyncSession) -> dict[str, str]:
    """Per language, in plain Swedish, how far its texts are reviewed (for the closure form)."""
    catalogue = await load(session)
    out = {}
    for code in languages():
        reviewed, draft, missing = catalogue.language_status(code)
        if missing:
            out[code] = f"{missing} texter saknas – de skickas på svenska"
        elif draft:
            out[code] = (
                "texterna är inte granskade (utkast)" if not reviewed else f"{draft} texter är inte granskade"
            )
        else:
            out[code] = "texterna är granskade"
    return out
