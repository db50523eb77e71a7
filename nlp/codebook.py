"""The theme codebook: stable keys, Swedish labels, seed terms, and the events that changed it.

Why event-sourced: managers rename, merge, retire, add and split themes over the years. Storing
the seed codebook plus an ordered list of events (instead of overwriting a taxonomy) means every
decision is auditable and replayable, and a codebook *version id* can be derived from the content
alone, so two processes that hold the same codebook agree on its version without a database.

Keys are contracts (GLOSSARY.md) and never change; labels can be renamed freely. A merged or
split key keeps resolving (``resolve``) so labels given under an old key are not lost.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CODEBOOK_PATH = DATA_DIR / "codebook.json"
FALLBACK_KEY = "annat"
EVENT_KINDS = ("add", "rename", "merge", "retire", "split", "add_seeds")


class CodebookError(ValueError):
    """An event that cannot be applied (unknown key, duplicate key, merge into itself …)."""


@dataclass(frozen=True)
class Theme:
    key: str
    label_sv: str
    description: str = ""
    seed_terms: tuple[str, ...] = ()
    seed_phrases: tuple[str, ...] = ()
    status: str = "active"  # active | retired | merged | split
    merged_into: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.status == "active"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label_sv": self.label_sv,
            "description": self.description,
            "seed_terms": list(self.seed_terms),
            "seed_phrases": list(self.seed_phrases),
            "status": self.status,
            "merged_into": list(self.merged_into),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Theme:
        return cls(
            key=str(data["key"]),
            label_sv=str(data.get("label_sv") or data["key"]),
            description=str(data.get("description", "")),
            seed_terms=tuple(data.get("seed_terms", ())),
            seed_phrases=tuple(data.get("seed_phrases", ())),
            status=str(data.get("status", "active")),
            merged_into=tuple(data.get("merged_into", ())),
        )


@dataclass(frozen=True)
class CodebookEvent:
    """One human decision about the codebook.

    kinds and payloads:
      add       {"key", "label_sv", "description"?, "seed_terms"?, "seed_phrases"?}
      rename    {"key", "label_sv"}
      merge     {"key", "into"}                  key's answers now count under ``into``
      retire    {"key"}
      split     {"key", "into": [theme dicts]}   key is replaced by two or more new themes
      add_seeds {"key", "seed_terms"?, "seed_phrases"?}
    """

    kind: str
    payload: Mapping[str, Any]
    by: str = ""
    at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "payload": dict(self.payload), "by": self.by, "at": self.at}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CodebookEvent:
        return cls(
            kind=str(data["kind"]),
            payload=dict(data.get("payload", {})),
            by=str(data.get("by", "")),
            at=str(data.get("at", "")),
        )


def _apply(themes: dict[str, Theme], event: CodebookEvent) -> dict[str, Theme]:
    kind, p = event.kind, event.payload
    if kind not in EVENT_KINDS:
        raise CodebookError(f"unknown event kind {kind!r}")
    out = dict(themes)
    if kind == "add":
        new = Theme.from_dict({**p, "status": "active", "merged_into": ()})
        if new.key in out:
            raise CodebookError(f"theme {new.key!r} already exists")
        out[new.key] = new
        return out
    key = str(p["key"])
    if key not in out or not out[key].active:
        raise CodebookError(f"no active theme {key!r}")
    theme = out[key]
    if key == FALLBACK_KEY and kind in ("merge", "retire", "split"):
        raise CodebookError(f"{FALLBACK_KEY!r} cannot be {kind}d")
    if kind == "rename":
        out[key] = replace(theme, label_sv=str(p["label_sv"]))
    elif kind == "add_seeds":
        out[key] = replace(
            theme,
            seed_terms=tuple(dict.fromkeys([*theme.seed_terms, *p.get("seed_terms", ())])),
            seed_phrases=tuple(dict.fromkeys([*theme.seed_phrases, *p.get("seed_phrases", ())])),
        )
    elif kind == "retire":
        out[key] = replace(theme, status="retired")
    elif kind == "merge":
        into = str(p["into"])
        if into == key or into not in out or not out[into].active:
            raise CodebookError(f"cannot merge {key!r} into {into!r}")
        target = out[into]
        out[into] = replace(
            target,
            seed_terms=tuple(dict.fromkeys([*target.seed_terms, *theme.seed_terms])),
            seed_phrases=tuple(dict.fromkeys([*target.seed_phrases, *theme.seed_phrases])),
        )
        out[key] = replace(theme, status="merged", merged_into=(into,))
    elif kind == "split":
        parts = [Theme.from_dict({**d, "status": "active", "merged_into": ()}) for d in p["into"]]
        if len(parts) < 2:
            raise CodebookError("a split needs at least two new themes")
        for part in parts:
            if part.key in out:
                raise CodebookError(f"theme {part.key!r} already exists")
            out[part.key] = part
        out[key] = replace(theme, status="split", merged_into=tuple(t.key for t in parts))
    return out


@dataclass(frozen=True)
class Codebook:
    """The seed themes plus the ordered events applied to them (immutable; edits return a copy)."""

    base: tuple[Theme, ...]
    events: tuple[CodebookEvent, ...] = ()
    _themes: dict[str, Theme] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        themes = {t.key: t for t in self.base}
        if len(themes) != len(self.base):
            raise CodebookError("duplicate theme keys in the base codebook")
        for event in self.events:
            themes = _apply(themes, event)
        object.__setattr__(self, "_themes", themes)

    # ------------------------------------------------------------------ reading
    @property
    def themes(self) -> dict[str, Theme]:
        """Every theme ever defined, including retired/merged ones (for history)."""
        return dict(self._themes)

    @property
    def active(self) -> list[Theme]:
        return [t for t in self._themes.values() if t.active]

    @property
    def keys(self) -> list[str]:
        """Active theme keys in a stable order, the fallback ``annat`` last."""
        keys = [t.key for t in self.active if t.key != FALLBACK_KEY]
        return [*keys, FALLBACK_KEY]

    @property
    def model_keys(self) -> list[str]:
        """The keys a classifier learns (everything active except the fallback)."""
        return [k for k in self.keys if k != FALLBACK_KEY]

    def label(self, key: str) -> str:
        return self._themes[key].label_sv if key in self._themes else key

    def resolve(self, key: str) -> list[str]:
        """Map an old key to the active key(s) it lives on as (merged → target, retired → [])."""
        seen: set[str] = set()
        todo, out = [key], []
        while todo:
            k = todo.pop(0)
            if k in seen:
                continue
            seen.add(k)
            theme = self._themes.get(k)
            if theme is None:
                continue
            if theme.active:
                out.append(k)
            elif theme.status == "merged":
                todo.extend(theme.merged_into)
            # split and retired: the old label no longer says which new theme applies → dropped
        return out

    def resolve_labels(self, keys: Iterable[str]) -> list[str]:
        out: list[str] = []
        for key in keys:
            for k in self.resolve(key):
                if k not in out:
                    out.append(k)
        return out

    @property
    def version(self) -> str:
        """Content hash of the base and the events: same content → same id in every process."""
        cached = self.__dict__.get("_version")
        if cached is None:
            cached = self._compute_version()
            object.__setattr__(self, "_version", cached)
        return cached

    def _compute_version(self) -> str:
        canon = json.dumps(
            {
                "base": [t.to_dict() for t in self.base],
                "events": [{"kind": e.kind, "payload": dict(e.payload)} for e in self.events],
            },
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        digest = hashlib.sha256(canon.encode()).hexdigest()[:12]
        return f"cb{len(self.events)}-{digest}"

    # ------------------------------------------------------------------ editing
    def apply(self, event: CodebookEvent | Mapping[str, Any]) -> Codebook:
        ev = event if isinstance(event, CodebookEvent) else CodebookEvent.from_dict(event)
        _apply(self._themes, ev)  # validate before building the new instance
        return Codebook(self.base, (*self.events, ev))

    def with_events(self, events: Iterable[CodebookEvent | Mapping[str, Any]]) -> Codebook:
        cb = self
        for ev in events:
            cb = cb.apply(ev)
        return cb

    # ------------------------------------------------------------------ (de)serialising
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": 1,
            "themes": [t.to_dict() for t in self.base],
            "events": [e.to_dict() for e in self.events],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Codebook:
        return cls(
            base=tuple(Theme.from_dict(t) for t in data["themes"]),
            events=tuple(CodebookEvent.from_dict(e) for e in data.get("events", ())),
        )


def load_codebook(path: str | Path | None = None) -> Codebook:
    """The shipped seed codebook, or one saved by the app (same JSON shape)."""
    with open(path or DEFAULT_CODEBOOK_PATH, encoding="utf-8") as fh:
        return Codebook.from_dict(json.load(fh))


def save_codebook(codebook: Codebook, path: str | Path) -> None:
    Path(path).write_text(json.dumps(codebook.to_dict(), ensure_ascii=False, indent=2) + "\n", "utf-8")
