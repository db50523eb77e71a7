"""Progress of long commands: a bar on a terminal, a few plain lines otherwise."""

from __future__ import annotations

import io

from feedback.cli.progress import ProgressPrinter


def test_not_a_terminal_writes_one_line_per_tenth_and_per_stage() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, tty=False)
    printer("Konton", 0, 1)
    printer("Konton", 1, 1)
    for day in range(401):
        printer("Demoåret", day, 400)
    printer.close()
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["Konton: 0/1 (0 %)", "Konton: 1/1 (100 %)"]
    year = [line for line in lines if line.startswith("Demoåret")]
    assert year[0] == "Demoåret: 0/400 (0 %)" and year[-1] == "Demoåret: 400/400 (100 %)"
    assert len(year) == 11  # one per tenth, not 401
    assert "\r" not in out.getvalue()


def test_a_terminal_gets_a_bar_redrawn_in_place_and_a_new_line_per_stage() -> None:
    out = io.StringIO()
    printer = ProgressPrinter(out, tty=True)
    printer("Demoåret", 100, 400)
    printer("Demoåret", 400, 400)
    printer("Teman", 1, 1)
    printer.close()
    text = out.getvalue()
    assert "\rDemoåret: [#######.......................] 100/400" in text
    assert "\rDemoåret: [##############################] 400/400\n\rTeman: [" in text
    assert text.endswith("1/1\n")
