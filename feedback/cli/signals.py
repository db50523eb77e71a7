"""`feedback signals …`: classify free text for crisis, call-me and opt-out (issue 15).

Thin by design: read JSONL, call ``surveys.cases.signals``, write JSONL or print figures. The
same classifier runs on every inbound SMS (``surveys.conversations.service.handle_reply``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


def _read(path: Path, need: tuple[str, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise click.ClickException(f"{path}: line {n} is not JSON: {exc.msg}") from exc
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise click.ClickException(f"{path}: line {n} has no text field")
            for key in need:
                if key not in row:
                    raise click.ClickException(f"{path}: line {n} (id {row.get('id')!r}) lacks {key!r}")
            rows.append(row)
    return rows


@click.group("signals")
def signals() -> None:
    """Signals in free text: crisis, call_me, opt_out."""


@signals.command("classify")
@click.option(
    "--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
def classify_command(input_path: Path, output_path: Path) -> None:
    """Read {"id","text"} lines, write {"id","signals":[…]} lines."""
    from surveys.cases.signals import signal_names

    rows = _read(input_path, ("id",))
    with output_path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps({"id": row["id"], "signals": signal_names(row["text"])}, ensure_ascii=False))
            out.write("\n")
    click.echo(f"classified {len(rows)} messages", err=True)


@signals.command("evaluate")
@click.option(
    "--data", "data_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def evaluate_command(data_path: Path) -> None:
    """Per-signal precision and recall on labelled {"id","text","signals"} lines."""
    from surveys.cases.signals import evaluate

    rows = _read(data_path, ("signals",))
    try:
        scores = evaluate((row["text"], row["signals"]) for row in rows)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"messages: {len(rows)}")
    for score in scores:
        click.echo(
            f"{score.signal}: precision {score.precision:.3f} recall {score.recall:.3f} "
            f"(support {score.support}, predicted {score.predicted})"
        )
