"""Which text a person gets, in which language, and how sure we are of it (pure).

Rules ("honest fallback"):
* the person's own language first, then the fallbacks its data file names (``sv`` for all
  shipped languages); a Swedish text for an Arabic speaker is a last resort, never a default;
* within one language a reviewed version wins over a newer draft (an admin's unreviewed edit is
  not sent until someone marks it reviewed); a language that has only drafts still sends its
  drafts — a draft in the person's language is better than Swedish they may not read;
* every resolution says which language was actually used and its status, and the callers store
  it (outbox row, answer): nothing falls back silently.

Where texts come from, first match wins: an admin's edit (``CatalogueText``), the
questionnaire's own text for that language (a pinned version's wording), the shipped text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from surveys.questionnaires.texts import segment_info
from surveys.texts.shipped import DRAFT, REVIEWED, SOURCE, languages, shipped, source_keys

if TYPE_CHECKING:
    from surveys.questionnaires.models import Questionnaire
    from surveys.texts.models import CatalogueText


def is_sms_key(key: str) -> bool:
    """Phone script and page texts are not SMS: no segment limit, no discretion check."""
    return not (key.startswith(("phone.", "panel.")) or ".phone:" in key)


@dataclass(frozen=True)
class Entry:
    """One key in one language: the version in use, and the newest version if that is a draft."""

    key: str
    language: str
    body: str  # in use
    status: str  # of the version in use
    reviewed_by: str | None
    reviewed_at: datetime | date | None
    draft_body: str | None = None  # a newer, unreviewed version (not sent yet)
    edited: bool = False

    @property
    def encoding(self) -> str:
        return segment_info(self.body).encoding

    @property
    def segments(self) -> int:
        return segment_info(self.body).segments


@dataclass(frozen=True)
class Resolved:
    key: str
    requested: str  # the person's language
    language: str  # the language actually used
    body: str
    status: str

    @property
    def fell_back(self) -> bool:
        return self.language != self.requested


def chain(language: str | None) -> list[str]:
    """The languages to try, in order: the person's own, its fallbacks, Swedish."""
    offered = languages()
    out: list[str] = []
    if language and language in offered:
        out.append(language)
        out.extend(offered[language].fallback)
    if SOURCE not in out:
        out.append(SOURCE)
    return list(dict.fromkeys(out))


class Catalogue:
    """The shipped texts with the admins' edits laid over them (load with ``service.load``)."""

    def __init__(self, edits: Iterable[CatalogueText] = ()) -> None:
        self._edits = {(e.key, e.language): e for e in edits}

    def entry(self, key: str, language: str) -> Entry | None:
        """The text for ``key`` in exactly ``language`` (no fallback), or ``None``."""
        edit = self._edits.get((key, language))
        if edit is not None:
            if edit.reviewed_body is not None:
                draft = edit.body if edit.status == DRAFT and edit.body != edit.reviewed_body else None
                return Entry(key, language, edit.reviewed_body, REVIEWED, edit.reviewed_by, edit.reviewed_at,
                             draft_body=draft, edited=True)  # fmt: skip
            return Entry(key, language, edit.body, edit.status, None, None, edited=True)
        text = shipped().get(language, {}).get(key)
        if text is None:
            return None
        return Entry(key, language, text.body, text.status, text.reviewed_by, text.reviewed_on)

    def resolve(self, key: str, language: str | None) -> Resolved:
        for candidate in chain(language):
            found = self.entry(key, candidate)
            if found is not None:
                return Resolved(key, language or SOURCE, candidate, found.body, found.status)
        raise KeyError(f"no text {key!r} in any language")

    def questionnaire_text(
        self,
        questionnaire: Questionnaire | None,
        language: str | None,
        text_key: str,
        *,
        key: str | None = None,
    ) -> Resolved:
        """A questionnaire's text (``intro``, ``question:status`` …) in the person's language.

        ``key`` names the catalogue key when it is not ``<questionnaire key>.<text key>`` (the
        quoting texts belong to every questionnaire: ``quote.quote_consent``).
        """
        catalogue_key = key or (f"{questionnaire.key}.{text_key}" if questionnaire is not None else text_key)
        own = {
            str(r.language): r.body
            for r in (questionnaire.texts if questionnaire is not None else ())
            if r.text_key == text_key
        }
        offered = languages()
        for candidate in chain(language):
            if (catalogue_key, candidate) not in self._edits and candidate in own:
                status = offered[candidate].status if candidate in offered else DRAFT
                return Resolved(catalogue_key, language or SOURCE, candidate, own[candidate], status)
            found = self.entry(catalogue_key, candidate)
            if found is not None:
                return Resolved(catalogue_key, language or SOURCE, candidate, found.body, found.status)
        raise KeyError(f"no text {catalogue_key!r} in any language")

    def language_status(self, language: str) -> tuple[int, int, int]:
        """(reviewed, draft, missing) counts of the Swedish keys in ``language``."""
        reviewed = draft = missing = 0
        for key in source_keys():
            found = self.entry(key, language)
            if found is None:
                missing += 1
            elif found.status == REVIEWED and found.draft_body is None:
                reviewed += 1
            else:
                draft += 1
        return reviewed, draft, missing
