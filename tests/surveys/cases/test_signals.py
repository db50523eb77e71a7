"""The signal classifier: the labelled set's figures, sub-kinds and the hard negatives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from surveys.cases.signals import CrisisKind, classify, evaluate, normalise, signal_names

DATA = Path(__file__).resolve().parents[1] / "signals_labelled.jsonl"
MINIMUM_RECALL = {"crisis": 0.98, "call_me": 0.95, "opt_out": 0.95}


def _rows() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text("utf-8").splitlines() if line.strip()]


def test_the_labelled_set_is_large_varied_and_has_hard_negatives() -> None:
    rows = _rows()
    assert len(rows) >= 200 and len({r["id"] for r in rows}) == len(rows)
    prefixes = {r["id"].split("-")[0] for r in rows}
    assert {"sv", "easy", "en", "ar", "so"} <= prefixes
    assert sum(1 for r in rows if not r["signals"]) >= 60


def test_recall_and_precision_on_the_labelled_set() -> None:
    scores = {s.signal: s for s in evaluate((r["text"], r["signals"]) for r in _rows())}
    for signal, minimum in MINIMUM_RECALL.items():
        assert scores[signal].recall >= minimum, (signal, scores[signal])
        assert scores[signal].precision >= 0.9, (signal, scores[signal])


@pytest.mark.parametrize(
    "text",
    ["ring mig inte", "jag dör av skratt", "inget akut", "Ring mig inte mer", "Don't call me", "لا تتصلوا بي",
     "Ha i soo wicin", "jag vill inte sluta", "det slår mig att ni var snälla", "Jag blev vald till ordförande"],
)  # fmt: skip
def test_hard_negatives_carry_no_signal(text: str) -> None:
    assert signal_names(text) == []


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Jag vill ta livet av mig", (CrisisKind.SUICIDE,)),
        ("min sambo slår mig", (CrisisKind.PARTNER_VIOLENCE,)),
        ("någon hotar mig på gatan", (CrisisKind.VIOLENCE,)),
        ("I have chest pain", (CrisisKind.ILLNESS,)),
        ("vi har fått vräkningsbesked och har ingen mat", (CrisisKind.EVICTION, CrisisKind.NO_FOOD)),
        ("زوجي يضربني", (CrisisKind.PARTNER_VIOLENCE,)),
    ],
)
def test_crisis_sub_kinds_pick_the_help_line(text: str, kinds: tuple[CrisisKind, ...]) -> None:
    assert classify(text).crisis == kinds


def test_language_of_the_phrase_and_evidence() -> None:
    assert classify("توقف").language == "ar" and classify("JOOJI").language == "so"
    assert classify("stop please").language == "en"
    found = classify("Jag orkar inte mer, hyresvärden hotar med vräkning")
    assert found.evidence == ("orkar inte mer", "vräkning") and found.names == ["crisis"]


def test_normalise_unifies_case_punctuation_repeats_and_arabic_letters() -> None:
    assert normalise("RINGGG   mig!!!") == "ring mig"
    assert normalise("أريدُ") == "اريد"
