"""The texts shipped with the platform, in every language we offer (pure: files and constants).

Why two sources: the Swedish and English questionnaire texts, signal replies and quoting texts
already live beside their use (``surveys/questionnaires/defaults.py``); everything else — and
every text in lätt svenska, Arabic and Somali — lives in one JSON file per language in
``surveys/texts/data/``. Adding a language (for example ``ti`` or ``fa``) is a data change: drop
``<code>.json`` there with the same keys as ``sv`` and a ``status`` of ``utkast``.

Catalogue keys are flat strings: ``<questionnaire key>.<text key>`` for a questionnaire's texts
(``default_followup.question:status``, ``default_followup.phone:intro``) and ``<area>.<name>``
for the rest (``signal.opt_out_confirm``, ``keyword.help``, ``review.sms_done``, ``panel.title``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from surveys.questionnaires.defaults import DEFAULTS, PHONE_QUOTE_CONSENT, QUOTE_CONSENT_TEXTS, SIGNAL_REPLIES

DATA_DIR = Path(__file__).with_name("data")
SOURCE = "sv"  # every other language must have every key Swedish has

DRAFT = "utkast"
REVIEWED = "granskad"
STATUSES = (DRAFT, REVIEWED)


@dataclass(frozen=True)
class LanguageInfo:
    """One offered language: its names, writing direction and where a missing text falls back to."""

    code: str
    name_sv: str
    name: str  # in the language itself ("العربية")
    direction: str  # "ltr" or "rtl"
    fallback: tuple[str, ...]
    status: str  # status of the shipped texts
    reviewed_by: str | None
    reviewed_on: date | None


@dataclass(frozen=True)
class ShippedText:
    key: str
    language: str
    body: str
    status: str
    reviewed_by: str | None
    reviewed_on: date | None


def questionnaire_texts(definition: dict[str, Any], language: str) -> dict[str, str]:
    """The texts a questionnaire definition (``defaults.py``) holds in ``language``, by catalogue key."""
    prefix = definition["key"] + "."
    out = {prefix + k: v for k, v in definition["texts"].get(language, {}).items()}
    for question in definition["questions"]:
        out.update({prefix + k: v for k, v in question["texts"].get(language, {}).items()})
    if language == SOURCE:  # the phone script is written in Swedish in the definition
        for part in ("intro", "consent", "closing"):
            if definition.get(f"phone_{part}"):
                out[f"{prefix}phone:{part}"] = definition[f"phone_{part}"]
        for question in definition["questions"]:
            if question.get("phone_prompt"):
                out[f"{prefix}phone:question:{question['key']}"] = question["phone_prompt"]
            if question.get("phone_probe"):
                out[f"{prefix}phone:probe:{question['key']}"] = question["phone_probe"]
    return out


def _code_texts(language: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for definition in DEFAULTS:
        out.update(questionnaire_texts(definition, language))
    out.update({f"signal.{k}": v for k, v in SIGNAL_REPLIES.get(language, {}).items()})
    out.update({f"quote.{k}": v for k, v in QUOTE_CONSENT_TEXTS.get(language, {}).items()})
    if language == SOURCE:
        out["phone.quote_consent"] = PHONE_QUOTE_CONSENT
    return out


def _shared_questionnaire_keys() -> dict[str, str]:
    """Keys of later default questionnaires whose Swedish text equals one of the first's.

    Why: the status check repeats the follow-up's reminder, re-prompt and phone opening word for
    word; a translator translates it once and the data file holds it once.
    """
    first, *rest = DEFAULTS
    by_text = {v: k for k, v in questionnaire_texts(first, SOURCE).items()}
    shared = {}
    for definition in rest:
        for key, text in questionnaire_texts(definition, SOURCE).items():
            if text in by_text:
                shared[key] = by_text[text]
    return shared


@cache
def _files() -> dict[str, dict[str, Any]]:
    files = {}
    for path in sorted(DATA_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("language") != path.stem:
            raise ValueError(f"{path.name}: 'language' must be {path.stem!r}")
        if data.get("status") not in STATUSES:
            raise ValueError(f"{path.name}: 'status' must be one of {STATUSES}")
        files[path.stem] = data
    if SOURCE not in files:
        raise ValueError("surveys/texts/data/sv.json is missing")
    return files


@cache
def languages() -> dict[str, LanguageInfo]:
    """Every offered language, Swedish first, in the order of the data files."""
    out = {}
    for code, data in sorted(_files().items(), key=lambda item: item[0] != SOURCE):
        reviewed_on = data.get("reviewed_on")
        out[code] = LanguageInfo(
            code=code,
            name_sv=data["name_sv"],
            name=data.get("name", data["name_sv"]),
            direction=data.get("direction", "ltr"),
            fallback=tuple(data.get("fallback", [] if code == SOURCE else [SOURCE])),
            status=data["status"],
            reviewed_by=data.get("reviewed_by"),
            reviewed_on=date.fromisoformat(reviewed_on) if reviewed_on else None,
        )
    return out


@cache
def shipped() -> dict[str, dict[str, ShippedText]]:
    """language → key → the shipped text with its status (code constants, then the data file)."""
    shared = _shared_questionnaire_keys()
    out: dict[str, dict[str, ShippedText]] = {}
    for code, info in languages().items():
        texts = _code_texts(code)
        texts.update(_files()[code].get("texts", {}))
        for key, source_key in shared.items():
            if key not in texts and source_key in texts:
                texts[key] = texts[source_key]
        out[code] = {
            key: ShippedText(key, code, body, info.status, info.reviewed_by, info.reviewed_on)
            for key, body in texts.items()
        }
    return out


def source_keys() -> list[str]:
    """Every catalogue key, in Swedish order: what every other language must have."""
    return list(shipped()[SOURCE])
