"""Segment counting, UCS-2 detection and the discretion rule on the seeded texts."""

from __future__ import annotations

from surveys.questionnaires.defaults import DEFAULTS
from surveys.questionnaires.texts import fill_placeholders, indiscreet_words, segment_info


def _all_sms_texts() -> list[tuple[str, str]]:
    out = []
    for definition in DEFAULTS:
        for lang, entries in definition["texts"].items():
            out += [(f"{definition['key']}:{lang}:{k}", v) for k, v in entries.items()]
        for q in definition["questions"]:
            for lang, entries in q["texts"].items():
                out += [(f"{definition['key']}:{lang}:{k}", v) for k, v in entries.items()]
    return out


def test_swedish_letters_stay_gsm7_and_160_is_one_segment() -> None:
    info = segment_info("å" * 160)
    assert (info.encoding, info.segments, info.ucs2_chars) == ("GSM-7", 1, ())
    assert segment_info("ä" * 161).segments == 2
    assert segment_info("a" * 306).segments == 2 and segment_info("a" * 307).segments == 3


def test_en_dash_forces_ucs2_and_is_flagged() -> None:
    info = segment_info("Svara 1–5 " + "x" * 70)
    assert info.encoding == "UCS-2" and info.ucs2_chars == ("–",) and info.segments == 2
    assert segment_info("Svara ”ja” …").ucs2_chars == ("”", "…")


def test_extension_characters_cost_two_septets() -> None:
    assert segment_info("€" * 80).length == 160 and segment_info("€" * 81).segments == 2


def test_indiscreet_words_are_found() -> None:
    assert indiscreet_words("Hej från Socialtjänsten om ditt försörjningsstöd") == [
        "Socialtjänst",
        "försörjningsstöd",
    ]
    assert indiscreet_words("Hej! Här är Timrå kommun.") == []


def test_seeded_sms_texts_are_discreet_gsm7_and_single_segment() -> None:
    texts = _all_sms_texts()
    assert len(texts) > 30
    for name, body in texts:
        filled = fill_placeholders(body, {"kommun": "Timrå kommun"})
        assert indiscreet_words(filled) == [], name
        info = segment_info(filled)
        assert info.encoding == "GSM-7", (name, info.ucs2_chars)
        assert info.segments == 1, (name, info.length)
