"""Discovery: propose new themes from answers the codebook does not cover.

Why seeded NMF on the residual: answers that the model already themes confidently need no
proposal. On the rest (``annat`` or low confidence) we factorise TF-IDF with NMF whose first
components start from the existing themes' seed terms, so documents that are really about a
known theme are absorbed by those components and only the *extra* components become proposals.
The number of extra components is the one whose top terms are most stable across random seeds
(Greene et al. 2014). Labels are c-TF-IDF terms shown as the most common surface form of each
stem, with five representative redacted quotes.

Manager decisions are data: a proposal that resembles a rejected, merged or accepted one (cosine
over label stems) is suppressed with the reason, a renamed one keeps the manager's label, so a
re-run never undoes a human decision.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from nlp.analysis import Token, analyse, stem_phrase
from nlp.codebook import FALLBACK_KEY, Codebook
from nlp.redact import redact

MIN_RESPONDENTS = 5
N_QUOTES = 5
N_LABEL_TERMS = 6
SIMILAR = 0.5
LOW_CONFIDENCE = 0.5
ACTIONS = ("accept", "merge", "rename", "reject")


@dataclass(frozen=True)
class AnswerItem:
    id: str
    text: str
    respondent: str


@dataclass(frozen=True)
class Decision:
    """A manager's decision on an earlier proposal, stored by the app and fed back in."""

    proposal_id: str
    action: str  # accept | merge | rename | reject
    label_terms: tuple[str, ...]
    key: str | None = None  # accept: the new theme key; merge: the target theme
    label_sv: str | None = None  # rename / accept: the manager's label

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Decision:
        if d["action"] not in ACTIONS:
            raise ValueError(f"unknown decision {d['action']!r}")
        return cls(
            proposal_id=str(d["proposal_id"]),
            action=str(d["action"]),
            label_terms=tuple(d.get("label_terms", ())),
            key=d.get("key"),
            label_sv=d.get("label_sv"),
        )


@dataclass
class Proposal:
    proposal_id: str
    label_terms: list[str]
    label_stems: list[str]
    label_sv: str
    size: int
    n_respondents: int
    quotes: list[dict[str, str]]
    member_ids: list[str]
    stability: float
    nearest_theme: tuple[str, float] | None
    status: str = "new"  # new | renamed
    decision: Decision | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposal_id": self.proposal_id,
            "label_sv": self.label_sv,
            "label_terms": self.label_terms,
            "size": self.size,
            "n_respondents": self.n_respondents,
            "quotes": self.quotes,
            "stability": round(self.stability, 3),
            "nearest_theme": list(self.nearest_theme) if self.nearest_theme else None,
            "status": self.status,
        }


@dataclass
class DiscoveryResult:
    proposals: list[Proposal]
    suppressed: list[tuple[Proposal, str]]
    n_input: int
    n_residual: int
    k_new: int
    stability_by_k: dict[int, float] = field(default_factory=dict)


def _identity(doc: list[str]) -> list[str]:
    return doc


def _cos(a: Iterable[str], b: Iterable[str]) -> float:
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / math.sqrt(len(sa) * len(sb))


def _seed_rows(codebook: Codebook, vocab: Mapping[str, int]) -> tuple[list[str], np.ndarray]:
    """One non-negative row per active theme over the discovery vocabulary, from its seeds."""
    keys = codebook.model_keys
    rows = np.zeros((len(keys), len(vocab)))
    for r, key in enumerate(keys):
        theme = codebook.themes[key]
        for raw in (*theme.seed_terms, *theme.seed_phrases):
            star = raw.endswith("*")
            for s in stem_phrase(raw.rstrip("*")):
                if s in vocab:
                    rows[r, vocab[s]] = 1.0
                if star and len(s) >= 4:
                    for term, j in vocab.items():
                        if s in term:
                            rows[r, j] = 1.0
    keep = rows.sum(axis=1) > 0
    return [k for k, kk in zip(keys, keep, strict=True) if kk], rows[keep]


