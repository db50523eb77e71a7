"""NLP speed and memory benchmark: vectorising, assignment, discovery, peak RSS, dev CV macro-F1.

Run:  nice python benchmarks/nlp_speed.py            (10k, 100k and 1M answers)
      nice python benchmarks/nlp_speed.py --scale 0.01   (100, 1k, 10k: a quick check)

Every size runs in a fresh subprocess so its peak RSS (``ru_maxrss``) is that size's alone.
Each figure has a baseline measured in the same run:
  vectorize_<n>_s        cached Snowball stems      vs  vectorize_<n>_nostem_s (no stemming)
  assign_<n>_s           batch incl. redaction as `feedback themes assign` writes it (themes and
                         sentiment per answer) in ``--workers`` processes (one per core)
                         vs  assign_<n>_noredact_s (same workers); assign_<n>_1proc_s is the
                         same batch in this one process; assign_<n>_details_s adds scores,
                         evidence and per-theme sentiment (`--details`, the app's worker)
  redact_<n>_s           nlp.redact alone over the same corpus (the difference of the two above)
  assign_single_p95_ms   own array scorer incl. redaction  vs  assign_single_sklearn_p95_ms
                         (scikit-learn TfidfVectorizer + LogisticRegression per answer, no redaction);
                         assign_single_cpu_p95_ms is the same loop in thread CPU time, which
                         leaves out pre-emption on a shared, overloaded machine
  discover_<n>_s         k chosen by stability      vs  discover_<n>_fixed_k_s (one NMF fit);
                         the model's triage of all answers uses ``--workers`` processes
  peak_rss_mb_<n>        this size's process; forked workers are reported on a comment line
  dev_cv_macro_f1        model                      vs  seed lexicon / plain TF-IDF + LR
Figures print as ``name: value unit`` (DESIGN.md §4).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _children_rss_mb() -> float:
    """Peak RSS of the largest forked worker (pages shared with the parent count in both)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def _nostem(text: str) -> list[str]:
    from nlp.text import STOPWORDS, tokens

    return [w for w in tokens(text) if w not in STOPWORDS and len(w) > 1]


def _stems(text: str) -> list[str]:
    from nlp.text import stems

    return stems(text)


def _vectorise(docs: list[str], analyzer) -> float:
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    t = time.perf_counter()
    TfidfVectorizer(
        analyzer=analyzer, min_df=2, max_df=0.5, sublinear_tf=True, dtype=np.float32
    ).fit_transform(docs)
    return time.perf_counter() - t


