"""CSV files for Swedish Excel, safe to open: the one writer every CSV export goes through.

Why one writer: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read by Excel and LibreOffice as a formula (CSV/formula injection). Exports carry text written
by the public (SMS replies, call notes, panel reflections) and names typed by staff, so every
such cell is neutralised as OWASP recommends: prefixed with a single quote, which shows the text
as written and runs nothing. Semicolons and a UTF-8 byte order mark make Swedish Excel split the
columns and show å, ä and ö without an import dialog.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` as a cell that no spreadsheet evaluates (numbers and empty cells unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def excel_csv(rows: Iterable[Iterable[Any]]) -> bytes:
    """Rows as a semicolon-separated UTF-8 CSV with BOM and CRLF, every cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
