"""Theme report layout in real Chromium and the PDF of the demo year.

The page must never scroll sideways (a wide table scrolls inside its own region), every trend
series must be named in the legend, the collapsible parts must open, and the PDF must hold every
table whole: every month of the period, every table header, no text off the page, no
half-empty pages.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

MANAGER = "chef@demo.uppfoljning.se"
VIEWPORTS = [(1280, 900), (390, 844)]
PDF_TIMEOUT_MS = 120_000  # generous: the machine running the suite may be busy

NO_SIDEWAYS_SCROLL = """() => {
  const root = document.documentElement;
  return {scroll: root.scrollWidth, client: root.clientWidth};
}"""


def _open_every_part(page: Any) -> list[str]:
    """Open each collapsed part the way a person does (click its heading); return their ids."""
    opened = []
    for details in page.locator("details[id^=part-]").all():
        if details.get_attribute("open") is None:
            details.locator("> summary").click()
        assert details.get_attribute("open") is not None
        opened.append(details.get_attribute("id") or "")
    return opened


def _months(first: date, last: date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@pytest.mark.parametrize(("width", "height"), VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_report_fits_the_window_and_parts_open(
    page, live_server: LiveServer, width: int, height: int
) -> None:
    page.set_viewport_size({"width": width, "height": height})
    login(page, MANAGER, DEMO_PASSWORD)
    page.goto(f"{live_server.base_url}/reports/")
    size = page.evaluate(NO_SIDEWAYS_SCROLL)
    assert size["scroll"] <= size["client"], f"page scrolls sideways when collapsed: {size}"
    # the Sammanfattning comes first and, on a laptop screen, is read without scrolling
    summary = page.get_by_role("region", name="Sammanfattning")
    assert summary.is_visible()
    box = summary.bounding_box()
    assert box is not None and box["y"] >= 0
    if width >= 1280:
        assert box["y"] + box["height"] <= height, f"summary ends below the first screen: {box}"

    opened = _open_every_part(page)
    assert {"part-themes", "part-trend", "part-waves", "part-cohort", "part-sustained"} <= set(opened)
    assert page.locator("#trend-table").is_visible() and page.locator("#sustained-table").is_visible()
    size = page.evaluate(NO_SIDEWAYS_SCROLL)
    assert size["scroll"] <= size["client"], f"page scrolls sideways with every part open: {size}"
    # a table wider than the window scrolls inside a named, focusable region of its own
    trend_region = page.get_by_role("region", name=re.compile("Personer per tema och månad"))
    assert trend_region.get_attribute("tabindex") == "0"
    assert trend_region.locator("#trend-table").count() == 1
    for region in page.locator(".table-scroll").all():
        box_right = region.evaluate("e => e.getBoundingClientRect().right")
        assert box_right <= size["client"] + 1

    # the legend names every series drawn, in the same order
    drawn = [g.get_attribute("data-theme") for g in page.locator("svg#trend g.series").all()]
    named = [li.get_attribute("data-theme") for li in page.locator("#trend-legend li").all()]
    assert len(drawn) >= 4, "the demo year should draw several series"
    assert named == drawn
    for item in page.locator("#trend-legend li").all():
        assert item.is_visible() and item.inner_text().strip()
        box = item.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
    assert_no_axe_violations(page)

    page.locator("#part-trend > summary").click()  # and closes again
    assert page.locator("#part-trend").get_attribute("open") is None
    assert not page.locator("#trend-table").is_visible()


def test_pdf_of_the_demo_year_is_complete(page, live_server: LiveServer) -> None:
    import pypdfium2

    login(page, MANAGER, DEMO_PASSWORD)
    page.goto(f"{live_server.base_url}/reports/")
    first = date.fromisoformat(page.get_by_label("Från och med").input_value())
    last = date.fromisoformat(page.get_by_label("Till och med").input_value())
    months = _months(first, last)
    assert len(months) >= 12, "the default period is the demo year"
    printable = page.goto(f"{live_server.base_url}/reports/print")
    assert printable is not None and printable.status == 200
    assert page.locator("details[id^=part-]").count() == 0, "print writes every part out in full"
    assert_no_axe_violations(page)
    headers = {
        table_id: [th.inner_text().strip() for th in page.locator(f"#{table_id} thead th").all()]
        for table_id in page.locator("table").evaluate_all("ts => ts.map(t => t.id)")
    }
    assert {"theme-table", "skr-table", "waves-table", "sustained-table"} <= set(headers)

    response = page.request.get(f"{live_server.base_url}/reports/rapport.pdf", timeout=PDF_TIMEOUT_MS)
    assert response.status == 200 and response.body().startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(response.body())
    texts = []
    for index in range(len(pdf)):
        pdf_page = pdf[index]
        width, height = pdf_page.get_size()
        textpage = pdf_page.get_textpage()
        texts.append(textpage.get_text_range())
        lowest = height
        for char in range(textpage.count_chars()):
            left, bottom, right, _top = textpage.get_charbox(char)
            if right <= left:  # spaces and line breaks have no box
                continue
            assert 0 <= left and right <= width + 0.5, (
                f"text runs off page {index + 1} (x={right:.0f} > {width:.0f})"
            )
            if (
                not textpage.get_text_range(char, 1).isspace() and bottom >= 44
            ):  # page numbers sit in the margin
                lowest = min(lowest, bottom)
        if index < len(pdf) - 1:
            assert lowest < height / 2, f"page {index + 1} of {len(pdf)} is more than half empty"
    words = set(re.findall(r"\S+", " ".join(texts)))
    everything = " ".join(texts)
    for month in months:
        assert month in words, f"month {month} missing from the PDF"
    for table_id, cells in headers.items():
        for cell in cells:
            for word in cell.split():
                assert word in words, f"header {cell!r} of {table_id} missing from the PDF"
    assert "Sida 1 av" in everything
