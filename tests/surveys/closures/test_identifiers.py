"""Personnummer and samordningsnummer are refused as client references."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.closures.identifiers import (
    PERSONNUMMER_MESSAGE_SV,
    client_ref_problem,
    looks_like_personal_number,
    luhn_ok,
)

# 811228-9874 is the Skatteverket textbook example (valid Luhn); 701063-2391 a samordningsnummer
# (day 03 + 60) with a valid control digit.
VALID_PNR = "811228-9874"


def test_luhn_accepts_the_textbook_number_and_rejects_a_changed_digit() -> None:
    assert luhn_ok("8112289874")
    assert not luhn_ok("8112289875")


@pytest.mark.parametrize(
    "value",
    [
        VALID_PNR,
        "8112289874",
        "19811228-9874",
        "198112289874",
        "811228+9874",
        "811228 9874",
        "701063-2391",  # samordningsnummer: day 03 + 60
        "811228-9875",  # wrong control digit, still clearly a personnummer
        "KLIENT-198112289874",  # embedded, valid Luhn
    ],
)
def test_personal_numbers_are_refused_with_a_swedish_message(value: str) -> None:
    assert looks_like_personal_number(value)
    assert client_ref_problem(value) == PERSONNUMMER_MESSAGE_SV


def test_samordningsnummer_control_digit_is_valid() -> None:
    assert luhn_ok("7010632391")


@pytest.mark.parametrize("value", ["K-2024-0042", "abc123", "ARENDE.991231", "1234567890123", "9913991234"])
def test_ordinary_references_are_accepted(value: str) -> None:
    # 9913991234: month 13 is not a date, so not a personnummer.
    assert client_ref_problem(value) is None


def test_embedded_date_shaped_number_with_bad_luhn_is_accepted() -> None:
    assert client_ref_problem("REF-811228-9875") is None


@pytest.mark.parametrize("value", ["", "   ", "med mellanslag", "å-ref", "x" * 65])
def test_malformed_references_are_refused(value: str) -> None:
    assert client_ref_problem(value) is not None


SEPARATORS = ["-", "+", "_", ".", " ", "", "–"]


def _shapes(ten: str, century: str) -> list[str]:
    return [f"{prefix}{ten[:6]}{sep}{ten[6:]}" for prefix in ("", century) for sep in SEPARATORS]


@pytest.mark.parametrize("value", _shapes("8112189871", "19") + _shapes("8112289874", "19"))
def test_every_personnummer_shape_is_refused(value: str) -> None:
    """Issue 20: ``811218_9871`` and ``811218.9871`` were accepted as client references."""
    assert client_ref_problem(value) == PERSONNUMMER_MESSAGE_SV


@settings(max_examples=300, deadline=None)
@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    coordination=st.booleans(),
    serial=st.integers(0, 9999),
    sep=st.sampled_from(SEPARATORS),
    long_form=st.booleans(),
    prefix=st.sampled_from(["", "K-", "ref_", "A."]),
)
def test_any_date_shaped_personnummer_is_refused(
    day: date, coordination: bool, serial: int, sep: str, long_form: bool, prefix: str
) -> None:
    """Whole values are refused whatever the control digit; inside a reference when Luhn-valid."""
    dd = day.day + (60 if coordination else 0)
    date_part = f"{day:%Y%m}{dd:02d}" if long_form else f"{day:%y%m}{dd:02d}"
    value = f"{date_part}{sep}{serial:04d}"
    assert client_ref_problem(value) == PERSONNUMMER_MESSAGE_SV
    if luhn_ok(date_part[-6:] + f"{serial:04d}"):
        assert client_ref_problem(prefix + value) == PERSONNUMMER_MESSAGE_SV
