"""The list of CLI commands contributed by feature packages (kept apart so cli.py stays small)."""

from __future__ import annotations

import click


def GROUPS() -> list[click.Command]:
    commands: list[click.Command] = []
    from feedback.cli.intake import import_closures_command, purge_command
    from feedback.cli.lifecycle import sso
    from feedback.cli.signals import signals
    from feedback.cli.sms import sms_window_command
    from feedback.cli.texts import texts
    from feedback.cli.themes import themes
    from feedback.cli.tokens import tokens

    commands.append(themes)
    commands.append(import_closures_command)
    commands.append(purge_command)
    commands.append(sms_window_command)
    commands.append(signals)
    commands.append(sso)
    commands.append(texts)
    commands.append(tokens)
    return commands
