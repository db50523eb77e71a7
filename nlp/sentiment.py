"""Polarity of short Swedish answers, per answer and per clause (so per theme mention).

Why a lexicon with rules rather than a trained classifier: the labelled data is a few hundred
answers, and real clients use words the dev sentences never saw. A polarity lexicon written from
the meaning of the words (``data/sentiment_sv.txt``) plus a handful of Swedish rules generalises
to unseen wording and can be read and corrected by a person:

* **negation** – ``inte, aldrig, ingen, utan …`` flip the polarity words within three words after
  them, or — Swedish puts the negation after the finite verb — the word just before them
  ("hon lyssnade inte"). A negated negative is weakly positive ("inte dåligt"). Negated
  *expectation* words are negative even though they are neutral alone ("fick inget svar",
  "aldrig fått hjälp", "ingen ringde"). "inte bara" is not a negation.
* **contrast** – ``men, dock, däremot, medan`` and ", fast" start a new clause; like VADER, the
  clause after the contrast weighs more (×1.5) for the answer's overall label and the one before
  it less (×0.5). Each clause keeps its own label, which gives each theme mention its polarity:
  "bra bemötande men lång väntan" → bemotande ``pos``, handlaggning ``neg``.
* **intensifiers / downtoners** – "väldigt", "jätte-" (also as a prefix: "jättebra"), "ganska".
* **SMS** – ``nlp.text.normalise`` expands SMS forms ("mkt", "nt", "AF") and turns emoji and
  emoticons into the tokens ``emojipositiv`` / ``emojinegativ``, scored here.

Labels are ``pos``, ``neg``, ``neu`` and, for an answer (not a clause) that clearly says both,
``mix`` (the design's "blandad"). Everything is module-level and picklable, and one answer takes
tens of microseconds (the token analysis is cached).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import compress, count
from typing import Any, Literal

from nlp import text as _text

__all__ = [
    "LABELS",
    "Clause",
    "Sentiment",
    "analyse_normalised",
    "clause_sentiments",
    "label_for",
    "lexicon",
    "mention_sentiments",
    "sentiment",
]

POS, NEG, NEU, MIX = "pos", "neg", "neu", "mix"
LABELS = (NEG, NEU, POS, MIX)
LEXICON_FILE = "sentiment_sv.txt"

NEUTRAL_BAND = 0.25  # |score| below this is neutral
MIX_MIN = 1.0  # both the positive and the negative mass must reach this for "mix" …
MIX_RATIO = 0.5  # … and the smaller must be at least half the larger
CONTRAST_AFTER = 1.5
CONTRAST_BEFORE = 0.5
NEG_FORWARD = 3  # words after a negator that it can reach
NEG_BACKWARD = 2  # words before it ("lyssnade hon inte")
NEGATED_NEGATIVE = -0.5  # "inte dåligt" → +0.5 × |w|
EXPECTATION_DEFAULT = -1.0
EMOJI_WEIGHT = 1.5
# Negators that follow the verb they negate (V2 order); "ingen", "utan" only look forward.
_BACKWARD_NEGATORS = frozenset({"inte", "aldrig", "knappast", "knapp"})


@dataclass(frozen=True)
class Lexicon:
    words: dict[str, tuple[str, float]]  # stem -> (kind, weight), only unambiguous stems
    surface: dict[str, tuple[str, float]]  # listed word form -> (kind, weight), checked first
    phrases: dict[str, list[tuple[tuple[str, ...], str, float]]]  # first stem -> longest first
    heads: tuple[tuple[str, float], ...]  # compound heads (stem, weight), longest first


def _parse(lines: Iterable[str]) -> Lexicon:
    by_stem: dict[str, set[tuple[str, float]]] = {}
    surface: dict[str, tuple[str, float]] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], str, float]]] = {}
    heads: list[tuple[str, float]] = []
    defaults = {"P": 0.0, "E": EXPECTATION_DEFAULT, "I": 1.5, "D": 0.6, "N": 0.0, "X": 0.0}
    for n, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        head, _, forms = line.partition(":")
        parts = head.split()
        if not forms or not parts or parts[0] not in defaults:
            raise ValueError(f"{LEXICON_FILE}:{n}: expected 'KIND [WEIGHT]: forms'")
        kind = parts[0]
        weight = float(parts[1]) if len(parts) > 1 else defaults[kind]
        for form in (f.strip().casefold() for f in forms.split(",")):
            if not form:
                continue
            compound = form.endswith("*")
            stems = tuple(_text.stem(w) for w in _text.tokenise(_text.normalise(form.rstrip("*"))))
            if not stems:
                continue
            if len(stems) > 1:
                phrases.setdefault(stems[0], []).append((stems, kind, weight))
                continue
            word = _text.tokenise(_text.normalise(form.rstrip("*")))[0]
            old = surface.get(word)
            # A polarity entry wins over an expectation entry for the same form.
            if old is None or (old[0] == "E" and kind == "P"):
                surface[word] = (kind, weight)
            by_stem.setdefault(stems[0], set()).add((kind, weight))
            if compound:
                heads.append((stems[0], weight))
    for cands in phrases.values():
        cands.sort(key=lambda c: -len(c[0]))
    # A stem shared by forms of different meaning ("jobbig" and "jobb" both stem to "jobb")
    # only matches the listed forms themselves.
    words: dict[str, tuple[str, float]] = {}
    for st, entries in by_stem.items():
        if len(entries) == 1:
            words[st] = next(iter(entries))
        elif len({e[0] for e in entries}) == 1 and len({e[1] > 0 for e in entries}) == 1:
            words[st] = max(entries, key=lambda e: abs(e[1]))
    words[_text.EMOJI_POS] = ("M", EMOJI_WEIGHT)
    words[_text.EMOJI_NEG] = ("M", -EMOJI_WEIGHT)
    for neg in _text.NEGATIONS:
        words.setdefault(_text.stem(neg), ("N", 0.0))
    heads.sort(key=lambda h: -len(h[0]))
    return Lexicon(words, surface, phrases, tuple(heads))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The shipped lexicon (parsed and stemmed once per process)."""
    return _parse((resources.files("nlp") / "data" / LEXICON_FILE).read_text("utf-8").splitlines())


