"""Closures in real Chromium: register through the form and see the schedule; CSV import with good
and bad rows (line and reason listed, a second import changes nothing); axe-core on every page."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from feedback.demo.accounts import DEMO_PASSWORD
from tests.e2e.support import LiveServer, assert_no_axe_violations, login

pytestmark = pytest.mark.e2e

CASEWORKER = "handlaggare@demo.uppfoljning.se"


def test_caseworker_registers_a_closure_and_sees_the_schedule(page, live_server: LiveServer) -> None:
    login(page, CASEWORKER, DEMO_PASSWORD)
    page.get_by_role("link", name="Avslut", exact=True).click()
    page.wait_for_load_state("domcontentloaded")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Registrera avslut").click()
    page.wait_for_load_state("domcontentloaded")
    assert_no_axe_violations(page)

    # First a personnummer by mistake: refused next to the field, never shown again.
    page.get_by_label("Klientreferens").fill("19811228-9874")
    page.get_by_label("Avslutsorsak").select_option(label="Arbete")
    page.get_by_role("button", name="Registrera avslut").click()
    page.wait_for_load_state("domcontentloaded")
    assert "ser ut som ett personnummer" in page.get_by_role("alert").inner_text()
    assert "9874" not in page.content()
    assert page.get_by_label("Klientreferens").get_attribute("aria-invalid") == "true"
    assert_no_axe_violations(page)

    ref = f"E2E-{uuid.uuid4().hex[:6]}"
    closed_on = date.today() - timedelta(days=3)
    page.get_by_label("Klientreferens").fill(ref)
    page.get_by_label("Mobilnummer (frivilligt)").fill("070-123 45 67")
    page.get_by_label("Språk för sms").select_option(label="Svenska")
    page.get_by_label("Avslutsdatum").fill(closed_on.isoformat())
    page.get_by_label("Avslutsorsak").select_option(label="Arbete")
    page.get_by_label("Datum för samtycke").fill(closed_on.isoformat())
    page.get_by_label("Hur samtycket gavs").select_option(label="Vid möte")
    page.get_by_label("Vem gav samtycket").select_option(label="Klienten själv")
    page.get_by_role("button", name="Registrera avslut").click()
    page.wait_for_load_state("domcontentloaded")

    assert "Avslutet är registrerat" in page.get_by_role("status").inner_text()
    schedule = page.locator("#follow-ups")
    assert "30 dagar efter avslut" in schedule.inner_text()
    assert (closed_on + timedelta(days=30)).isoformat() in schedule.inner_text()
    assert "Telefonsamtal" in schedule.inner_text()
    assert "+4670*****67" in page.locator("main").inner_text()
    assert_no_axe_violations(page)

    page.get_by_role("link", name="Tillbaka till avslut").click()
    page.wait_for_load_state("domcontentloaded")
    row = page.get_by_role("row").filter(has_text=ref)
    assert (closed_on + timedelta(days=30)).isoformat() in row.inner_text()
    assert "Uppföljning pågår" in row.inner_text()


def test_csv_import_lists_bad_rows_and_a_second_import_changes_nothing(
    page, live_server: LiveServer, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:6]
    closed_on = (date.today() - timedelta(days=10)).isoformat()
    csv_file = tmp_path / "avslut.csv"
    csv_file.write_bytes(
        (
            "\ufeffclient_ref;phone;language;closed_on;reason;unit\r\n"
            f"OK-{tag}-1;070-111 22 33;sv;{closed_on};work;fsd\r\n"
            f"198112289874;070-111 22 34;sv;{closed_on};work;fsd\r\n"
            f"BAD-{tag}-3;070-111 22 35;sv;2026-02-30;work;fsd\r\n"
            f"BAD-{tag}-4;070-111 22 36;sv;{closed_on};semester;fsd\r\n"
            f"OK-{tag}-5;;en;{closed_on};studier;fsd\r\n"
        ).encode()
    )
    login(page, CASEWORKER, DEMO_PASSWORD)
    page.goto("/caseworker/closures/import")
    assert_no_axe_violations(page)
    page.get_by_label("CSV-fil").set_input_files(str(csv_file))
    page.get_by_role("button", name="Läs in filen").click()
    page.wait_for_load_state("domcontentloaded")
    result = page.locator("#import-result").inner_text()
    assert "2 nya" in result and "3 avvisade" in result
    rejected = page.locator("#rejected")
    rows = {r.locator("td").first.inner_text(): r.inner_text() for r in rejected.locator("tbody tr").all()}
    assert sorted(rows) == ["3", "4", "5"]
    assert "personnummer" in rows["3"] and "XXXXXXXXXXXX" in rows["3"]
    assert "ÅÅÅÅ-MM-DD" in rows["4"]
    assert "avslutsorsak" in rows["5"].lower()
    assert "198112289874" not in page.content()
    assert_no_axe_violations(page)

    page.get_by_label("CSV-fil").set_input_files(str(csv_file))
    page.get_by_role("button", name="Läs in filen").click()
    page.wait_for_load_state("domcontentloaded")
    assert "0 nya, 0 ändrade, 2 oförändrade" in page.locator("#import-result").inner_text()

    page.goto(f"/caseworker/closures/?ref=OK-{tag}-1")
    assert f"OK-{tag}-1" in page.locator("#closures").inner_text()
