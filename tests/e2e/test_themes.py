"""Issue 17 done-when in Chromium: a manager moves an answer and the other themes' counts stay the
same; a split assigns answers and its undo restores the counts; a retraining shows its preview
(changed answers, examples) and changes nothing until the manager confirms; axe-core clean.

Runs on a server of its own: the edits and the retraining change the demo data other tests read.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import ROOT, LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e
MANAGER = "chef@demo.uppfoljning.se"


@pytest.fixture(scope="module")
def server(live_server_factory: Any) -> LiveServer:
    return live_server_factory(isolated=True)


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Any:
    context = browser.new_context(base_url=server.base_url, locale="sv-SE", timezone_id="Europe/Stockholm")
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def counts(page: Any) -> dict[str, str]:
    """The themes table on /themes/: {theme name: "answers/people"} as shown."""
    page.goto("/themes/")
    rows = page.locator("#theme-table tbody tr")
    out = {}
    for i in range(rows.count()):
        cells = [" ".join(c.split()) for c in rows.nth(i).locator("td").all_text_contents()]
        out[cells[0]] = f"{cells[2]}/{cells[3]}"
    return out


def run_worker(server: LiveServer, status: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.e2e.themes_worker",
            server.database_url,
            server.env["FEEDBACK_MODEL_DIR"],
            status,
        ],
        cwd=ROOT,
        env={**os.environ, **server.env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_move_split_undo_and_retrain_preview(page: Any, server: LiveServer) -> None:
    login(page, MANAGER, DEMO_PASSWORD)
    before = counts(page)
    assert_no_axe_violations(page)

    # move one answer: only the two themes it names may change
    source = max(
        (name for name, shown in before.items() if shown.split("/")[0].isdigit()),
        key=lambda n: int(before[n].split("/")[0]),
    )
    page.get_by_role("link", name=source, exact=True).click()
    assert_no_axe_violations(page)
    row = page.locator("#answers tbody tr").first
    select = row.get_by_label("Flytta svaret till tema")
    target_key = select.locator("option").nth(0).get_attribute("value")
    target = select.locator("option").nth(0).text_content().strip()
    select.select_option(target_key)
    row.get_by_role("button", name="Flytta").click()
    page.get_by_text("Svaret är flyttat. Inga andra svar har ändrats.").wait_for()
    after = counts(page)
    for name in before:
        if name not in (source, target):
            assert after[name] == before[name], (name, before[name], after[name])
    assert after[source] != before[source] or "färre" in after[source]

    # split: the manager assigns answers; the rest stay; undo puts everything back
    before_split = counts(page)
    page.get_by_role("link", name=source, exact=True).click()
    form = page.locator("#split-form")
    form.get_by_label("Namn på första nya temat").fill("Del ett")
    form.get_by_label("Namn på andra nya temat").fill("Del två")
    form.get_by_role("button", name="Välj svar att flytta").click()
    page.get_by_role("heading", name=re.compile("^Dela ")).wait_for()
    assert_no_axe_violations(page)
    selects = page.locator("#split-answers select")
    assert selects.count() >= 2
    selects.nth(0).select_option("0")
    selects.nth(1).select_option("1")
    for i in range(2, selects.count()):
        selects.nth(i).select_option("")
    page.get_by_role("button", name="Dela temat och flytta de valda svaren").click()
    page.get_by_text("svaren du valde är flyttade").wait_for()
    split = counts(page)
    assert "Del ett" in split and "Del två" in split and split[source] != "0/0"
    for name in before_split:
        if name != source:
            assert split[name] == before_split[name], name
    page.get_by_role("link", name=source, exact=True).click()
    page.goto(page.url)  # the theme page again; undo from the list of recent edits
    page.goto("/themes/#andringar")
    page.locator("#recent-edits tbody tr").first.get_by_role("button", name=re.compile("Ångra")).click()
    page.get_by_text("Ändringen är ångrad.").wait_for()
    assert counts(page) == before_split

    # retraining: a preview first; nothing changes until the manager confirms
    page.goto("/themes/#tran-om")
    page.get_by_role("button", name="Visa vad en omträning skulle ändra").click()
    page.get_by_text("Förhandsvisningen är beställd").wait_for()
    run_worker(server, "ready")
    assert counts(page) == before_split  # the preview changed nothing
    page.goto("/themes/#tran-om")
    preview = page.locator("#retrain-preview")
    heading = preview.get_by_role("heading").text_content()
    changed = int(re.match(r"(\d+) svar får andra teman", heading).group(1))
    if changed:
        assert page.locator("#preview-examples tbody tr").count() >= 1
    assert_no_axe_violations(page)
    preview.get_by_role("button", name=re.compile("^Ja, träna om")).click()
    page.get_by_text("Omträningen är bekräftad").wait_for()
    run_worker(server, "done")
    page.goto("/themes/")
    version = page.locator("#retrain-status code").text_content()
    assert version and version in page.locator("#model-version").text_content()
    page.goto("/reports/")
    assert version in page.locator("#model-line").text_content()
