"""Parsing replies per question type, in any digit script, with SKR positivity."""

from __future__ import annotations

import pytest

from surveys.questionnaires.answers import (
    Choice,
    Invalid,
    Parsed,
    QuestionKind,
    QuestionSpec,
    normalise_digits,
    parse_answer,
)

STATUS = QuestionSpec(
    "status",
    QuestionKind.CHOICE,
    choices=(Choice(1, "working", "arbetar"), Choice(2, "studying"), Choice(3, "both"), Choice(4, "neither")),
)
SCALE = QuestionSpec("satisfaction", QuestionKind.SCALE)
SCALE_DK = QuestionSpec("cooperation", QuestionKind.SCALE, allow_dont_know=True)
YES_NO = QuestionSpec("influence", QuestionKind.YES_NO)
FREE = QuestionSpec("improve", QuestionKind.FREE_TEXT, allow_skip=True)


def test_arabic_indic_and_persian_digits_become_ascii() -> None:
    assert normalise_digits("٣ و ۴ و ３") == "3 و 4 و 3"


@pytest.mark.parametrize(("reply", "value"), [("1", "working"), (" 2 ", "studying"), ("3.", "both"),
                                              ("٤", "neither"), ("۲", "studying"), ("Arbetar", "working"),
                                              ("1 jag jobbar", "working")])  # fmt: skip
def test_choice_accepts_numeric_keys_in_any_script(reply: str, value: str) -> None:
    result = parse_answer(STATUS, reply)
    assert isinstance(result, Parsed) and result.value == value
    assert result.is_positive is None


@pytest.mark.parametrize("reply", ["5", "0", "tja", "", "12"])
def test_choice_rejects_out_of_range_with_swedish_reason(reply: str) -> None:
    result = parse_answer(STATUS, reply)
    assert isinstance(result, Invalid)
    assert result.reason_sv == ("Svaret var tomt." if not reply else "Svara med en siffra 1-4.")


@pytest.mark.parametrize(
    ("reply", "positive"), [("1", False), ("3", False), ("4", True), ("5", True), ("٥", True)]
)
def test_scale_maps_to_skr_top_two_box(reply: str, positive: bool) -> None:
    result = parse_answer(SCALE, reply)
    assert isinstance(result, Parsed) and result.is_positive is positive and not result.dont_know


def test_scale_zero_is_dont_know_only_when_allowed_and_outside_base() -> None:
    assert isinstance(parse_answer(SCALE, "0"), Invalid)
    for reply in ("0", "٠", "vet inte", "Vet ej"):
        result = parse_answer(SCALE_DK, reply)
        assert isinstance(result, Parsed) and result.dont_know and result.is_positive is None


@pytest.mark.parametrize("reply", ["6", "sex", "-1", "45"])
def test_scale_rejects_other_values(reply: str) -> None:
    result = parse_answer(SCALE_DK, reply)
    assert isinstance(result, Invalid) and "1-5" in result.reason_sv


@pytest.mark.parametrize("reply", ["JA", "ja", "j", "Jo", "japp", "yes", "Y", "ja!", "Ja tack", "نعم", "haa"])
def test_yes_variants(reply: str) -> None:
    result = parse_answer(YES_NO, reply)
    assert isinstance(result, Parsed) and result.value == "yes" and result.is_positive is True


@pytest.mark.parametrize("reply", ["NEJ", "nej", "n", "nä", "No", "nej, inte alls", "لا", "maya"])
def test_no_variants(reply: str) -> None:
    result = parse_answer(YES_NO, reply)
    assert isinstance(result, Parsed) and result.value == "no" and result.is_positive is False


@pytest.mark.parametrize("reply", ["kanske", "3", ""])
def test_yes_no_rejects_the_rest(reply: str) -> None:
    assert isinstance(parse_answer(YES_NO, reply), Invalid)


def test_free_text_keeps_words_and_zero_skips() -> None:
    result = parse_answer(FREE, "  Min handläggare lyssnade  ")
    assert isinstance(result, Parsed) and result.text == "Min handläggare lyssnade" and not result.skipped
    skipped = parse_answer(FREE, "0")
    assert isinstance(skipped, Parsed) and skipped.skipped and skipped.text is None
    assert isinstance(parse_answer(FREE, "   "), Invalid)