# ---------------------------------------------------------------------------------------------
# Clauses

_CONTRAST = ("men", "dock", "däremot", "medan", "fast")
# ``_SPLIT`` can only split a text holding one of these characters or a contrast word
_MAYBE_SPLIT = re.compile(r"[.!?;:\n,]")
_CONTRAST_SET = frozenset(_CONTRAST)
_SPLIT = re.compile(
    r"[.!?;:\n]+|,\s*(?=(?:men|dock|däremot|medan|fast)\b)|,|\s(?=(?:men|dock|däremot|medan)\b)"
)


@dataclass(frozen=True)
class Clause:
    text: str  # normalised clause text
    label: str
    score: float
    words: frozenset[str] = field(default_factory=frozenset, repr=False)
    contrast: bool = False  # starts with "men", "dock" …


@dataclass(frozen=True)
class Sentiment:
    label: str
    score: float  # contrast-weighted sum over clauses
    positive: float  # positive mass (before contrast weighting)
    negative: float  # negative mass, as a positive number
    clauses: tuple[Clause, ...] = ()

    @property
    def polarity(self) -> str:
        return self.label


def label_for(score: float) -> str:
    if score >= NEUTRAL_BAND:
        return POS
    if score <= -NEUTRAL_BAND:
        return NEG
    return NEU


@lru_cache(maxsize=2**16)
def _word_entry(word: str) -> tuple[str, float, float] | None:
    """(kind, weight, prefix multiplier) for one normalised word, or None."""
    lex = lexicon()
    entry = lex.surface.get(word) or lex.words.get(_text.stem(word))
    if entry is not None:
        return entry[0], entry[1], 1.0
    rest = _text.split_intensifier(word)
    if rest is not None:  # "jättebra", "skitdåligt", "supernöjd"
        entry = lex.surface.get(rest) or lex.words.get(_text.stem(rest))
        if entry is not None and entry[0] in ("P", "E"):
            return entry[0], entry[1], 1.5
    for head, weight in lex.heads:  # "ekonomiproblem"
        st = _text.stem(word)
        if len(st) - len(head) >= 3 and st.endswith(head):
            return "P", weight, 1.0
    return None


# word -> (stem, starts a phrase?, entry), or False for a word that is neither in the lexicon nor
# the start of a phrase (most words); a plain dict read through ``map`` is the cheapest look-up
_Info = tuple[str, bool, tuple[str, float, float] | None]
_INFO: dict[str, _Info | Literal[False]] = {}
_INFO_LIMIT = 300_000


def _word_info(word: str) -> _Info | Literal[False]:
    info = _INFO.get(word)
    if info is None:
        st = _text.stem(word)
        starts, entry = st in lexicon().phrases, _word_entry(word)
        info = (st, starts, entry) if starts or entry is not None else False
        if len(_INFO) >= _INFO_LIMIT:
            _INFO.clear()
        _INFO[word] = info
    return info


