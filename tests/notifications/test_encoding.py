from __future__ import annotations

from notifications.encoding import check_template, segment_info


def test_swedish_letters_stay_gsm7() -> None:
    info = segment_info("Hej! Hur nöjd är du med stödet? Svara 1-5. Åsa, Örjan, Ängel")
    assert info.encoding == "gsm7"
    assert info.segments == 1


def test_gsm7_limits_160_then_153_per_part() -> None:
    assert segment_info("a" * 160).segments == 1
    assert segment_info("a" * 161).segments == 2
    assert segment_info("a" * 306).segments == 2
    assert segment_info("a" * 307).segments == 3


def test_extension_characters_count_two_septets() -> None:
    info = segment_info("€" * 80)
    assert (info.encoding, info.units, info.segments) == ("gsm7", 160, 1)
    assert segment_info("€" * 80 + "a").segments == 2


def test_ucs2_limits_70_then_67() -> None:
    assert segment_info("–" * 70).segments == 1
    assert segment_info("–" * 71).segments == 2
    assert segment_info("–" * 134).segments == 2
    assert segment_info("–" * 135).segments == 3
    assert segment_info("😀" * 35).units == 70  # emoji take two UTF-16 units


def test_en_dash_doubles_the_cost_and_is_reported_with_a_fix() -> None:
    text = "Hej! Vi på kommunen undrar hur det går för dig. Hur nöjd är du med stödet? Svara 1–5. Tack för hjälpen!"
    check = check_template(text)
    assert not check.ok
    assert check.info.encoding == "ucs2" and check.info.segments == 2
    assert [o.char for o in check.offenders] == ["–"]
    assert check.suggested_text == text.replace("–", "-")
    assert check.suggested_info is not None and check.suggested_info.segments == 1
    assert "–" in check.message_sv() and "2" in check.message_sv()


def test_curly_quotes_and_ellipsis_are_flagged_clean_text_is_ok() -> None:
    check = check_template("Svara ”ja” eller ’nej’…")
    assert {o.char for o in check.offenders} == {"”", "’", "…"}
    assert check.suggested_text == "Svara \"ja\" eller 'nej'..."
    assert check_template("Svara JA eller NEJ.").ok
    assert check_template("Svara JA eller NEJ.").message_sv() == ""
