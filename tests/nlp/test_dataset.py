"""Labelled data: the shipped dev set and the rule that manager labels win."""

from __future__ import annotations

import json

import pytest

from nlp.codebook import load_codebook
from nlp.dataset import LabelledAnswer, combine_labels, load_dev, load_labelled


def test_shipped_dev_set_loads() -> None:
    dev = load_dev()
    assert len(dev) == 198
    assert all(a.text and a.themes for a in dev)


def test_manager_label_wins_over_dev_label_for_same_id() -> None:
    dev = [
        LabelledAnswer("d1", "lång väntan på beslut", ("handlaggning",)),
        LabelledAnswer("d2", "ok", ("annat",)),
    ]
    manager = [
        {"id": "d1", "themes": ["bemotande"]},
        {"id": "m9", "text": "bra coach", "themes": ["stod_till_arbete"]},
    ]
    rows = {a.id: a for a in combine_labels(dev, manager)}
    assert rows["d1"].themes == ("bemotande",) and rows["d1"].source == "manager"
    assert rows["d1"].text == "lång väntan på beslut"  # a relabel without text keeps the text
    assert rows["m9"].source == "manager" and rows["d2"].themes == ("annat",)


def test_labels_follow_codebook_merges() -> None:
    cb = load_codebook().apply({"kind": "merge", "payload": {"key": "fast_i_systemet", "into": "samverkan"}})
    rows = combine_labels([LabelledAnswer("a", "runt runt", ("fast_i_systemet",))], (), cb)
    assert rows[0].themes == ("samverkan",)


def test_broken_jsonl_names_the_line(tmp_path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"id": "1", "text": "a", "themes": ["halsa"]}) + "\n{not json\n", "utf-8")
    with pytest.raises(ValueError, match=":2:"):
        load_labelled(path)
