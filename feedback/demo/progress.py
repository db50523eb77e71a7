"""How the demo seed says how far it has come (``make run`` must never look hung).

The demo code only calls ``progress(stage, done, total)``; how that is shown (a bar on a
terminal, plain lines in a log) is the CLI's business (``feedback.cli.progress``).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, stage: str, done: int, total: int) -> None: ...


def no_progress(stage: str, done: int, total: int) -> None:
    """The default: tests and benchmarks seed quietly."""