def child(n: int, single: int, with_discover: bool, workers: int) -> dict[str, float]:
    import numpy as np

    from benchmarks.nlp_corpus import generate
    from nlp.codebook import load_codebook
    from nlp.discover import discover
    from nlp.themes import train_default

    out: dict[str, float] = {}
    t = time.perf_counter()
    docs = generate(n, seed=1)
    out["generate_s"] = time.perf_counter() - t
    out["rss_after_corpus_mb"] = _rss_mb()

    t = time.perf_counter()
    model = train_default()
    out["train_s"] = time.perf_counter() - t

    # vectorising: baseline first, so the stemmed run starts with whatever cache state it has
    out["vectorize_nostem_s"] = _vectorise(docs, _nostem)
    out["vectorize_s"] = _vectorise(docs, _stems)

    # streamed like `feedback themes assign` does, so results need not all sit in memory; the
    # headline figure is the command's contract ({id, themes, sentiment}: Model.label_iter)
    t = time.perf_counter()
    n_themed = sum(themes != ("annat",) for themes, _ in model.label_iter(docs, workers=workers))
    out["assign_s"] = time.perf_counter() - t
    out["assign_themed_share"] = n_themed / len(docs)
    t, c = time.perf_counter(), time.process_time()
    n_themed_1 = sum(themes != ("annat",) for themes, _ in model.label_iter(docs))
    out["assign_1proc_s"] = time.perf_counter() - t
    out["assign_cpu_s"] = time.process_time() - c
    assert n_themed_1 == n_themed, (n_themed_1, n_themed)
    # `--details` (and the app's worker): scores, evidence, per-theme sentiment, redacted text
    t = time.perf_counter()
    n_themed_d = sum(a.themes != ("annat",) for a in model.assign_iter(docs, workers=workers))
    out["assign_details_s"] = time.perf_counter() - t
    assert n_themed_d == n_themed, (n_themed_d, n_themed)
    redact = model._redact
    t = time.perf_counter()
    n_redacted = sum(redact(d) != d for d in docs)
    out["redact_s"] = time.perf_counter() - t
    out["redact_changed_share"] = n_redacted / len(docs)
    model._redact = lambda s: s
    t = time.perf_counter()
    sum(1 for _ in model.label_iter(docs, workers=workers))
    out["assign_noredact_s"] = time.perf_counter() - t
    model._redact = redact

    # single answers: unseen texts, one call each, warm process
    fresh = generate(single, seed=99)
    times, cpu = [], []
    for text in fresh:
        t, c = time.perf_counter(), time.thread_time()
        model.assign(text)
        times.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
    out["assign_single_p50_ms"] = float(np.percentile(times, 50) * 1e3)
    out["assign_single_p95_ms"] = float(np.percentile(times, 95) * 1e3)
    # CPU time of this thread: the same work without the time other processes took the core
    out["assign_single_cpu_p95_ms"] = float(np.percentile(cpu, 95) * 1e3)
    out["assign_single_sklearn_p95_ms"] = _sklearn_single(fresh)

    if with_discover:
        items = [
            {"id": str(i), "text": d, "respondent": f"r{i % max(50, n // 20)}"} for i, d in enumerate(docs)
        ]
        cb = load_codebook()
        t, c = time.perf_counter(), time.process_time()
        res = discover(items, cb, model=model, workers=workers)
        out["discover_s"] = time.perf_counter() - t
        out["discover_cpu_s"] = time.process_time() - c
        out["discover_residual"] = res.n_residual
        out["discover_proposals"] = len(res.proposals)
        t = time.perf_counter()
        discover(items, cb, model=model, k_candidates=(res.k_new or 4,), seeds=(0,), workers=workers)
        out["discover_fixed_k_s"] = time.perf_counter() - t
    out["peak_rss_mb"] = _rss_mb()
    out["peak_rss_mb_children"] = _children_rss_mb()
    return out


