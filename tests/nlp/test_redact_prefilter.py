"""The names pre-check may skip an answer only when the full name rules would find nothing."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nlp.redact import _may_hold_names, _names_all, redact

DATA = Path(__file__).parent / "data"
WORDS = [
    "hej", "min", "handläggare", "heter", "hon", "jag", "är", "e", "ring", "tack", "mvh", "bra",
    "Anna", "anna", "Annas", "Klara", "klara", "Inga", "Berg", "Karlsson", "Xyzberg", "Svetlana",
    "Storgatan", "Arbetsförmedlingen", "AF", "Det", "Mötet", "Fick", "kommunen", "Anna-Karin",
    "Östersund", "Åsa", "Élise", "İlker", "x", ".", ",", "!", "-", "/", "\n", ":", "(", "”", "  ",
]  # fmt: skip


def _found(text: str) -> list:
    out: list = []
    _names_all(text, out)
    return out


def _texts() -> list[str]:
    texts = [
        json.loads(line)["text"] for line in (DATA / "planted_pii.jsonl").read_text("utf-8").splitlines()
    ]
    texts += (DATA / "ordinary_sv.txt").read_text("utf-8").splitlines()
    return texts


def test_precheck_never_skips_a_shipped_example_with_a_name() -> None:
    texts = _texts()
    assert any(_found(t) for t in texts)
    for text in texts:
        if _found(text):
            assert _may_hold_names(text), text


def test_precheck_skips_plain_answers() -> None:
    assert not _may_hold_names("det tog lång tid att få ett beslut från kommunen")
    assert not _may_hold_names("Bra bemötande men lång väntan. Arbetsförmedlingen hjälpte inte")
    assert _may_hold_names("bra bemötande av anna")
    assert _may_hold_names("Det var bra, tack Xyzberg")
    assert redact("Det var bra, tack Xyzberg") == "Det var bra, tack [NAMN]"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=12), st.sampled_from([" ", "", " ,", ". "]))
def test_precheck_is_a_superset_of_the_name_rules(words: list[str], sep: str) -> None:
    text = (sep or " ").join(words)
    if _found(text):
        assert _may_hold_names(text), text
