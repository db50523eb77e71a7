"""Personnummer and samordningsnummer are refused as client references."""

from __future__ import annotations

import pytest

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