def _items(words: Sequence[str]) -> list[tuple[int, str, float]]:
    """(position, kind, weight) for each lexicon hit; phrases win over their words."""
    info = list(map(_INFO.get, words))
    if None in info:  # words not seen before
        info = list(map(_word_info, words))
    out: list[tuple[int, str, float]] = []
    if not any(info):
        return out
    skip = 0
    stem = _text.stem
    for i in compress(count(), info):  # positions of hits only (C loop over the rest)
        hit_info = info[i]
        if i < skip or not hit_info:  # (compress yields hits only: ``not hit_info`` never holds)
            continue
        st, starts, entry = hit_info
        if starts:  # stems of the phrase's window only (most answers are longer than a phrase)
            hit = next(
                (c for c in lexicon().phrases[st] if tuple(map(stem, words[i : i + len(c[0])])) == c[0]), None
            )
            if hit is not None:
                if hit[2] != 0.0 or hit[1] != "P":
                    out.append((i, hit[1], hit[2]))
                skip = i + len(hit[0])
                continue
        if entry is not None:
            kind, weight, mult = entry
            out.append((i, kind, weight * mult))
    return out


_PLAIN = frozenset(("P", "M"))


def _score_words(words: Sequence[str]) -> float:
    items = _items(words)
    if not items:
        return 0.0
    if all(kind in _PLAIN for _, kind, _ in items):  # no negation or modifier: the plain sum
        return sum(w for _, _, w in items)
    kinds = {pos: (kind, w) for pos, kind, w in items}
    used: set[int] = set()
    total = 0.0
    # modifiers: an intensifier/downtoner right before (1–2 words) a polarity word scales it
    scale: dict[int, float] = {}
    for pos, kind, w in items:
        if kind in ("I", "D"):
            for nxt in (pos + 1, pos + 2):
                k = kinds.get(nxt)
                if k is not None and k[0] in ("P", "M"):
                    scale[nxt] = scale.get(nxt, 1.0) * w
                    break
    # negation
    for pos, kind, _w in items:
        if kind != "N":
            continue
        following = kinds.get(pos + 1)
        if following is not None and following[0] == "X":
            continue
        forward = [p for p in range(pos + 1, pos + 1 + NEG_FORWARD) if p in kinds and p not in used]
        stop = next((p for p in forward if kinds[p][0] == "N"), None)  # "inte … ingen" starts anew
        if stop is not None:
            forward = [p for p in forward if p < stop]
        backward = []
        if _text.stem(words[pos]) in _BACKWARD_NEGATORS:  # "lyssnade inte", not "bra utan …"
            backward = [p for p in range(pos - NEG_BACKWARD, pos) if p in kinds and p not in used]
        if words[pos] == "utan" and any(kinds[p][0] == "N" for p in range(pos) if p in kinds):
            continue  # "inte bara X utan Y": utan is a contrast here, not "without"
        polar = [p for p in forward if kinds[p][0] == "P"]
        polar += [p for p in reversed(backward) if kinds[p][0] == "P"][:1]
        contribution = 0.0
        for p in polar:
            w = kinds[p][1] * scale.get(p, 1.0)
            contribution += -w if w > 0 else NEGATED_NEGATIVE * w
            used.add(p)
        expect = [p for p in forward + backward if kinds[p][0] == "E"]
        if not polar and expect:
            contribution += kinds[expect[0]][1]
        used.update(expect)
        total += contribution
    for pos, kind, w in items:
        if kind in ("P", "M") and pos not in used:
            total += w * scale.get(pos, 1.0)
    return total


def _analyse(text: str) -> Sentiment:
    return analyse_normalised(_text.normalise(text))


def _pieces(norm: str) -> Iterator[tuple[str, list[str]]]:
    """(clause text, words) for each non-empty clause of a normalised answer."""
    for piece in _SPLIT.split(norm):
        words = _text.tokenise(piece)
        if words:
            yield piece, words


