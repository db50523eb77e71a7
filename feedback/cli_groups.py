"""The list of CLI commands contributed by feature packages (kept apart so cli.py stays small)."""

from __future__ import annotations

import click


def GROUPS() -> list[click.Command]:
    commands: list[click.Command] = []
    from feedback.themes.cli import themes

    commands.append(themes)
    return commands