def _sklearn_single(texts: list[str]) -> float:
    """Baseline: scikit-learn's own per-answer path (vectoriser + one-vs-rest LR), no redaction."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    from nlp.dataset import load_dev

    dev = load_dev()
    vec = TfidfVectorizer(analyzer=_stems, sublinear_tf=True)
    x = vec.fit_transform([a.text for a in dev])
    y = MultiLabelBinarizer().fit_transform([a.themes for a in dev])
    clf = OneVsRestClassifier(LogisticRegression(C=4.0, solver="liblinear")).fit(x, y)
    times = []
    for text in texts:
        t = time.perf_counter()
        clf.predict_proba(vec.transform([text]))
        times.append(time.perf_counter() - t)
    return float(np.percentile(times, 95) * 1e3)


def dev_cv() -> dict[str, float]:
    from nlp.dataset import load_dev
    from nlp.evaluate import evaluate_cv

    res = evaluate_cv(load_dev(), folds=5, repeats=2, n_boot=1000)
    reps = res["reports"]
    return {
        "dev_cv_macro_f1": reps["model"].macro_f1,
        "dev_cv_macro_f1_ci_lo": reps["model"].macro_ci[0],
        "dev_cv_macro_f1_ci_hi": reps["model"].macro_ci[1],
        "dev_cv_macro_f1_mean_2x5": reps["model"].extra["macro_f1_mean_over_repeats"],
        "dev_cv_macro_f1_seed_lexicon": reps["seed_lexicon"].macro_f1,
        "dev_cv_macro_f1_tfidf_lr": reps["tfidf_lr"].macro_f1,
        "dev_cv_micro_f1": reps["model"].micro_f1,
    }


def _run_child(args: list[str]) -> dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2")
    proc = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark child {args} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every corpus size (e.g. 0.01)")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--single", type=int, default=2000, help="answers for the single-answer latency")
    ap.add_argument("--no-cv", action="store_true", help="skip the dev cross-validation")
    ap.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes for batch assignment (default: cores)",
    )
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--discover", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--cv-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.single, args.discover, args.workers)))
        return
    if args.cv_child:
        print(json.dumps(dev_cv()))
        return

    sizes = [max(100, int(int(s) * args.scale)) for s in args.sizes.split(",")]
    print(f"# corpus sizes: {', '.join(_label(n) for n in sizes)} (scale {args.scale})", flush=True)
    for n in sizes:
        lab = _label(n)
        started = time.perf_counter()
        r = _run_child(
            [
                "--child",
                str(n),
                "--single",
                str(args.single),
                "--workers",
                str(args.workers),
                *(["--discover"] if n <= 200_000 else []),
            ]
        )
        print(
            f"# {lab}: child ran {time.perf_counter() - started:.1f} s (corpus generation {r['generate_s']:.1f} s, "
            f"training {r['train_s']:.2f} s)",
            flush=True,
        )
        print(f"vectorize_{lab}_s: {r['vectorize_s']:.2f} s")
        print(f"vectorize_{lab}_nostem_s: {r['vectorize_nostem_s']:.2f} s")
        print(f"assign_{lab}_s: {r['assign_s']:.2f} s")
        print(f"assign_{lab}_noredact_s: {r['assign_noredact_s']:.2f} s")
        print(f"assign_{lab}_1proc_s: {r['assign_1proc_s']:.2f} s")
        print(f"assign_{lab}_details_s: {r['assign_details_s']:.2f} s")
        print(f"redact_{lab}_s: {r['redact_s']:.2f} s")
        print(
            f"# redact_{lab}: nlp.redact alone; {r['redact_changed_share']:.1%} of answers had something redacted"
        )
        print(
            f"# assign_{lab}: {args.workers} worker process(es); in one process {r['assign_cpu_s']:.2f} s CPU "
            f"time; {r['assign_themed_share']:.0%} got a theme"
        )
        if "discover_s" in r:
            print(f"discover_{lab}_s: {r['discover_s']:.2f} s")
            print(f"discover_{lab}_fixed_k_s: {r['discover_fixed_k_s']:.2f} s")
            print(
                f"# discover_{lab}: {r['discover_cpu_s']:.2f} s CPU in the main process; "
                f"{int(r['discover_residual'])} uncovered answers, "
                f"{int(r['discover_proposals'])} proposals"
            )
        if n == sizes[min(1, len(sizes) - 1)]:
            print(f"assign_single_p50_ms: {r['assign_single_p50_ms']:.3f} ms")
            print(f"assign_single_p95_ms: {r['assign_single_p95_ms']:.3f} ms")
            print(f"assign_single_cpu_p95_ms: {r['assign_single_cpu_p95_ms']:.3f} ms")
            print(f"assign_single_sklearn_p95_ms: {r['assign_single_sklearn_p95_ms']:.3f} ms")
        print(f"peak_rss_mb_{lab}: {r['peak_rss_mb']:.0f} MB")
        print(f"# peak_rss_mb_{lab}: largest forked worker {r['peak_rss_mb_children']:.0f} MB")
        print(f"# rss_after_corpus_mb_{lab}: {r['rss_after_corpus_mb']:.0f} MB", flush=True)
    if not args.no_cv:
        cv = _run_child(["--cv-child"])
        print(
            f"dev_cv_macro_f1: {cv['dev_cv_macro_f1']:.4f} "
            f"(95% CI {cv['dev_cv_macro_f1_ci_lo']:.3f}–{cv['dev_cv_macro_f1_ci_hi']:.3f}; 5-fold, repeat 1)"
        )
        print(f"dev_cv_macro_f1_mean_2x5: {cv['dev_cv_macro_f1_mean_2x5']:.4f}")
        print(f"dev_cv_macro_f1_seed_lexicon: {cv['dev_cv_macro_f1_seed_lexicon']:.4f}")
        print(f"dev_cv_macro_f1_tfidf_lr: {cv['dev_cv_macro_f1_tfidf_lr']:.4f}")
        print(f"dev_cv_micro_f1: {cv['dev_cv_micro_f1']:.4f}")


if __name__ == "__main__":
    main()
