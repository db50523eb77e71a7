"""Issue 6 done-when in Chromium: a unit with 3 respondents shows "färre än 5" and its number cannot
be derived from the others — on screen, in the CSV exports and in the print view; "slå ihop
enheter" is offered and a selection that would split the cluster is widened; axe-core clean.

Runs on a server of its own: the seed adds a unit and a manager other tests must not see.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from feedback.reports.suppression import COMPLEMENT_SV, SUPPRESSED_SV
from tests.e2e.small_cells_seed import MANAGER_ALL, SMALL_TEXTS, SMALL_UNIT
from tests.e2e.support import ROOT, LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(live_server_factory: Any) -> LiveServer:
    live = live_server_factory(isolated=True)
    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.small_cells_seed", live.database_url],
        cwd=ROOT,
        env={**os.environ, **live.env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return live


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Any:
    context = browser.new_context(base_url=server.base_url, locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def unit_cells(page: Any) -> tuple[dict[str, str], str]:
    """The per-unit table: {unit name: shown text} and the total row's text."""

    # text_content, not inner_text: the table may sit in a part the reader has not opened yet
    # (collapsed <details>), and its numbers are what a reader gets on opening it.
    def text(locator: Any) -> str:
        return " ".join((locator.text_content() or "").split())

    rows = page.locator("#unit-table tbody tr")
    cells = {text(rows.nth(i).locator("th")): text(rows.nth(i).locator("td")) for i in range(rows.count())}
    return cells, text(page.locator("#unit-table tfoot td"))


def assert_small_unit_protected(cells: dict[str, str], total: str) -> None:
    assert cells[SMALL_UNIT] == SUPPRESSED_SV, cells
    assert "3" != cells[SMALL_UNIT]
    # hidden: the small cell itself ("färre än 5") and the cells hidden only to protect it
    hidden = [name for name, text in cells.items() if text in (SUPPRESSED_SV, COMPLEMENT_SV)]
    # complementary suppression: the total minus the visible units must not give the small unit
    assert len(hidden) >= 2 or total == SUPPRESSED_SV, (cells, total)
    if total != SUPPRESSED_SV:
        visible = sum(int(text) for text in cells.values() if text not in (SUPPRESSED_SV, COMPLEMENT_SV))
        # the hidden cells share the rest, so no single hidden cell is pinned down
        assert int(total) - visible >= 5 + 3 or len(hidden) >= 2


def csv_rows(page: Any, url: str) -> list[list[str]]:
    response = page.request.get(url)
    assert response.ok, response.status
    return list(csv.reader(io.StringIO(response.body().decode("utf-8-sig")), delimiter=";"))


