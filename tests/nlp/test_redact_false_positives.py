"""nlp.redact keeps ordinary Swedish: few tokens redacted on real-looking answers, and the
everyday words that are also names ("Inga", "Klara", "Liv", "Per", …) survive where they are words."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nlp.dataset import load_dev
from nlp.redact import redact, redact_spans

ORDINARY = [
    line
    for line in (Path(__file__).parent / "data" / "ordinary_sv.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
_TOKEN = re.compile(r"[^\W_]+")

# Never redacted as they appear in ORDINARY (as words, organisations, or place names used as words).
NEVER_REDACTED = """Hej Bra Tack Inga Klara klara Liv liv Per per Tom Ville ville Max Dag Sol Vi Mina Hans Mark Berg Storm
Strid Frisk Modig Stark Maj Rosa Saga Bo Frid Fred Del Kaj Knut Hall Gren Ljung Urban Inge inge Inger Rask Sanna
Tim Arbetsförmedlingen Försäkringskassan Socialtjänsten Kommunen kommunen AF FK soc Malmö Göteborg Borås Lund
Sverige Jobbtorget Ica Rusta SFI Komvux Samhall Gud""".split()


def _redacted_token_share(texts: list[str]) -> tuple[float, list[str]]:
    total, redacted, what = 0, 0, []
    for text in texts:
        total += len(_TOKEN.findall(text))
        for span in redact_spans(text).spans:
            redacted += len(_TOKEN.findall(text[span.start : span.end]))
            what.append(f"{span.kind}: {text[span.start : span.end]!r} in {text!r}")
    return redacted / max(total, 1), what


def test_dev_data_has_at_most_one_percent_of_tokens_redacted() -> None:
    texts = [a.text for a in load_dev()]
    assert len(texts) > 100
    share, what = _redacted_token_share(texts)
    assert share <= 0.01, what


def test_ordinary_sentences_have_at_most_one_percent_of_tokens_redacted() -> None:
    assert len(ORDINARY) >= 80
    share, what = _redacted_token_share(ORDINARY)
    assert share <= 0.01, what


@pytest.mark.parametrize("word", NEVER_REDACTED)
def test_listed_ordinary_words_are_never_redacted(word: str) -> None:
    sentences = [s for s in ORDINARY if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", s)]
    assert sentences, f"{word!r} is not used in the ordinary sentences"
    for s in sentences:
        assert re.search(rf"(?<!\w){re.escape(word)}(?!\w)", redact(s)), (word, s, redact(s))


def test_redaction_is_idempotent_on_placeholders() -> None:
    once = redact("Min handläggare Anna Berg, 070-123 45 67, anna@example.se, Storgatan 3, 850312-1234")
    assert redact(once) == once
