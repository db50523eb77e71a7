"""Which inbound texts need a person to act (pure): crisis, "ring mig", opt-out phrases.

Why hand-written phrase rules and not the theme model: the inner loop must be predictable and
explainable to a caseworker ("opened because the message said 'vräkning'"), must work with the
NLP off and must never need a download at run time. Every rule (``signal_rules.py``) is a list
of readable phrases over a normalised text, tagged with a language and, for crisis, a sub-kind that picks
the help number in the acknowledgement (``HELP_LINES``).

Normalisation (``normalise``): Unicode NFKC, case-folded, punctuation to spaces, letters repeated
three times or more collapsed ("ringgg" → "ring"), Arabic diacritics and letter variants unified
(أ إ آ → ا, ى → ي, ة → ه, ؤ → و, ئ → ي). Swedish misspellings without dots ("vrakning",
"sjalvmord", "ring mej") are written into the rules as character classes, not folded away,
because folding would make "våld" (violence) and "vald" (elected) the same word.

Hard negatives are handled by a short negation check before a match ("ring mig inte", "ingen
hotar mig", "لا تتصلوا بي", "don't call me") and after it for call-me ("ring mig inte"), and
by rules narrow enough that "jag dör av skratt" and "inget akut" match nothing.

The test set lives in ``tests/surveys/signals_labelled.jsonl`` (``feedback signals evaluate``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from surveys.cases.signal_rules import CRISIS_ORDER, RULES, SIGNAL_ORDER, CrisisKind, Rule, Signal

__all__ = ["CrisisKind", "Signal", "Signals", "classify", "evaluate", "normalise", "signal_names"]


@dataclass(frozen=True)
class Match:
    rule: Rule
    phrase: str  # the normalised words that matched (shown to the caseworker)


@dataclass(frozen=True)
class Signals:
    """What one text carries. Empty (falsy) when nothing needs a person."""

    crisis: tuple[CrisisKind, ...] = ()
    call_me: bool = False
    opt_out: bool = False
    evidence: tuple[str, ...] = ()  # matched phrases, in the order of the text
    language: str | None = None  # language of the first matching phrase, if any

    @property
    def names(self) -> list[str]:
        """``["crisis", "call_me", "opt_out"]`` (subset, always in this order)."""
        present = {
            Signal.CRISIS: bool(self.crisis),
            Signal.CALL_ME: self.call_me,
            Signal.OPT_OUT: self.opt_out,
        }
        return [str(s) for s in SIGNAL_ORDER if present[s]]

    def __bool__(self) -> bool:
        return bool(self.crisis or self.call_me or self.opt_out)


# ---------------------------------------------------------------- normalisation
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u0640]")
_ARABIC_LETTERS = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"}
)
_NOT_WORD = re.compile(r"[^\w]+")
_REPEATS = re.compile(r"(\w)\1{2,}")


def normalise(text: str) -> str:
    value = unicodedata.normalize("NFKC", text or "").casefold()
    value = _ARABIC_MARKS.sub("", value).translate(_ARABIC_LETTERS)
    value = _NOT_WORD.sub(" ", value.replace("_", " "))
    value = _REPEATS.sub(r"\1", value)
    return " ".join(value.split())


# A word that cancels the phrase right after it, per language: Somali "ha" is a negation,
# Swedish "ha" is "have" ("vill ha hjälp, ring mig"). Only the word just before counts, so
# "vi har ingen mat, kan ni ringa mig" still asks for a call.
_NEGATION = {
    "sv": re.compile(r"\b(inte|ej|aldrig|ingen|inga|inget|icke)\s+$"),
    "en": re.compile(r"\b(no need to|not|never|no|dont|don t|do not|didn t|didnt|doesn t|doesnt|nobody)\s+$"),
    "ar": re.compile(r"(^|\s)(لا|لم|لن|ما|ليس)\s+$"),
    "so": re.compile(r"\bha\s+$"),
}
# Words that cancel a call-me phrase right after it ("ring mig inte", "call me never").
_NEGATION_AFTER = re.compile(r"^\s*(inte|ej|aldrig|never|not)\b")
# "they call me lazy", "sluta kontakta mig": not a request to be called.
_REPORTING = re.compile(r"\b(they|people|everyone|he|she|friends|sluta|stop|slutar|slutade)\s+$")


_DONT_CALL_SO = re.compile(r"\bha (ii |i )?soo (wicin|wacin)\b")


def _negated(text: str, start: int, language: str) -> bool:
    return bool(_NEGATION[language].search(text[:start]))


def _matches(text: str, rules: Iterable[Rule]) -> list[Match]:
    found: list[Match] = []
    for rule in rules:
        for m in rule.pattern.finditer(text):
            if rule.negatable and _negated(text, m.start(), rule.language):
                continue
            if rule.signal is Signal.CALL_ME:
                if _NEGATION_AFTER.match(text[m.end() :]) or _REPORTING.search(text[: m.start()]):
                    continue
            found.append(Match(rule, m.group(0)))
            break
    return found


def classify(text: str) -> Signals:
    """The signals ``text`` carries, with the crisis sub-kinds (most urgent first)."""
    norm = normalise(text)
    if not norm:
        return Signals()
    matches = _matches(norm, RULES)
    if _DONT_CALL_SO.search(norm):
        matches = [m for m in matches if m.rule.signal is not Signal.CALL_ME]
    kinds = {m.rule.kind for m in matches if m.rule.kind is not None}
    if CrisisKind.PARTNER_VIOLENCE in kinds:
        kinds.discard(CrisisKind.VIOLENCE)
    matches.sort(key=lambda m: norm.find(m.phrase))
    return Signals(
        crisis=tuple(k for k in CRISIS_ORDER if k in kinds),
        call_me=any(m.rule.signal is Signal.CALL_ME for m in matches),
        opt_out=any(m.rule.signal is Signal.OPT_OUT for m in matches),
        evidence=tuple(dict.fromkeys(m.phrase for m in matches)),
        language=matches[0].rule.language if matches else None,
    )


def signal_names(text: str) -> list[str]:
    """``classify(text).names``: the contract of ``feedback signals classify``."""
    return classify(text).names


@dataclass(frozen=True)
class Score:
    signal: str
    support: int  # labelled positives
    predicted: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.support if self.support else 1.0


def evaluate(labelled: Iterable[tuple[str, Iterable[str]]]) -> list[Score]:
    """Per-signal precision and recall of ``classify`` on ``(text, true signal names)`` pairs."""
    counts = {str(s): [0, 0, 0] for s in SIGNAL_ORDER}  # support, predicted, true positives
    for text, truth in labelled:
        expected = set(truth)
        unknown = expected - set(counts)
        if unknown:
            raise ValueError(f"unknown signal(s) {sorted(unknown)}")
        predicted = set(signal_names(text))
        for name, row in counts.items():
            row[0] += name in expected
            row[1] += name in predicted
            row[2] += name in expected and name in predicted
    return [Score(name, *row) for name, row in counts.items()]