def _overall(scores: Sequence[float], contrasts: Sequence[bool]) -> tuple[str, float, float, float]:
    """(label, score, positive, negative) of an answer from its clause scores: a clause after a
    contrast ("men …") weighs more, the one before it less; strong praise and strong complaint
    together are ``mix``."""
    weights = [1.0] * len(scores)
    for i, contrast in enumerate(contrasts):
        if contrast:
            weights[i] *= CONTRAST_AFTER
            if i > 0:
                weights[i - 1] *= CONTRAST_BEFORE
    score = sum(w * c for w, c in zip(weights, scores, strict=True))
    positive = sum(c for c in scores if c > 0)
    negative = -sum(c for c in scores if c < 0)
    if min(positive, negative) >= MIX_MIN and min(positive, negative) >= MIX_RATIO * max(positive, negative):
        label = MIX
    else:
        label = label_for(score)
    return label, score, positive, negative


@lru_cache(maxsize=2**14)
def analyse_normalised(norm: str) -> Sentiment:
    """``sentiment`` of a text already passed through ``nlp.text.normalise`` (the batch
    scorer normalises each answer once for themes and sentiment)."""
    clauses: list[Clause] = []
    for piece, words in _pieces(norm):
        score = round(_score_words(words), 4)
        clauses.append(
            Clause(
                text=piece.strip(),
                label=label_for(score),
                score=score,
                words=frozenset(words),
                contrast=words[0] in _CONTRAST,
            )
        )
    label, score, positive, negative = _overall([c.score for c in clauses], [c.contrast for c in clauses])
    return Sentiment(label, round(score, 4), round(positive, 4), round(negative, 4), tuple(clauses))


def label_normalised(norm: str, words: Sequence[str] | None = None) -> str:
    """Only the label of ``analyse_normalised(norm)``: batch theming that writes no per-theme
    sentiment skips building the clauses (a third of the sentiment cost).

    ``words``: ``nlp.text.tokenise(norm)`` when the caller has it; an answer that is one clause
    (no punctuation, no contrast word: most SMS replies) is then scored from it directly.
    """
    if words is not None and not _MAYBE_SPLIT.search(norm) and _CONTRAST_SET.isdisjoint(words):
        return label_for(round(_score_words(words), 4)) if words else NEU
    scores: list[float] = []
    contrasts: list[bool] = []
    for _piece, clause_words in _pieces(norm):
        scores.append(round(_score_words(clause_words), 4))
        contrasts.append(clause_words[0] in _CONTRAST)
    return _overall(scores, contrasts)[0]


def sentiment(text: str) -> Sentiment:
    """Overall polarity of one (redacted) answer, with its clauses."""
    return _analyse(text)


def clause_sentiments(text: str) -> list[Clause]:
    """The answer split at sentence ends, commas and contrasts, each with its own polarity."""
    return list(_analyse(text).clauses)


@lru_cache(maxsize=2**14)
def _term_words(term: str) -> frozenset[str]:
    return frozenset(_text.tokens(term))


def _clause_words(clause: Any) -> frozenset[str]:
    words = getattr(clause, "words", None)
    if words:
        return words
    ctext = clause[0] if isinstance(clause, tuple | list) else getattr(clause, "text", "")
    return frozenset(_text.tokens(str(ctext)))


def _clause_label(clause: Any) -> str:
    if isinstance(clause, tuple | list):
        return str(clause[1]) if len(clause) > 1 else NEU
    return str(getattr(clause, "label", NEU))


def mention_sentiments(
    clauses: Sequence[Any], evidence: Mapping[str, Sequence[str]], overall: str
) -> dict[str, str]:
    """Polarity of each theme mention: the clauses that contain its evidence words.

    Evidence terms are ordered best first (matched seed words, then the model's strongest
    features), so the theme's mention is the clause(s) holding its best-ranked locatable term;
    when that term occurs in clauses of opposite polarity their scores are summed (or the
    label is ``mix`` when the clauses carry no score). A theme whose evidence cannot be located
    (a model-only assignment) takes the answer's label. ``clauses`` may be ``Clause`` objects
    or ``(text, label)`` pairs.
    """
    words = [_clause_words(c) for c in clauses]
    out: dict[str, str] = {}
    for key, terms in evidence.items():
        hits: list[int] = []
        for term in terms:
            tw = _term_words(term)
            if tw:
                hits = [i for i, ws in enumerate(words) if tw <= ws]
                if hits:
                    break
        if not hits:
            out[key] = overall
            continue
        labels = {_clause_label(clauses[i]) for i in hits} - {NEU}
        if len(labels) <= 1:
            out[key] = labels.pop() if labels else NEU
        elif all(isinstance(getattr(clauses[i], "score", None), float) for i in hits):
            out[key] = label_for(sum(clauses[i].score for i in hits))
        else:
            out[key] = MIX
    return out