def test_small_unit_is_hidden_with_its_complement_on_screen_in_csv_and_print(page: Any) -> None:
    login(page, MANAGER_ALL, DEMO_PASSWORD)
    page.goto("/reports/")
    assert page.get_by_role("heading", level=1).inner_text() == "Temarapport"
    cells, total = unit_cells(page)
    assert set(cells) >= {SMALL_UNIT, "Försörjningsstöd Norra", "Arbetsmarknadsenheten"}
    assert_small_unit_protected(cells, total)
    assert total != SUPPRESSED_SV and int(total) >= 5  # the whole is still reported
    for text in SMALL_TEXTS:
        assert text not in page.content()  # too few people: no quotes, no texts
    assert_no_axe_violations(page)

    # the theme table CSV has the same per-unit numbers, suppressed alike
    query = page.locator("a", has_text="Ladda ner tematabell").get_attribute("href")
    rows = csv_rows(page, query)
    # the per-unit block starts with its "enhet" header and ends at the next empty line (later
    # blocks, e.g. the cohort per unit, also start rows with unit names)
    start = next(i for i, row in enumerate(rows) if row[:1] == ["enhet"])
    end = next((i for i in range(start + 1, len(rows)) if not any(rows[i])), len(rows))
    by_unit = {row[0]: row[3] for row in rows[start + 1 : end] if len(row) > 3 and row[0] in cells}
    assert by_unit == cells
    assert "3" not in [row[3] for row in rows if row and row[0] == SMALL_UNIT]
    # the answer-level CSV: the small unit's answers are there only pooled under a theme that many
    # people share, with no unit (or date, channel, sentiment …) column to count them by
    answers_href = page.locator("a", has_text="Ladda ner svar med teman").get_attribute("href")
    answers = csv_rows(page, answers_href)
    assert answers[0] == ["svarande", "teman", "svar"]
    assert all(len(row) == 3 for row in answers)
    assert not any(SMALL_UNIT in cell for row in answers for cell in row)

    # the PDF: the small unit's row reads "färre än 5" there too, and the page is not blank
    pdf_response = page.request.get(
        query.replace("/reports/teman.csv", "/reports/rapport.pdf"), timeout=240_000
    )
    assert pdf_response.ok and pdf_response.body().startswith(b"%PDF")
    import pypdfium2

    pdf = pypdfium2.PdfDocument(pdf_response.body())
    pdf_text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert re.search(re.escape(SMALL_UNIT) + r"\s+" + re.escape(SUPPRESSED_SV), pdf_text), pdf_text[:2000]
    assert not re.search(re.escape(SMALL_UNIT) + r"\s+3\b", pdf_text)
    image = pdf[0].render(scale=1).to_pil().convert("L")
    assert sum(image.histogram()[:128]) > 0.005 * image.width * image.height, "first page is blank"

    # the print view (also the PDF's HTML) shows the same cells
    page.goto(page.locator("a", has_text="Utskriftsvänlig rapport").get_attribute("href"))
    print_cells, print_total = unit_cells(page)
    assert (print_cells, print_total) == (cells, total)
    assert_no_axe_violations(page)


def test_merge_offer_and_no_selection_splits_the_cluster(page: Any) -> None:
    login(page, MANAGER_ALL, DEMO_PASSWORD)
    page.goto("/reports/")
    offer = page.get_by_role("link", name="Slå ihop enheter")
    assert offer.count() == 1 and SMALL_UNIT in offer.inner_text()
    # the offer names the small unit's whole cluster (every unit some per-unit number of which is
    # small belongs to it); following it reports exactly those units, nothing widened further
    cluster = set(offer.inner_text().split(": ", 1)[1].split(" + "))
    partners = cluster - {SMALL_UNIT}
    assert SMALL_UNIT in cluster and partners
    offer.click()
    page.wait_for_load_state()
    assert page.url.count("enhet=") == len(cluster)
    cells, total = unit_cells(page)
    assert set(cells) == cluster
    assert_small_unit_protected(cells, total)
    assert_no_axe_violations(page)

    # choose every unit except the small one: the report would differ from "all units" by exactly
    # the small unit, so the selection is widened to the whole cluster and says so
    page.goto("/reports/")
    for name in cells | {"Försörjningsstöd Norra": "", "Arbetsmarknadsenheten": ""}:
        page.get_by_label(name, exact=True).set_checked(name != SMALL_UNIT)
    page.get_by_role("button", name="Visa rapporten").click()
    page.wait_for_load_state()
    notice = page.get_by_role("status").filter(has_text="redovisas ihop")
    assert notice.count() == 1 and all(name in notice.inner_text() for name in cluster)
    widened, widened_total = unit_cells(page)
    assert SMALL_UNIT in widened
    assert_small_unit_protected(widened, widened_total)
    assert_no_axe_violations(page)

    # the small unit alone is never reported on its own either
    page.goto("/reports/")
    for name in widened:
        page.get_by_label(name, exact=True).set_checked(name == SMALL_UNIT)
    page.get_by_role("button", name="Visa rapporten").click()
    page.wait_for_load_state()
    alone, alone_total = unit_cells(page)
    assert set(alone) == cluster
    assert_small_unit_protected(alone, alone_total)
