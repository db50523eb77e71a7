"""`feedback themes …`: assign, evaluate, train and discover from JSONL files (DESIGN.md §4).

Thin by design: each command reads files, calls one ``nlp`` function and writes the result.
Models live in ``settings.model_dir``; ``assign`` trains one from the shipped data first when
the directory has none, so it works on a fresh installation.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from feedback.core.settings import Settings


def _read(path: Path, need: tuple[str, ...]) -> list[dict[str, Any]]:
    from nlp.dataset import read_jsonl

    try:
        rows = list(read_jsonl(path))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    for n, row in enumerate(rows, start=1):
        missing = [k for k in need if not isinstance(row.get(k), str)]
        if missing:
            raise click.ClickException(
                f"{path}: row {n} (id {row.get('id')!r}) lacks text field(s) {missing}"
            )
    return rows


def _model(settings: Settings):
    from nlp.themes import load_current, load_or_train

    model = load_current(settings.model_dir)
    if model is None:
        click.echo(f"no model in {settings.model_dir}: training one from the shipped data …", err=True)
        model = load_or_train(settings.model_dir)
    return model


@click.group("themes")
def themes() -> None:
    """Theme open answers (Swedish NLP): assign, evaluate, train, discover."""


@themes.command("assign")
@click.option(
    "--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--details", is_flag=True, help="Also write scores, evidence and versions.")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Processes that theme in parallel (0: one per CPU core once there are 4 000 answers per core).",
)
@click.pass_obj
def assign(settings: Settings, input_path: Path, output_path: Path, details: bool, workers: int) -> None:
    """Read {"id","text"} lines, write {"id","themes","sentiment"} lines."""
    from tqdm import tqdm

    rows = _read(input_path, ("text",))
    model = _model(settings)
    # 100k answers on the 2-core reference machine: 4.0 s in two processes, 7.9 s in one
    # (benchmarks/nlp_speed.py); forking can only pay off from a few thousand answers per process
    if workers == 0:
        workers = max(1, min(os.cpu_count() or 1, len(rows) // 4000))
    with (
        tqdm(total=len(rows), unit="svar", disable=len(rows) < 5000, file=sys.stderr) as bar,
        open(output_path, "w", encoding="utf-8") as out,
    ):
        texts = (r["text"] for r in rows)
        if details:
            for row, a in zip(
                rows, model.assign_iter(texts, progress=bar.update, workers=workers), strict=True
            ):
                line = {"id": row["id"], "themes": list(a.themes), "sentiment": a.sentiment}
                line |= {k: v for k, v in a.to_dict().items() if k not in line}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        else:  # the contract's three fields: nothing else is computed (Model.label_iter)
            for row, (themes, sentiment) in zip(
                rows, model.label_iter(texts, progress=bar.update, workers=workers), strict=True
            ):
                line = {"id": row["id"], "themes": list(themes), "sentiment": sentiment}
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    click.echo(f"{len(rows)} answers themed with model {model.version} → {output_path}")


@themes.command("train")
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Manager labels {id,text,themes}; they win over the shipped labels for the same id.",
)
@click.option(
    "--unlabelled",
    "unlabelled_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Unlabelled answers {id,text} for self-training.",
)
@click.option("--codebook", "codebook_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def train_cmd(
    settings: Settings, labels_path: Path | None, unlabelled_path: Path | None, codebook_path: Path | None
) -> None:
    """Train from the shipped data (+ manager labels) and make it the current model."""
    from nlp.codebook import load_codebook
    from nlp.dataset import load_dev
    from nlp.themes import save_current, train

    manager = _read(labels_path, ("text",)) if labels_path else []
    unlabelled = [r["text"] for r in _read(unlabelled_path, ("text",))] if unlabelled_path else []
    model = train(
        load_dev(),
        load_codebook(codebook_path),
        manager_labels=manager,
        unlabelled=unlabelled,
        self_training=bool(unlabelled),
    )
    target = save_current(model, settings.model_dir)
    click.echo(f"model {model.version} (codebook {model.codebook_version}) saved in {target}")
    for key, thr in model.manifest["thresholds"].items():
        click.echo(f"  {key:<20} threshold {thr:.3f}")


def _print_report(rep: Any) -> None:
    d = rep.to_dict()
    lo, hi = d["macro_f1_ci95"]
    click.echo(
        f"\n== {d['name']}: macro-F1 {d['macro_f1']:.3f} [{lo:.3f}, {hi:.3f}]  micro-F1 {d['micro_f1']:.3f}"
    )
    click.echo(f"   {'theme':<20} {'P':>6} {'R':>6} {'F1':>6} {'n':>5}")
    for s in d["per_theme"]:
        note = "  (för få för att bedöma)" if s["too_few_to_judge"] else ""
        click.echo(
            f"   {s['key']:<20} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} {s['support']:5d}{note}"
        )


@themes.command("evaluate")
@click.option(
    "--data", "data_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--holdout",
    is_flag=True,
    help="Data is a held-out gold set: score the current model on it instead of cross-validating.",
)
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20))
@click.option("--repeats", default=2, show_default=True, type=click.IntRange(1, 10))
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the reports as JSON.",
)
@click.pass_obj
def evaluate_cmd(
    settings: Settings, data_path: Path, holdout: bool, folds: int, repeats: int, json_path: Path | None
) -> None:
    """Per-theme P/R/F1, micro/macro-F1 with bootstrap CIs, and both baselines in the same run."""
    from tqdm import tqdm

    from nlp import evaluate as ev
    from nlp.codebook import load_codebook
    from nlp.dataset import LabelledAnswer, combine_labels, load_dev

    rows = _read(data_path, ("text",))
    labelled = [LabelledAnswer.from_dict(r, "gold") for r in rows]
    if holdout:
        model = _model(settings)
        codebook = model.codebook
        answers = combine_labels(labelled, (), codebook)
        truth, texts = [a.themes for a in answers], [a.text for a in answers]
        dev = combine_labels(load_dev(), (), codebook)
        preds = {
            "model": model.predict_labels(texts),
            "tfidf_lr": ev.plain_tfidf_lr(dev, codebook.model_keys)(texts),
            "seed_lexicon": ev.seed_predict(codebook, texts),
        }
        reports = {n: ev.score(n, truth, p, codebook.keys) for n, p in preds.items()}
        deltas = {
            f"model_minus_{b}": ev.paired_delta(truth, preds["model"], preds[b], codebook.keys)
            for b in ("tfidf_lr", "seed_lexicon")
        }
        mode = f"held-out, model {model.version}"
    else:
        with tqdm(total=folds * repeats, unit="fold", file=sys.stderr) as bar:
            result = ev.evaluate_cv(
                labelled, load_codebook(), folds=folds, repeats=repeats, progress=bar.update
            )
        reports, deltas = result["reports"], result["deltas"]
        mode = f"cross-validated, {folds} folds × {repeats} repeats"
    click.echo(f"{len(rows)} labelled answers ({mode})")
    for rep in reports.values():
        _print_report(rep)
    click.echo("")
    for name, (d, (lo, hi)) in deltas.items():
        click.echo(f"{name}: {d:+.3f} [{lo:+.3f}, {hi:+.3f}] (paired bootstrap)")
    click.echo(f"themes.macro_f1: {reports['model'].macro_f1:.4f}")
    click.echo(f"themes.macro_f1_seed_lexicon: {reports['seed_lexicon'].macro_f1:.4f}")
    click.echo(f"themes.macro_f1_tfidf_lr: {reports['tfidf_lr'].macro_f1:.4f}")
    with_sentiment = [(r["text"], str(r["sentiment"])) for r in rows if r.get("sentiment")]
    sent = ev.sentiment_accuracy(with_sentiment) if with_sentiment else None
    if sent is not None:
        lo, hi = sent["accuracy_ci95"]
        click.echo(
            f"\nsentiment ({sent['n']} answers with a label): accuracy {sent['accuracy']:.3f} "
            f"[{lo:.3f}, {hi:.3f}], majority baseline ('{sent['majority_label']}') "
            f"{sent['majority_accuracy']:.3f}, pos/neg answers only {sent['polar_accuracy']:.3f}"
        )
        click.echo(f"sentiment.accuracy: {sent['accuracy']:.4f}")
        click.echo(f"sentiment.accuracy_majority: {sent['majority_accuracy']:.4f}")
    else:
        click.echo("\nsentiment: the data has no sentiment labels; nothing to score")
    if json_path:
        payload = {
            "mode": mode,
            "reports": {n: r.to_dict() for n, r in reports.items()},
            "deltas": {n: {"delta": d, "ci95": list(ci)} for n, (d, ci) in deltas.items()},
            "sentiment": sent,
        }
        json_path.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", "utf-8")


@themes.command("discover")
@click.option(
    "--input",
    "input_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='{"id","text","respondent"} lines (respondent: a pseudonymous key).',
)
@click.option(
    "--decisions",
    "decisions_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Earlier manager decisions {proposal_id, action, label_terms, key?, label_sv?}.",
)
@click.option("--output", "output_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--all", "use_all", is_flag=True, help="Cluster every answer, not only those the model leaves uncovered."
)
@click.pass_obj
def discover_cmd(
    settings: Settings, input_path: Path, decisions_path: Path | None, output_path: Path | None, use_all: bool
) -> None:
    """Propose new themes from answers the codebook does not cover (≥ 5 respondents each)."""
    from nlp.dataset import read_jsonl
    from nlp.discover import discover

    rows = _read(input_path, ("text",))
    for r in rows:
        r.setdefault("respondent", str(r["id"]))
    decisions = list(read_jsonl(decisions_path)) if decisions_path else []
    model = _model(settings)
    try:
        result = discover(rows, model.codebook, model=None if use_all else model, decisions=decisions)
    except (KeyError, ValueError) as exc:
        raise click.ClickException(f"discover: {exc}") from exc
    click.echo(
        f"{result.n_residual} of {result.n_input} answers not covered; {len(result.proposals)} proposal(s)"
    )
    for p in result.proposals:
        click.echo(f"\n[{p.proposal_id}] {p.label_sv}  ({p.n_respondents} svarande, {p.size} svar)")
        click.echo(f"  ord: {', '.join(p.label_terms)}")
        for q in p.quotes:
            click.echo(f"  – {q['text']}")
    for p, why in result.suppressed:
        click.echo(f"(dolt: {', '.join(p.label_terms[:3])} – {why})")
    if output_path:
        with open(output_path, "w", encoding="utf-8") as out:
            for p in result.proposals:
                out.write(json.dumps(p.to_dict(), ensure_ascii=False) + "\n")
