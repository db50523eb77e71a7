"""Planted PII: realistic Swedish answers (SMS, phone notes, panel reflections, case notes, limited
Swedish) with personal data planted in them; after nlp.redact not one planted item may survive."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from nlp.redact import redact_spans

PLANTED = Path(__file__).parent / "data" / "planted_pii.jsonl"
ITEMS = [json.loads(line) for line in PLANTED.read_text(encoding="utf-8").splitlines() if line.strip()]


def survives(kind: str, value: str, redacted: str) -> bool:
    """Does any identifying part of ``value`` remain in ``redacted``?"""
    if kind in ("personnummer", "telefon"):
        digits = re.sub(r"\D", "", value)
        runs = re.sub(r"\D", " ", redacted).split()
        return any(digits[i : i + 5] in run for run in runs for i in range(len(digits) - 4))
    if kind == "e-post":
        return value.split("@")[0].casefold() in redacted.casefold()
    parts = re.findall(r"[^\W_]+", value)
    if kind == "adress":
        parts = [p for p in parts if len(p) >= 2 and p.casefold() not in {"lgh", "se"}]
    words = {w.casefold() for w in re.findall(r"[^\W\d_]+(?:-[^\W\d_]+)*|\d+", redacted)}
    return any(p.casefold() in words for p in parts)


def test_the_set_is_large_and_covers_every_kind_and_channel() -> None:
    assert len(ITEMS) >= 150
    kinds = {p["kind"] for item in ITEMS for p in item["pii"]}
    assert kinds == {"personnummer", "telefon", "e-post", "adress", "namn"}
    assert {item["channel"] for item in ITEMS} == {"sms", "phone", "panel", "case", "limited"}
    for item in ITEMS:  # the planted values really are in the text
        assert all(p["value"] in item["text"] for p in item["pii"]), item["id"]
        assert all(not survives(p["kind"], p["value"], "") for p in item["pii"])


def test_no_planted_item_survives() -> None:
    survivors = []
    for item in ITEMS:
        redacted = redact_spans(item["text"]).text
        for p in item["pii"]:
            if survives(p["kind"], p["value"], redacted):
                survivors.append(f"{item['id']} {p['kind']} {p['value']!r}: {redacted}")
    assert survivors == [], f"{len(survivors)} planted items survived:\n" + "\n".join(survivors)


@pytest.mark.parametrize("kind", ["personnummer", "telefon", "e-post"])
def test_structured_kinds_get_their_own_placeholder(kind: str) -> None:
    """Numbers and e-mail are recognised as what they are (the audit counts rely on it)."""
    for item in ITEMS:
        want = sum(p["kind"] == kind for p in item["pii"])
        if want:
            assert redact_spans(item["text"]).counts.get(kind, 0) >= want, item["text"]


def test_redacting_twice_changes_nothing() -> None:
    """The worker re-redacts stored text before theming; placeholders must be stable."""
    for item in ITEMS:
        once = redact_spans(item["text"]).text
        assert redact_spans(once).text == once, item["id"]
