"""`feedback themes …` through click's CliRunner, with the model directory in a temp folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from feedback.cli.main import main


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "FEEDBACK_MODEL_DIR": str(tmp_path / "models"),
        "FEEDBACK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db",
    }


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_assign_trains_a_model_on_first_use_and_writes_the_contract(tmp_path: Path, env) -> None:
    src = _write(
        tmp_path / "in.jsonl",
        [
            {"id": "1", "text": "Praktiken ledde till jobb, tack!"},
            {"id": "2", "text": "nej"},
            {"id": "3", "text": "Handläggaren var otrevlig och lyssnade inte"},
        ],
    )
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        main, ["themes", "assign", "--input", str(src), "--output", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    assert (Path(env["FEEDBACK_MODEL_DIR"]) / "current.json").exists()
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert set(rows[0]) == {"id", "themes", "sentiment"}
    assert "stod_till_arbete" in rows[0]["themes"] and rows[1]["themes"] == ["annat"]
    assert "bemotande" in rows[2]["themes"]
    assert all(r["sentiment"] in {"neg", "neu", "pos", "mix"} for r in rows)
    # --details adds fields; the contract's three are the same either way
    detailed = tmp_path / "detailed.jsonl"
    result = CliRunner().invoke(
        main, ["themes", "assign", "--input", str(src), "--output", str(detailed), "--details"], env=env
    )
    assert result.exit_code == 0, result.output
    extra = [json.loads(line) for line in detailed.read_text("utf-8").splitlines()]
    assert [{k: r[k] for k in ("id", "themes", "sentiment")} for r in extra] == rows
    assert all("evidence" in r and "model_version" in r for r in extra)


def test_assign_rejects_bad_input_with_a_message(tmp_path: Path, env) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('{"id": "1", "text": "ok"}\n{"id": 2}\n', "utf-8")
    result = CliRunner().invoke(
        main, ["themes", "assign", "--input", str(src), "--output", str(tmp_path / "o")], env=env
    )
    assert result.exit_code != 0 and "row 2" in result.output
    assert not isinstance(result.exception, KeyError)


def test_train_with_manager_labels_then_assign_uses_the_new_model(tmp_path: Path, env) -> None:
    labels = _write(
        tmp_path / "labels.jsonl",
        [
            {"id": f"m{i}", "text": f"blåklocka {w}", "themes": ["delaktighet"]}
            for i, w in enumerate("abcdefgh")
        ],
    )
    result = CliRunner().invoke(main, ["themes", "train", "--labels", str(labels)], env=env)
    assert result.exit_code == 0, result.output
    version = json.loads((Path(env["FEEDBACK_MODEL_DIR"]) / "current.json").read_text())["model_version"]
    assert version in result.output
    src = _write(tmp_path / "in.jsonl", [{"id": "x", "text": "blåklocka igen"}])
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(
        main, ["themes", "assign", "--input", str(src), "--output", str(out), "--details"], env=env
    )
    assert res.exit_code == 0, res.output
    row = json.loads(out.read_text("utf-8"))
    assert "delaktighet" in row["themes"] and row["model_version"] == version


def test_evaluate_reports_model_and_baselines(tmp_path: Path, env) -> None:
    from nlp.dataset import DEV_DATA_PATH

    report = tmp_path / "r.json"
    result = CliRunner().invoke(
        main,
        [
            "themes",
            "evaluate",
            "--data",
            str(DEV_DATA_PATH),
            "--folds",
            "3",
            "--repeats",
            "1",
            "--json",
            str(report),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "cross-validated" in result.output
    for name in ("model", "tfidf_lr", "seed_lexicon"):
        assert f"== {name}: macro-F1" in result.output
    assert "themes.macro_f1: 0." in result.output
    payload = json.loads(report.read_text())
    assert {"model", "tfidf_lr", "seed_lexicon"} == set(payload["reports"])
    lo, hi = payload["reports"]["model"]["macro_f1_ci95"]
    assert lo <= payload["reports"]["model"]["macro_f1"] <= hi
    sent = payload["sentiment"]  # the dev data carries sentiment labels: scored vs majority
    assert sent["n"] == 198 and sent["accuracy"] > sent["majority_accuracy"]
    assert "sentiment.accuracy: 0." in result.output


def test_evaluate_holdout_scores_the_current_model(tmp_path: Path, env) -> None:
    gold = _write(
        tmp_path / "gold.jsonl",
        [
            {"id": "g1", "text": "Jobbcoachen hjälpte mig med CV", "themes": ["stod_till_arbete"]},
            {"id": "g2", "text": "Pengarna räckte inte till hyran", "themes": ["ekonomisk_trygghet"]},
            {"id": "g3", "text": "vet ej", "themes": ["annat"]},
        ],
    )
    result = CliRunner().invoke(main, ["themes", "evaluate", "--data", str(gold), "--holdout"], env=env)
    assert result.exit_code == 0, result.output
    assert "held-out, model m-" in result.output
    assert "no sentiment labels" in result.output


def test_discover_prints_proposals(tmp_path: Path, env) -> None:
    rows = [
        {"id": f"t{i}", "text": t, "respondent": f"r{i % 8}"}
        for i, t in enumerate(
            ["busskortet borde ingå", "fick inget busskort", "busskort är dyrt", "busskort saknas"] * 8
        )
    ]
    from nlp.dataset import load_dev

    rows += [{"id": a.id, "text": a.text, "respondent": a.id} for a in load_dev()]
    src = _write(tmp_path / "d.jsonl", rows)
    out = tmp_path / "p.jsonl"
    result = CliRunner().invoke(
        main, ["themes", "discover", "--input", str(src), "--all", "--output", str(out)], env=env
    )
    assert result.exit_code == 0, result.output
    props = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert any("busskort" in p["label_terms"] for p in props)
    assert "svarande" in result.output


def test_a_large_input_is_themed_in_parallel_with_the_same_output(tmp_path: Path, env, monkeypatch) -> None:
    import nlp.themes
    from benchmarks.nlp_corpus import generate

    forked: list[int] = []
    real = nlp.themes.Model._parallel

    def spy(self, kind, texts, workers):
        forked.append(workers)
        return real(self, kind, texts, workers)

    monkeypatch.setattr(nlp.themes.Model, "_parallel", spy)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    texts = generate(8000, seed=3)
    src = _write(tmp_path / "in.jsonl", [{"id": str(i), "text": t} for i, t in enumerate(texts)])
    outputs = []
    for extra in ([], ["--workers", "1"]):
        out = tmp_path / f"out{len(extra)}.jsonl"
        result = CliRunner().invoke(
            main, ["themes", "assign", "--input", str(src), "--output", str(out), *extra], env=env
        )
        assert result.exit_code == 0, result.output
        outputs.append(out.read_text("utf-8"))
    assert forked == [2]  # the default forks one process per core for 8 000 answers; --workers 1 does not
    assert outputs[0] == outputs[1] and outputs[0].count("\n") == 8000