def _fit_nmf(x: sp.csr_matrix, h_seed: np.ndarray, k_new: int, seed: int, max_iter: int) -> tuple:
    """NMF whose first rows start at the themes' seed directions and the rest at uncovered answers.

    The extra components start from the TF-IDF rows of answers (chosen by ``seed``) that the seed
    directions cover least, k-means++ style, so they grow into what the codebook lacks instead of
    competing with the known themes for their answers.
    """
    from sklearn.decomposition import NMF

    rng = np.random.default_rng(seed)
    scale = float(np.sqrt(x.multiply(x).sum(axis=1)).mean()) or 1.0
    seeds_n = h_seed / (np.linalg.norm(h_seed, axis=1, keepdims=True) + 1e-12) if len(h_seed) else h_seed
    coverage = np.asarray(x @ seeds_n.T).max(axis=1) if len(h_seed) else np.zeros(x.shape[0])
    pool = np.flatnonzero(coverage <= np.median(coverage))
    pool = pool if len(pool) >= k_new else np.arange(x.shape[0])
    picks = rng.choice(pool, size=min(k_new, len(pool)), replace=False)
    new_rows = x[picks].toarray() + 1e-3 * rng.random((len(picks), x.shape[1]))
    h0 = np.vstack([seeds_n * scale, new_rows]) if len(h_seed) else new_rows
    w0 = np.maximum(np.asarray(x @ h0.T) / (np.linalg.norm(h0, axis=1) ** 2 + 1e-12), 1e-6)
    nmf = NMF(len(h0), init="custom", max_iter=max_iter, random_state=seed, tol=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = nmf.fit_transform(x, W=w0.astype(x.dtype), H=h0.astype(x.dtype))
    return w, nmf.components_


def _top_terms(h: np.ndarray, n: int = 10) -> list[set[int]]:
    return [set(np.argsort(-row)[:n].tolist()) for row in h]


def _stability(tops: list[list[set[int]]]) -> float:
    """Mean top-term Jaccard between runs after Hungarian matching of components."""
    from scipy.optimize import linear_sum_assignment

    scores = []
    for i in range(len(tops)):
        for j in range(i + 1, len(tops)):
            a, b = tops[i], tops[j]
            if not a or not b:
                continue
            sim = np.array([[len(x & y) / len(x | y) for y in b] for x in a])
            r, c = linear_sum_assignment(-sim)
            scores.append(float(sim[r, c].mean()))
    return float(np.mean(scores)) if scores else 0.0


def _choose_k(x, h_seed, candidates, seeds, max_docs, max_iter) -> tuple[int, dict[int, float], tuple | None]:
    """The number of extra components whose top terms are most stable across seeds.

    Runs on a random sample of at most ``max_docs`` answers (stability of the top terms settles
    long before the whole residual is used); returns (k, stability per k, the fit for k with the
    first seed when the sample was the whole matrix, so the caller need not fit it again).
    """
    rng = np.random.default_rng(0)
    whole = x.shape[0] <= max_docs
    sub = x if whole else x[np.sort(rng.choice(x.shape[0], max_docs, replace=False))]
    n_seed = len(h_seed)
    stability = {}
    first: dict[int, tuple] = {}
    for k in candidates:
        tops = []
        for s in seeds:
            fit = _fit_nmf(sub, h_seed, k, s, max_iter)
            if s == seeds[0] and whole:
                first[k] = fit
            tops.append(_top_terms(fit[1][n_seed:]))
        stability[k] = round(_stability(tops), 4)
    best = max(stability.values())
    k = min(k for k, v in stability.items() if v >= best - 0.02)
    return k, stability, first.get(k)


def discover(
    items: Sequence[AnswerItem | Mapping[str, Any]],
    codebook: Codebook,
    *,
    model: Any | None = None,
    decisions: Iterable[Decision | Mapping[str, Any]] = (),
    min_respondents: int = MIN_RESPONDENTS,
    k_candidates: Sequence[int] = (2, 4, 6, 8),
    seeds: Sequence[int] = (0, 1, 2),
    low_confidence: float = LOW_CONFIDENCE,
    max_docs_for_k: int = 5_000,
    max_iter: int = 200,
    max_iter_for_k: int = 100,
    workers: int = 1,
) -> DiscoveryResult:
    """Propose themes from the answers ``model`` leaves uncovered (all of them if no model).

    k is chosen by stability on a sample of at most ``max_docs_for_k`` residual answers with
    ``max_iter_for_k`` NMF iterations per run; the chosen k is then fitted once on the whole
    residual with ``max_iter``. ``workers > 1`` scores the answers in that many processes
    (see ``Model.assign_iter``).
    """
    answers = [
        i if isinstance(i, AnswerItem) else AnswerItem(str(i["id"]), str(i["text"]), str(i["respondent"]))
        for i in items
    ]
    decided = [d if isinstance(d, Decision) else Decision.from_dict(d) for d in decisions]
    if model is not None:
        # themes and top score only: evidence and sentiment are not needed to find the residual
        triage = getattr(model, "triage_iter", None)
        if triage is not None:
            scored = triage((a.text for a in answers), workers=workers)
        else:
            scored = (
                (s.text_redacted, s.themes, s.top_score) for s in model.assign_iter(a.text for a in answers)
            )
        residual = [
            (a, text)
            for a, (text, themes, top) in zip(answers, scored, strict=True)
            if themes == (FALLBACK_KEY,) or top < low_confidence
        ]
    else:
        residual = [(a, redact(a.text)) for a in answers]

    docs: list[list[str]] = []
    surfaces: dict[str, Counter[str]] = {}
    for _, text in residual:
        toks: list[Token] = analyse(text)
        docs.append([t.stem for t in toks])
        for t in toks:
            surfaces.setdefault(t.stem, Counter())[t.surface] += 1
    empty = DiscoveryResult([], [], len(answers), len(residual), 0)
    if len({a.respondent for a, _ in residual}) < min_respondents:
        return empty

    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer=_identity, min_df=2, max_df=0.5, sublinear_tf=True, dtype=np.float32)
    try:
        x = vec.fit_transform(docs)
    except ValueError:  # empty vocabulary
        return empty
    vocab = vec.vocabulary_
    terms = vec.get_feature_names_out()
    seed_keys, h_seed = _seed_rows(codebook, vocab)
    # each extra component should be able to hold a cluster of min_respondents × 2 answers
    cap = max(1, x.shape[0] // (2 * min_respondents))
    candidates = sorted({min(k, cap) for k in k_candidates})
    k_iter = min(max_iter, max_iter_for_k)
    k_new, stability, fitted = _choose_k(x, h_seed, candidates, list(seeds), max_docs_for_k, k_iter)
    if k_iter != max_iter:
        fitted = None
    w, h = fitted or _fit_nmf(x, h_seed, k_new, seeds[0], max_iter)
    n_seed = len(h_seed)
    owner = np.where(w.max(axis=1) > 0, w.argmax(axis=1), -1)
    if n_seed:
        # a known theme only absorbs answers that use some of its seed vocabulary
        covered = np.asarray((x > 0).astype(np.float32) @ (h_seed > 0).T.astype(np.float32)) > 0
        loose = (owner >= 0) & (owner < n_seed)
        loose &= ~covered[np.arange(len(owner)), np.clip(owner, 0, n_seed - 1)]
        best_new = n_seed + w[:, n_seed:].argmax(axis=1)
        owner = np.where(loose & (w[np.arange(len(owner)), best_new] > 0), best_new, owner)

    counts = (x > 0).astype(np.float32)  # term presence per doc for c-TF-IDF
    cluster_tf = np.vstack([np.asarray(counts[owner == c].sum(axis=0)).ravel() for c in range(len(h))])
    total_tf = cluster_tf.sum(axis=0) + 1e-9
    avg_words = cluster_tf.sum() / max(1, len(h))
    ctfidf = (cluster_tf / (cluster_tf.sum(axis=1, keepdims=True) + 1e-9)) * np.log1p(avg_words / total_tf)

    seed_norm = h_seed / (np.linalg.norm(h_seed, axis=1, keepdims=True) + 1e-12) if n_seed else h_seed
    proposals: list[Proposal] = []
    suppressed: list[tuple[Proposal, str]] = []
    for c in range(n_seed, len(h)):
        members = np.flatnonzero(owner == c)
        if not len(members):
            continue
        top = [int(j) for j in np.argsort(-ctfidf[c])[:N_LABEL_TERMS] if ctfidf[c, j] > 0]
        stems = [str(terms[j]) for j in top]
        label_terms = [surfaces[s].most_common(1)[0][0] if s in surfaces else s for s in stems]
        order = members[np.argsort(-w[members, c])]
        quotes, seen = [], set()
        for i in order:
            a, text = residual[i]
            if a.respondent in seen:
                continue
            seen.add(a.respondent)
            quotes.append({"id": a.id, "text": redact(text)})
            if len(quotes) == N_QUOTES:
                break
        hc = h[c] / (np.linalg.norm(h[c]) + 1e-12)
        nearest = None
        if n_seed:
            sims = seed_norm @ hc
            nearest = (seed_keys[int(sims.argmax())], round(float(sims.max()), 3))
        pid = "p-" + hashlib.sha256(" ".join(sorted(stems[:5])).encode()).hexdigest()[:10]
        prop = Proposal(
            proposal_id=pid,
            label_terms=label_terms,
            label_stems=stems,
            label_sv=", ".join(label_terms[:3]),
            size=len(members),
            n_respondents=len({residual[i][0].respondent for i in members}),
            quotes=quotes,
            member_ids=[residual[i][0].id for i in members],
            stability=stability.get(k_new, 0.0),
            nearest_theme=nearest,
        )
        reason = _apply_decisions(prop, decided)
        if prop.n_respondents < min_respondents:
            suppressed.append((prop, f"färre än {min_respondents} svarande"))
        elif reason:
            suppressed.append((prop, reason))
        else:
            proposals.append(prop)
    proposals.sort(key=lambda p: -p.n_respondents)
    return DiscoveryResult(proposals, suppressed, len(answers), len(residual), k_new, stability)


def _apply_decisions(prop: Proposal, decisions: Sequence[Decision]) -> str | None:
    """Carry the most similar earlier decision over to ``prop``; a reason means suppress it."""
    best, best_sim = None, 0.0
    for d in decisions:
        dstems = [s for term in d.label_terms for s in stem_phrase(term)]
        sim = 1.0 if d.proposal_id == prop.proposal_id else _cos(prop.label_stems, dstems)
        if sim > best_sim:
            best, best_sim = d, sim
    if best is None or best_sim < SIMILAR:
        return None
    prop.decision = best
    if best.action == "reject":
        return "liknar ett förslag som avvisats"
    if best.action == "merge":
        return f"sammanslaget med {best.key}"
    if best.action == "accept":
        return f"redan antaget som tema {best.key}"
    prop.status = "renamed"
    prop.label_sv = best.label_sv or prop.label_sv
    return None
