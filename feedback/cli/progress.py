"""Progress for long commands: a bar on a terminal, a plain line per tenth when not a terminal.

Why both: ``make run`` in a terminal should show a moving bar; the same command in CI or with
its output in a file should write a few readable lines, not hundreds of carriage returns.
"""

from __future__ import annotations

import sys
from typing import TextIO

BAR_WIDTH = 30


class ProgressPrinter:
    """Called as ``printer(stage, done, total)``; ``close()`` ends the bar's line."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._stage = ""
        self._tenth = -1
        self._open_line = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        total = max(total, 1)
        done = min(max(done, 0), total)
        if self.tty:
            filled = BAR_WIDTH * done // total
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            if stage != self._stage and self._open_line:
                self.stream.write("\n")
            self.stream.write(f"\r{stage}: [{bar}] {done}/{total}")
            self._open_line = True
            self.stream.flush()
        else:
            tenth = 10 * done // total
            if stage == self._stage and tenth == self._tenth:
                return
            self.stream.write(f"{stage}: {done}/{total} ({10 * tenth} %)\n")
            self.stream.flush()
            self._tenth = tenth
        self._stage = stage

    def close(self) -> None:
        if self._open_line:
            self.stream.write("\n")
            self.stream.flush()
            self._open_line = False
