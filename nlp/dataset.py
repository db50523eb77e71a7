"""Labelled answers: the shipped dev set, manager labels, and how they combine.

Why a separate module: training, evaluation and the CLI all read the same JSONL shape
(``{"id", "text", "themes"}``) and must apply the same rule — a manager's label for a text id
always replaces the dev label for that id — so the rule lives in one place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.codebook import DATA_DIR, FALLBACK_KEY, Codebook

DEV_DATA_PATH = DATA_DIR / "themes_dev.jsonl"


@dataclass(frozen=True)
class LabelledAnswer:
    id: str
    text: str
    themes: tuple[str, ...]
    source: str = "dev"  # dev | manager | gold | pseudo
    weight: float = 1.0
    sentiment: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "dev") -> LabelledAnswer:
        themes = data.get("themes") or []
        if isinstance(themes, str):
            themes = [themes]
        return cls(
            id=str(data["id"]),
            text=str(data.get("text") or ""),
            themes=tuple(str(t) for t in themes),
            source=str(data.get("source", source)),
            weight=float(data.get("weight", 1.0)),
            sentiment=data.get("sentiment"),
        )


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    """Yield one dict per non-empty line; a broken line raises ValueError naming its number."""
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict) or "id" not in row:
                raise ValueError(f"{path}:{n}: expected an object with an 'id'")
            yield row


def load_labelled(path: str | Path, source: str = "dev") -> list[LabelledAnswer]:
    return [LabelledAnswer.from_dict(r, source) for r in read_jsonl(path)]


def load_dev() -> list[LabelledAnswer]:
    """The shipped development set (paraphrased client statements, see data/README)."""
    return load_labelled(DEV_DATA_PATH, "dev")


def combine_labels(
    labelled: Iterable[LabelledAnswer | Mapping[str, Any]],
    manager_labels: Iterable[LabelledAnswer | Mapping[str, Any]] = (),
    codebook: Codebook | None = None,
) -> list[LabelledAnswer]:
    """Dev labels overlaid by manager labels (same id → manager wins), mapped onto the codebook.

    Keys that were merged resolve to their target; labels on retired/split keys are dropped; an
    answer left with no active theme counts as ``annat``. Manager rows without text inherit the
    text of the row they relabel.
    """
    rows: dict[str, LabelledAnswer] = {}
    for item in labelled:
        a = item if isinstance(item, LabelledAnswer) else LabelledAnswer.from_dict(item)
        rows[a.id] = a
    for item in manager_labels:
        a = item if isinstance(item, LabelledAnswer) else LabelledAnswer.from_dict(item, "manager")
        if a.source != "manager":
            a = LabelledAnswer(a.id, a.text, a.themes, "manager", a.weight, a.sentiment)
        if not a.text and a.id in rows:
            a = LabelledAnswer(a.id, rows[a.id].text, a.themes, "manager", a.weight, a.sentiment)
        rows[a.id] = a
    out = []
    for a in rows.values():
        if not a.text.strip():
            continue
        themes = tuple(codebook.resolve_labels(a.themes)) if codebook else a.themes
        themes = tuple(t for t in themes if t != FALLBACK_KEY) or (FALLBACK_KEY,)
        out.append(LabelledAnswer(a.id, a.text, themes, a.source, a.weight, a.sentiment))
    return out


def labels_digest(manager_labels: Iterable[LabelledAnswer | Mapping[str, Any]]) -> str:
    """A content hash of manager labels (id and themes): tells whether a model saw the current ones.

    ``nlp.themes.train`` records it in the manifest; the app compares it with the labels it
    stores to decide whether the current model is out of date.
    """
    lines = []
    for item in manager_labels:
        a = item if isinstance(item, LabelledAnswer) else LabelledAnswer.from_dict(item, "manager")
        lines.append(f"{a.id}\t{','.join(sorted(a.themes))}")
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:16]
