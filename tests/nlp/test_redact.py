"""nlp.redact: personal data never survives; ordinary Swedish words do."""

from __future__ import annotations

import pytest

from nlp.redact import is_personnummer, luhn_ok, redact, redact_spans


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        ("mitt personnummer är 850312-1234 tack", "personnummer", "850312-1234"),
        ("pnr 198503121234", "personnummer", "198503121234"),
        ("ring mig på 070-123 45 67", "telefon", "123 45 67"),
        ("+46 70 123 45 67 går bra", "telefon", "123 45 67"),
        ("mejla anna.berg@example.com", "e-post", "anna.berg"),
        ("jag bor på Storgatan 12B", "adress", "Storgatan"),
        ("Min handläggare Fatima var bra", "namn", "Fatima"),
    ],
)
def test_each_kind_is_replaced_by_its_placeholder(text: str, kind: str, secret: str) -> None:
    result = redact_spans(text)
    assert secret not in result.text
    assert result.counts.get(kind) == 1
    assert redact(text) == result.text


def test_ordinary_words_and_organisations_are_kept() -> None:
    text = "Hej! Bra bemötande. Inga problem, Arbetsförmedlingen och Försäkringskassan samarbetade."
    assert redact(text) == text


def test_luhn_and_personnummer_shape() -> None:
    assert luhn_ok("8112189876")
    assert not luhn_ok("8112189875")
    assert is_personnummer("811218-9876")
    assert not is_personnummer("811218-9875")
