"""Property tests: every Luhn-valid personnummer / samordningsnummer, in every usual format and
inside any surrounding text, is replaced by [PERSONNUMMER]; near-misses are still never kept."""

from __future__ import annotations

import calendar
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.redact import is_personnummer, luhn_ok, redact, redact_spans

WORDS = [
    "hej",
    "mitt",
    "pnr",
    "är",
    "Anna",
    "tack",
    "och",
    "ring",
    "bra",
    "personnummer:",
    "(",
    ")",
    ",",
    ".",
]


def check_digit(nine: str) -> str:
    for c in "0123456789":
        if luhn_ok(nine + c):
            return c
    raise AssertionError(nine)


@st.composite
def personnummer(draw: st.DrawFn) -> tuple[str, str]:
    """(formatted number, its 10 digits)."""
    year = draw(st.integers(1900, 2025))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, calendar.monthrange(year, month)[1]))
    if draw(st.booleans()):
        day += 60  # samordningsnummer
    serial = f"{draw(st.integers(0, 999)):03d}"
    nine = f"{year % 100:02d}{month:02d}{day:02d}{serial}"
    ten = nine + check_digit(nine)
    fmt = draw(
        st.sampled_from(
            [
                "YYMMDD-NNNN",
                "YYMMDDNNNN",
                "YYYYMMDDNNNN",
                "YYYYMMDD-NNNN",
                "YYMMDD+NNNN",
                "YYMMDD NNNN",
                "YYMMDD_NNNN",
                "YYMMDD.NNNN",
                "YYYYMMDD_NNNN",
                "YYYYMMDD.NNNN",
                "YYYYMMDD NNNN",
            ]
        )
    )
    date6, last4 = ten[:6], ten[6:]
    century = str(year)[:2]
    formatted = {
        "YYMMDD-NNNN": f"{date6}-{last4}",
        "YYMMDDNNNN": ten,
        "YYYYMMDDNNNN": century + ten,
        "YYYYMMDD-NNNN": f"{century}{date6}-{last4}",
        "YYMMDD+NNNN": f"{date6}+{last4}",
        "YYMMDD NNNN": f"{date6} {last4}",
        "YYMMDD_NNNN": f"{date6}_{last4}",
        "YYMMDD.NNNN": f"{date6}.{last4}",
        "YYYYMMDD_NNNN": f"{century}{date6}_{last4}",
        "YYYYMMDD.NNNN": f"{century}{date6}.{last4}",
        "YYYYMMDD NNNN": f"{century}{date6} {last4}",
    }[fmt]
    return formatted, ten


@settings(max_examples=400, deadline=None)
@given(
    pnr=personnummer(),
    before=st.lists(st.sampled_from(WORDS), max_size=4),
    after=st.lists(st.sampled_from(WORDS), max_size=4),
)
def test_valid_personnummer_in_any_format_and_context_is_redacted(
    pnr: tuple[str, str], before: list[str], after: list[str]
) -> None:
    formatted, ten = pnr
    assert is_personnummer(formatted)
    text = " ".join([*before, formatted, *after])
    result = redact_spans(text)
    assert result.counts.get("personnummer") == 1, (text, result.text)
    assert ten[-4:] not in result.text and ten[:6] not in result.text


@settings(max_examples=200, deadline=None)
@given(pnr=personnummer(), bump=st.integers(1, 9))
def test_wrong_check_digit_is_not_a_valid_personnummer_but_never_survives(
    pnr: tuple[str, str], bump: int
) -> None:
    formatted, _ = pnr
    wrong = formatted[:-1] + str((int(formatted[-1]) + bump) % 10)
    assert not is_personnummer(wrong)
    redacted = redact(f"mitt nummer är {wrong} tack")
    assert not re.search(r"\d{4}", redacted), redacted


@settings(max_examples=200, deadline=None)
@given(digits=st.from_regex(r"\A[0-9]{2}(1[3-9]|[2-9][0-9])[0-9]{6}\Z"))
def test_ten_digits_without_a_real_date_are_not_called_personnummer(digits: str) -> None:
    """Shape near-misses (month 13–99) are no personnummer, but as long numbers they are still removed."""
    assert not is_personnummer(digits)
    result = redact_spans(f"referens {digits} ok")
    assert "personnummer" not in result.counts
    assert digits not in result.text
