"""`feedback signals classify|evaluate` through click's CliRunner (the JSONL contract)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from feedback.cli.main import main

DATA = Path(__file__).resolve().parents[2] / "surveys" / "signals_labelled.jsonl"


def _env(tmp_path: Path) -> dict[str, str]:
    return {"FEEDBACK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}


def test_classify_writes_one_line_per_message_with_signal_names(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    rows = [
        {"id": "a", "text": "Jag vill inte leva längre, ring mig"},
        {"id": "b", "text": "4"},
        {"id": 7, "text": "JOOJI"},
    ]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(
        main, ["signals", "classify", "--input", str(src), "--output", str(out)], env=_env(tmp_path)
    )
    assert result.exit_code == 0, result.output
    written = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert written == [
        {"id": "a", "signals": ["crisis", "call_me"]},
        {"id": "b", "signals": []},
        {"id": 7, "signals": ["opt_out"]},
    ]


def test_evaluate_prints_precision_and_recall_per_signal(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["signals", "evaluate", "--data", str(DATA)], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    lines = {line.split(":")[0]: line for line in result.output.splitlines()}
    assert {"crisis", "call_me", "opt_out"} <= set(lines)
    assert "precision" in lines["crisis"] and "recall" in lines["crisis"]


def test_evaluate_refuses_unknown_signal_names(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "1", "text": "x", "signals": ["panic"]}) + "\n", "utf-8")
    result = CliRunner().invoke(main, ["signals", "evaluate", "--data", str(bad)], env=_env(tmp_path))
    assert result.exit_code != 0 and "panic" in result.output
