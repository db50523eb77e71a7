"""The quoting question and its withdrawal confirmation exist, discreetly, in every offered language."""

from __future__ import annotations

import pytest

from surveys.questionnaires.answers import is_quote_withdrawal, parse_quote_consent
from surveys.questionnaires.defaults import QUOTE_CONSENT_TEXTS
from surveys.questionnaires.models import TextLanguage
from surveys.questionnaires.service import quote_text
from surveys.questionnaires.texts import indiscreet_words, offered_languages, segment_info


def test_every_offered_language_has_both_texts() -> None:
    assert set(QUOTE_CONSENT_TEXTS) == set(offered_languages()) == {lang.value for lang in TextLanguage}
    for language, texts in QUOTE_CONSENT_TEXTS.items():
        assert set(texts) == {"quote_consent", "quote_withdrawn"}, language


@pytest.mark.parametrize("language", sorted(QUOTE_CONSENT_TEXTS))
def test_texts_are_discreet_and_short(language: str) -> None:
    for key, body in QUOTE_CONSENT_TEXTS[language].items():
        assert indiscreet_words(body) == [], (language, key)
        info = segment_info(body)
        if language == "ar":  # Arabic script is UCS-2 whatever we do: at most two segments
            assert info.segments <= 2, (key, info)
        else:
            assert info.encoding == "GSM-7" and info.segments == 1, (language, key, info)


@pytest.mark.parametrize("language", sorted(QUOTE_CONSENT_TEXTS))
def test_the_words_the_question_offers_are_understood(language: str) -> None:
    """The question names its own yes/no words and its withdrawal phrase: each must parse."""
    offers = {
        "sv": ("JA", "NEJ", "TA BORT CITAT"),
        "sv-easy": ("JA", "NEJ", "TA BORT CITAT"),
        "en": ("YES", "NO", "REMOVE QUOTE"),
        "ar": ("نعم", "لا", "احذف اقتباسي"),
        "so": ("HAA", "MAYA", "KA SAAR XIGASHADA"),
    }[language]
    yes, no, withdraw = offers
    body = QUOTE_CONSENT_TEXTS[language]["quote_consent"]
    assert all(word in body for word in offers)
    assert parse_quote_consent(yes) is True and parse_quote_consent(no) is False
    assert is_quote_withdrawal(withdraw) and parse_quote_consent(withdraw) is False


def test_an_unknown_language_gets_swedish() -> None:
    assert quote_text(None, "fi", "quote_consent") == QUOTE_CONSENT_TEXTS["sv"]["quote_consent"]
    with pytest.raises(ValueError):
        quote_text(None, "sv", "intro")


@pytest.mark.parametrize(
    "text",
    ["Ta bort mitt citat", "ta bort citatet tack", "Citera mig inte!", "don't quote me", "Remove my quote"],
)
def test_withdrawal_phrases(text: str) -> None:
    assert is_quote_withdrawal(text)


@pytest.mark.parametrize("text", ["Citat", "ta bort", "Bra stöd, ta det lugnt", "ring mig", "ja"])
def test_not_withdrawal(text: str) -> None:
    assert not is_quote_withdrawal(text)
