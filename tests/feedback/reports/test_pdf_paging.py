"""The report's print CSS makes WeasyPrint continue a long table on the next page properly.

Every page a table runs over starts with its header row again, no row is split between two
pages, and the totals row is printed once (at the end), not at the foot of every page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2

from feedback.reports.exports import pdf_bytes

REPORT_CSS = Path(__file__).resolve().parents[3] / "feedback" / "web" / "static" / "reports.css"
ROWS = 90


def _pages(html: str) -> list[str]:
    pdf = pypdfium2.PdfDocument(pdf_bytes(html, "http://127.0.0.1/"))
    return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]


def test_long_table_repeats_its_header_and_keeps_rows_whole() -> None:
    rows = "".join(
        f'<tr><th scope="row">Rad{n} har en lång text som bryts över flera rader i sin cell '
        f"så att raden blir hög Slut{n}</th><td>{n}</td></tr>"
        for n in range(1, ROWS + 1)
    )
    html = (
        f'<!doctype html><html lang="sv"><head><meta charset="utf-8"><style>{REPORT_CSS.read_text()}</style>'
        "</head><body><h2>Lång tabell</h2><table><caption>Prov</caption>"
        '<thead><tr><th scope="col">Rubrikkolumn</th><th scope="col">Antalkolumn</th></tr></thead>'
        f'<tbody>{rows}</tbody><tfoot><tr><th scope="row">Summaraden</th><td>0</td></tr></tfoot>'
        "</table></body></html>"
    )
    pages = _pages(html)
    assert len(pages) >= 3, "the table should need several pages"
    for number, text in enumerate(pages, start=1):
        assert "Rubrikkolumn" in text and "Antalkolumn" in text, f"page {number} lacks the header"
    seen = []
    for text in pages:
        starts = [int(n) for n in re.findall(r"Rad(\d+)", text)]
        ends = [int(n) for n in re.findall(r"Slut(\d+)", text)]
        assert starts == ends, "a row is split over two pages"
        seen += starts
    assert seen == list(range(1, ROWS + 1)), "every row once, in order"
    assert "".join(pages).count("Summaraden") == 1 and "Summaraden" in pages[-1]
