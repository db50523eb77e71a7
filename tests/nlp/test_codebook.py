"""The codebook: seeded themes, events, deterministic versions, resolving old keys."""

from __future__ import annotations

import pickle

import pytest

from nlp.codebook import Codebook, CodebookError, CodebookEvent, load_codebook, save_codebook

SEEDED = {
    "bemotande",
    "samverkan",
    "fast_i_systemet",
    "ekonomisk_trygghet",
    "handlaggning",
    "stod_till_arbete",
    "halsa",
    "delaktighet",
}


def test_shipped_codebook_has_the_glossary_themes_with_swedish_labels_and_seeds() -> None:
    cb = load_codebook()
    assert set(cb.model_keys) == SEEDED
    assert cb.keys[-1] == "annat"
    for key in SEEDED:
        theme = cb.themes[key]
        assert theme.label_sv and theme.description
        assert len(theme.seed_terms) >= 10 and len(theme.seed_phrases) >= 5


def test_version_is_deterministic_and_changes_with_every_event() -> None:
    a, b = load_codebook(), load_codebook()
    assert a.version == b.version
    renamed = a.apply({"kind": "rename", "payload": {"key": "halsa", "label_sv": "Hälsa och mående"}})
    assert renamed.version != a.version
    assert renamed.label("halsa") == "Hälsa och mående"
    assert a.label("halsa") == "Hälsa"  # the original is untouched (immutable edits)
    again = a.apply(CodebookEvent("rename", {"key": "halsa", "label_sv": "Hälsa och mående"}, by="x"))
    assert again.version == renamed.version  # who decided does not change the content


def test_merge_resolves_old_key_and_moves_seeds() -> None:
    cb = load_codebook().apply({"kind": "merge", "payload": {"key": "fast_i_systemet", "into": "samverkan"}})
    assert "fast_i_systemet" not in cb.model_keys
    assert cb.resolve("fast_i_systemet") == ["samverkan"]
    assert "ingenstans" in cb.themes["samverkan"].seed_terms
    assert cb.resolve_labels(["fast_i_systemet", "samverkan", "halsa"]) == ["samverkan", "halsa"]


def test_add_split_retire_and_invalid_events() -> None:
    cb = load_codebook().apply(
        {
            "kind": "add",
            "payload": {"key": "sprak_och_tolk", "label_sv": "Språk och tolk", "seed_terms": ["tolk*"]},
        }
    )
    assert "sprak_och_tolk" in cb.model_keys
    cb = cb.apply(
        {
            "kind": "split",
            "payload": {
                "key": "halsa",
                "into": [
                    {"key": "psykisk_halsa", "label_sv": "Psykisk hälsa", "seed_terms": ["ångest*"]},
                    {"key": "fysisk_halsa", "label_sv": "Fysisk hälsa", "seed_terms": ["rygg*"]},
                ],
            },
        }
    )
    assert {"psykisk_halsa", "fysisk_halsa"} <= set(cb.model_keys) and "halsa" not in cb.model_keys
    assert cb.resolve("halsa") == []  # a split label cannot say which half applies
    cb = cb.apply({"kind": "retire", "payload": {"key": "delaktighet"}})
    assert "delaktighet" not in cb.keys and "delaktighet" in cb.themes
    with pytest.raises(CodebookError):
        cb.apply({"kind": "rename", "payload": {"key": "delaktighet", "label_sv": "x"}})
    with pytest.raises(CodebookError):
        cb.apply({"kind": "merge", "payload": {"key": "samverkan", "into": "samverkan"}})
    with pytest.raises(CodebookError):
        cb.apply({"kind": "retire", "payload": {"key": "annat"}})
    with pytest.raises(CodebookError):
        cb.apply({"kind": "explode", "payload": {"key": "samverkan"}})


def test_round_trip_through_json_and_pickle(tmp_path) -> None:
    cb = load_codebook().apply({"kind": "add_seeds", "payload": {"key": "halsa", "seed_terms": ["migrän"]}})
    save_codebook(cb, tmp_path / "cb.json")
    loaded = load_codebook(tmp_path / "cb.json")
    assert loaded.version == cb.version and "migrän" in loaded.themes["halsa"].seed_terms
    assert pickle.loads(pickle.dumps(cb)).version == cb.version
    assert Codebook.from_dict(cb.to_dict()).keys == cb.keys
