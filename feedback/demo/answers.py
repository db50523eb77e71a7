"""What a demo client replies to one question, by SMS or on the phone.

Replies look like real ones: digits typed in Arabic-Indic form by some Arabic speakers, "ja"
in its variants, an occasional reply the parser cannot read (so the demo has re-prompts), "0"
to skip a free-text question, and now and then a worried message that opens a case. After an
open answer, some agree to be quoted and most do not (or reply something the parser reads as no).
"""

from __future__ import annotations

import random

from feedback.demo import texts
from feedback.demo.cast import DemoClient
from surveys.questionnaires.answers import QuestionKind, QuestionSpec

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
UNREADABLE = ("typ", "bra", "jobbar", "vet ej riktigt", "?", "ok tack")


def _digits(client: DemoClient, value: int, rng: random.Random) -> str:
    text = str(value)
    return text.translate(ARABIC_INDIC) if client.language == "ar" and rng.random() < 0.5 else text


def _scale(client: DemoClient, rng: random.Random) -> int:
    return max(1, min(5, client.satisfaction + rng.choice((-1, 0, 0, 0, 1))))


def status_key(spec: QuestionSpec, status: str) -> int:
    for choice in spec.choices:
        if choice.value == status:
            return choice.key
    return spec.choices[0].key


def sms_reply(spec: QuestionSpec, client: DemoClient, rng: random.Random, *, reprompts: int) -> str:
    """The text a client sends back to question ``spec`` (``reprompts`` already received)."""
    if reprompts == 0 and spec.kind is not QuestionKind.FREE_TEXT and rng.random() < 0.07:
        return rng.choice(UNREADABLE)
    return _answer(spec, client, rng, sms=True)


def phone_answer(spec: QuestionSpec, client: DemoClient, rng: random.Random) -> str:
    """What the caseworker types into the phone script form for question ``spec``."""
    if spec.kind is QuestionKind.FREE_TEXT and rng.random() < 0.35:
        return ""  # nothing to add: the form leaves it empty
    return _answer(spec, client, rng, sms=False)


def _answer(spec: QuestionSpec, client: DemoClient, rng: random.Random, *, sms: bool) -> str:
    if spec.kind is QuestionKind.CHOICE:
        return (
            _digits(client, status_key(spec, client.status), rng)
            if sms
            else str(status_key(spec, client.status))
        )
    if spec.kind is QuestionKind.SCALE:
        if spec.allow_dont_know and rng.random() < 0.08:
            return "0" if sms else "vet inte"
        return _digits(client, _scale(client, rng), rng) if sms else str(_scale(client, rng))
    if spec.kind is QuestionKind.YES_NO:
        yes = rng.random() < (0.35 + client.satisfaction * 0.12)
        return rng.choice(("Ja", "ja", "JA", "Ja!", "jo")) if yes else rng.choice(("Nej", "nej", "nä", "NEJ"))
    if spec.allow_skip and sms and rng.random() < 0.2:
        return "0"
    if rng.random() < 0.015:
        return rng.choice(texts.WORRY_TEXTS)
    return texts.improve(rng) if spec.key == "improve" else texts.helped(rng)


QUOTE_YES = {"ar": ("نعم", "Ja"), "so": ("haa", "Haa", "Ja")}
QUOTE_NO = {"ar": ("لا", "Nej"), "so": ("maya", "Nej")}


def quote_reply(client: DemoClient, rng: random.Random) -> str:
    """The reply to "Får vi visa det du skrev som citat?": yes about a third of the time."""
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(QUOTE_YES.get(client.language, ("Ja", "ja", "JA", "Ja gärna", "ok")))
    if roll < 0.9:
        return rng.choice(QUOTE_NO.get(client.language, ("Nej", "nej", "nej tack", "NEJ")))
    return rng.choice(("?", "vet inte", "hm"))  # unclear: counts as no


def phone_quote_consent(rng: random.Random) -> bool:
    """Whether a person on the phone agrees that their open answer may be quoted."""
    return rng.random() < 0.4
