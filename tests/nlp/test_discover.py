"""Discovery: a recurring uncovered subject becomes a proposal; decisions survive re-runs."""

from __future__ import annotations

import random
import re

import pytest

import nlp.discover as discover_mod
from nlp.codebook import load_codebook
from nlp.dataset import load_dev
from nlp.discover import AnswerItem, Decision, discover

TOLK = [
    "fick ingen tolk på mötet",
    "tolken kom aldrig",
    "behövde tolk men fick ingen tolk",
    "tolken förstod inte min dialekt",
    "utan tolk förstod jag ingenting",
    "bra tolk den här gången",
    "tolken var sen igen",
    "tolk via telefon fungerade dåligt",
    "jag vill ha en kvinnlig tolk",
    "tolken översatte fel",
]


def _items(tolk_respondents: int = 8) -> list[AnswerItem]:
    rng = random.Random(3)
    items = [AnswerItem(a.id, a.text, f"r{i}") for i, a in enumerate(load_dev())]
    for i in range(40):
        text = (
            rng.choice(TOLK)
            + " "
            + rng.choice(["", "igen", "tyvärr", "som vanligt", "ring mig 070-123 45 67"])
        )
        items.append(AnswerItem(f"t{i}", text, f"tolk{i % tolk_respondents}"))
    return items


def _fake_redact(text: str) -> str:
    return re.sub(r"\d[\d -]{6,}\d", "[TELEFON]", text)


@pytest.fixture(scope="module")
def result():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(discover_mod, "redact", _fake_redact)  # quotes go through nlp.redact
        return discover(_items(), load_codebook())


def _tolk(proposals):
    return [p for p in proposals if "tolk" in " ".join(p.label_terms)]


def test_uncovered_subject_is_proposed_with_readable_label_and_redacted_quotes(result) -> None:
    found = _tolk(result.proposals)
    assert found, [p.label_terms for p in result.proposals]
    for p in found:
        assert p.n_respondents >= 5 and len(p.quotes) == 5
        assert len({q["id"] for q in p.quotes}) == 5
        assert all("070" not in q["text"] for q in p.quotes)  # quotes are redacted
        assert all(t.isalpha() for t in p.label_terms) and p.proposal_id.startswith("p-")
    # the proposals are mostly the interpreter answers, and hold a good share of them
    members = [i for p in found for i in p.member_ids]
    n_tolk = sum(i.startswith("t") for i in members)
    assert n_tolk >= 15 and n_tolk / len(members) >= 0.6
    assert result.k_new in result.stability_by_k


def test_clusters_with_fewer_than_five_respondents_are_not_shown() -> None:
    rng = random.Random(5)
    bus = ["busskortet borde ingå", "fick inget busskort", "busskort kostar för mycket", "dyrt busskort"]
    items = [AnswerItem(f"t{i}", rng.choice(TOLK), f"tolk{i % 3}") for i in range(30)]
    items += [AnswerItem(f"b{i}", rng.choice(bus), f"bus{i % 10}") for i in range(30)]
    res = discover(items, load_codebook(), k_candidates=(2,))
    assert not _tolk(res.proposals)
    assert any("busskort" in p.label_terms for p in res.proposals)
    assert all(p.n_respondents >= 5 for p in res.proposals)
    assert all(p.n_respondents < 5 for p, why in res.suppressed if "färre än 5" in why)


def test_rejected_proposal_is_suppressed_and_rename_is_kept_on_rerun(result) -> None:
    found = _tolk(result.proposals)
    rejects = [Decision(p.proposal_id + "x", "reject", tuple(p.label_terms)) for p in found]  # by terms
    again = discover(_items(), load_codebook(), decisions=rejects)
    assert not _tolk(again.proposals)
    p = found[0]
    assert any(why.startswith("liknar ett förslag som avvisats") for _, why in again.suppressed)
    rename = {
        "proposal_id": p.proposal_id,
        "action": "rename",
        "label_terms": p.label_terms,
        "label_sv": "Tolk",
    }
    renamed = _tolk(discover(_items(), load_codebook(), decisions=[rename]).proposals)
    assert renamed and renamed[0].label_sv == "Tolk" and renamed[0].status == "renamed"
    merges = [
        {"proposal_id": q.proposal_id, "action": "merge", "label_terms": q.label_terms, "key": "samverkan"}
        for q in found
    ]
    merged = discover(_items(), load_codebook(), decisions=merges)
    assert not _tolk(merged.proposals)
    assert all(q.decision is not None for q, _ in merged.suppressed if "sammanslaget" in _)


def test_unknown_decision_is_rejected() -> None:
    with pytest.raises(ValueError):
        Decision.from_dict({"proposal_id": "p", "action": "delete"})
