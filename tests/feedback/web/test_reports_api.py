"""GET /api/reports/themes, and agreement: the page, print/PDF, CSV and JSON show the same numbers.

The agreement test builds a demo-like year (four units of very different sizes, all closure
reasons and languages, SMS dispositions, scale answers, themed texts, returns to assistance, and a
previous year for the summary's comparison), then reads the report through the app in every
format and checks each published number, and each hidden one with its reason, against the JSON.
The expected words for hidden cells are written out here, not imported, so a wording that drifts
in one format fails. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role, Unit
from feedback.core.clock import FrozenClock
from feedback.core.settings import Settings
from feedback.web.app import create_app
from feedback.wiring import Collaborators
from tests.feedback.reports.factories import ReportData
from tests.helpers import login, make_unit, make_user

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PERIOD = "fran=2026-01-01&till=2026-11-30"
THEMES = ("bemotande", "stod_till_arbete", "ekonomisk_trygghet", "handlaggning", "halsa", "delaktighet")
REASONS = ("work", "work", "work", "studies", "other_income", "moved")
LANGUAGES = ("sv", "sv", "sv", "en", "ar", "so")
SMALL_SV = "färre än 5"
COMPLEMENT_SV = "dold för att skydda en liten grupp"
LABELS = {"small": SMALL_SV, "complement": COMPLEMENT_SV}
NO_DATA = {"value": None, "hidden": None, "range": None}


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, Collaborators(clock=FrozenClock(NOW)))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as test_client:
        yield test_client


# ---------------------------------------------------------------- demo-like data
async def _person(data: ReportData, rng: random.Random, unit: Unit, closed_on: date, texts_at: int) -> None:
    """One closure: asked or not, answered or not, scale answers, a themed text, maybe a return."""
    reason = rng.choice(REASONS)
    returned = closed_on + timedelta(days=rng.choice((40, 100, 200))) if rng.random() < 0.08 else None
    closure = await data.closure(
        unit, closed_on=closed_on, reason=reason, language=rng.choice(LANGUAGES), returned_on=returned
    )
    if reason not in ("work", "studies") or closed_on + timedelta(days=30) > NOW.date():
        return  # never asked: closed for another reason or too recently
    due = closed_on + timedelta(days=30)
    roll = rng.random()
    disposition = (
        "complete" if roll < 0.6 else "partial" if roll < 0.7 else "no_response" if roll < 0.9 else None
    )
    follow_up = await data.follow_up(closure, due_on=due, disposition=disposition)
    if disposition not in ("complete", "partial"):
        return
    at = datetime(due.year, due.month, due.day, 10, tzinfo=UTC)
    for key, p in (("satisfaction", 0.8), ("respect", 0.9), ("influence", 0.6)):
        if rng.random() < 0.07:
            await data.answer(closure, follow_up, key, dont_know=True, at=at)
        else:
            await data.answer(closure, follow_up, key, positive=rng.random() < p, at=at)
    themes = {t: rng.choice(("pos", "neu", "neg", None)) for t in rng.sample(THEMES[:texts_at], k=2)}
    await data.text(
        unit,
        themes,
        person=str(closure.id),
        at=at,
        text="Det var bra stöd." if rng.random() < 0.8 else "Handläggaren lyssnade på mig.",
        consent=rng.random() < 0.3,
        language="sv",
        reason=reason,
    )


async def _seed(session: AsyncSession) -> dict[str, Unit]:
    rng = random.Random(14)
    units = {
        "north": await make_unit(session, name="Norra"),
        "south": await make_unit(session, name="Södra"),
        "east": await make_unit(session, name="Östra"),
        "tiny": await make_unit(session, name="Lilla"),
    }
    data = ReportData(session)
    sizes = {"north": 70, "south": 45, "east": 20, "tiny": 4}
    for name, size in sizes.items():
        for year, share in ((2025, 0.7), (2026, 1.0)):
            for i in range(int(size * share)):
                closed = date(year, 1, 5) + timedelta(days=(i * 300) // max(size, 1) + rng.randrange(5))
                # the last theme appears only in the current year: a change to report
                await _person(data, rng, units[name], closed, len(THEMES) if year == 2026 else 5)
    await session.commit()
    return units


# ---------------------------------------------------------------- expected words
def count_text(cell: dict[str, Any]) -> str:
    if cell["value"] is not None:
        return str(cell["value"])
    assert cell["hidden"] in LABELS, cell
    return LABELS[cell["hidden"]]


def share_text(cell: dict[str, Any], *, sign: bool = True) -> str:
    if cell["value"] is not None:
        return f"{round(cell['value'] * 100)}" + (" %" if sign else "")
    if cell["range"] is not None:
        low, high = cell["range"]
        return f"minst {math.floor(low * 100)} %" if high >= 0.5 else f"högst {math.ceil(high * 100)} %"
    assert cell["hidden"] in LABELS, cell
    return LABELS[cell["hidden"]]


def page_share_text(cell: dict[str, Any]) -> str:
    """The page writes a share hidden without a range and without a known reason as "dold"."""
    if cell["value"] is None and cell["range"] is None and cell["hidden"] is None:
        return "dold"
    return share_text(cell)


# ---------------------------------------------------------------- reading the page
class Tables(HTMLParser):
    """The cell texts of every ``<table id>``, row by row, without visually hidden text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.table: str | None = None
        self.part = ""
        self.row: dict[str, Any] | None = None
        self.cell: list[str] | None = None
        self.spans: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table" and a.get("id"):
            self.table = a["id"]
            self.tables[self.table] = []
        elif tag in ("thead", "tbody", "tfoot"):
            self.part = tag
        elif tag == "tr" and self.table:
            self.row = {"part": self.part, "attrs": a, "cells": []}
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag == "span":
            self.spans.append("visually-hidden" in a.get("class", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.table = None
        elif tag == "tr" and self.row is not None and self.table:
            self.tables[self.table].append(self.row)
            self.row = None
        elif tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row["cells"].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "span" and self.spans:
            self.spans.pop()

    def handle_data(self, data: str) -> None:
        if self.cell is not None and not any(self.spans):
            self.cell.append(data)


def tables_of(html: str) -> dict[str, list[dict[str, Any]]]:
    parser = Tables()
    parser.feed(html)
    return _joined_trend_parts(parser.tables)


def _joined_trend_parts(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The printable report splits the monthly table into parts of a few months each (so every
    column fits the page: ``trend-table-1``, ``-2`` …); join them back into one ``trend-table``,
    row by row, so the page and the print view are checked against the JSON the same way."""
    parts = sorted(
        (k for k in tables if re.fullmatch(r"trend-table-\d+", k)), key=lambda k: int(k.rsplit("-", 1)[1])
    )
    if "trend-table" in tables or not parts:
        return tables
    joined = [dict(row, cells=list(row["cells"])) for row in tables[parts[0]]]
    for part in parts[1:]:
        rows = tables[part]
        assert len(rows) == len(joined), f"{part} has other rows than {parts[0]}"
        for target, row in zip(joined, rows, strict=True):
            assert row["cells"][:1] == target["cells"][:1], (part, row["cells"][:1])
            target["cells"] += row["cells"][1:]
    return {**tables, "trend-table": joined}


def body(table: list[dict[str, Any]], part: str = "tbody") -> list[list[str]]:
    """The rows of one part; a one-cell row is the "nothing with these filters" line."""
    return [r["cells"] for r in table if r["part"] == part and len(r["cells"]) > 1]


def words(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def summary_lines(doc: dict[str, Any]) -> list[str]:
    """The summary as the partial writes it, from the JSON."""
    summary = doc["summary"]
    lines = []
    for f in summary["figures"]:
        base = f["base"]
        shown = share_text(f["share"]) if f["share"] != NO_DATA else "inga uppgifter"
        counted = (
            count_text(base["count"])
            if base["count"]["value"] is not None or base["count"]["hidden"]
            else "0"
        )
        lines.append(f"{f['label']} {shown} Räknat på: {base['term'].lower()}, {counted}.")
    for t in summary["top_themes"]:
        lines.append(f"{t['label']}: {count_text(t['respondents'])} personer ({share_text(t['share'])})")
    change = summary["change"]
    if change is None:
        lines.append(summary["change_note"])
        return lines
    before = f"{round(change['previous'] * 100)} %"
    now = f"{round(change['current'] * 100)} %"
    if change["points"] == 0:
        lines.append(f"{change['label']}: oförändrat, {now}.")
        return lines
    direction = "upp" if change["points"] > 0 else "ned"
    lines.append(
        f"{change['label']}: från {before} till {now}, {direction} {abs(change['points'])} procentenheter."
    )
    return lines


def check_page(html: str, doc: dict[str, Any]) -> int:
    """Every number of the page's tables and summary against the JSON; returns the cells checked."""
    tables = tables_of(html)
    checked = 0
    text = words(html)
    for line in summary_lines(doc):
        assert line in text, line
    sentiments = [s["key"] for s in doc["sentiments"]]
    periods = [p["code"] for p in doc["periods"]]
    themes = {
        r["attrs"]["data-theme"]: r["cells"] for r in tables["theme-table"] if "data-theme" in r["attrs"]
    }
    trend = {
        r["attrs"]["data-theme"]: r["cells"] for r in tables["trend-table"] if "data-theme" in r["attrs"]
    }
    assert list(themes) == [t["key"] for t in doc["themes"]]
    for t in doc["themes"]:
        row = themes[t["key"]]
        expected = [count_text(t["respondents"]), page_share_text(t["share"])]
        expected += [count_text(t["sentiment"][s]) for s in sentiments]
        assert row[1:] == expected, (t["key"], row, expected)
        checked += len(expected)
        if t["parent"] is None:
            assert trend[t["key"]][1:] == [count_text(t["trend"][p]) for p in periods], t["key"]
            checked += len(periods)
    foot = body(tables["theme-table"], "tfoot")[0]
    assert foot[1] == count_text(doc["respondents"])
    assert foot[3:] == [count_text(doc["sentiment_totals"][s]) for s in sentiments]
    assert body(tables["trend-table"], "tfoot")[0][1:] == [
        count_text(doc["trend_totals"][p]) for p in periods
    ]
    unit_rows = tables.get("unit-table", [])  # shown only for more than one unit
    units = {r["attrs"]["data-unit"]: r["cells"][1] for r in unit_rows if r["part"] == "tbody"}
    if len(doc["unit_respondents"]) > 1:
        assert units == {u["unit_id"]: count_text(u["respondents"]) for u in doc["unit_respondents"]}
    assert body(tables["skr-table"]) == [
        [
            r["label"],
            count_text(r["positive"]),
            count_text(r["base"]),
            share_text(r["share"]),
            count_text(r["dont_know"]),
        ]
        for r in doc["skr"]
    ]
    columns = [c["key"] for c in doc["waves"]["columns"]]
    assert body(tables["waves-table"]) == [
        [
            r["label"],
            *[count_text(r["cells"][c]) for c in columns],
            count_text(r["total"]),
            page_share_text(r["response_rate"]),
        ]
        for r in doc["waves"]["rows"]
    ]
    for b in doc["cohort"]["breakdowns"]:
        table = tables[f"cohort-{b['key']}"]
        assert body(table) == [cohort_cells(r) for r in b["rows"]], b["key"]
        assert body(table, "tfoot") == [cohort_cells(doc["cohort"]["total"])]
        checked += 7 * (len(b["rows"]) + 1)
    assert body(tables["sustained-table"]) == [
        [
            f"{r['months']} {'månad' if r['months'] == 1 else 'månader'}",
            count_text(r["base"]),
            count_text(r["sustained"]),
            count_text(r["returned"]),
            share_text(r["share"]),
        ]
        for r in doc["sustained"]
    ]
    return checked + 5 * len(doc["skr"]) + 4 * len(doc["sustained"]) + len(units)


def cohort_cells(r: dict[str, Any]) -> list[str]:
    counts = [count_text(r[k]) for k in ("cohort", "asked", "respondents", "non_respondents", "never_asked")]
    return [r["label"], *counts, page_share_text(r["response_rate"])]


# ---------------------------------------------------------------- reading the CSV
def csv_blocks(content: bytes) -> list[list[list[str]]]:
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    blocks: list[list[list[str]]] = [[]]
    for row in rows:
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    return blocks


def check_csv(content: bytes, doc: dict[str, Any]) -> None:
    blocks = csv_blocks(content)
    themes, *rest = blocks
    by_key = {row[1]: row for row in themes[1:-1]}
    sentiments = [s["key"] for s in doc["sentiments"]]
    periods = [p["code"] for p in doc["periods"]]
    for t in doc["themes"]:
        expected = [
            t["label"],
            t["key"],
            t["parent"] or "",
            count_text(t["respondents"]),
            share_text(t["share"], sign=False),
        ]
        expected += [count_text(t["sentiment"][s]) for s in sentiments]
        expected += [count_text(t["trend"][p]) for p in periods]
        assert by_key[t["key"]] == expected, t["key"]
    assert themes[-1][3] == count_text(doc["respondents"])
    titled = {block[0][0]: block for block in rest}
    assert titled["enhet"][1:] == [
        [u["name"], "", "", count_text(u["respondents"]), ""] for u in doc["unit_respondents"]
    ]
    summary = titled["Sammanfattning"]
    for f, row in zip(doc["summary"]["figures"], summary[2:], strict=False):
        assert row == [
            f["label"],
            share_text(f["share"], sign=False),
            f["base"]["term"],
            count_text(f["base"]["count"]),
        ]
    change, period = doc["summary"]["change"], doc["summary"]["previous_period"]
    direction = "upp" if change["points"] > 0 else "ned"
    assert summary[-1] == [
        f"Störst förändring sedan {period['date_from']} – {period['date_to']}: {change['label']}",
        f"{direction} {abs(change['points'])} procentenheter (från {round(change['previous'] * 100)} % "
        f"till {round(change['current'] * 100)} %)",
        change["base"]["term"],
        count_text(change["base"]["count"]),
    ]
    assert [r[1] for r in titled["Andel positiva svar (SKR)"][2:]] == [
        count_text(r["positive"]) for r in doc["skr"]
    ]
    assert [r[3] for r in titled["Andel positiva svar (SKR)"][2:]] == [
        share_text(r["share"], sign=False) for r in doc["skr"]
    ]
    columns = [c["key"] for c in doc["waves"]["columns"]]
    waves = titled["Svarsfrekvens per uppföljning"][2:-1]
    assert waves == [
        [
            r["label"],
            *[count_text(r["cells"][c]) for c in columns],
            count_text(r["total"]),
            share_text(r["response_rate"], sign=False),
        ]
        for r in doc["waves"]["rows"]
    ]
    for b in doc["cohort"]["breakdowns"]:
        block = titled[f"Svarande jämfört med alla avslut, per {b['title'].lower()}"]
        expected = [cohort_cells(r)[:-1] for r in [*b["rows"], doc["cohort"]["total"]]]
        assert [row[:-1] for row in block[2:]] == expected, b["key"]
    sustained = titled["Varaktig självförsörjning (ej återaktualiserade efter avslut)"][2:]
    assert sustained == [
        [
            str(r["months"]),
            count_text(r["base"]),
            count_text(r["sustained"]),
            count_text(r["returned"]),
            share_text(r["share"], sign=False),
        ]
        for r in doc["sustained"]
    ]


# ---------------------------------------------------------------- the tests
async def test_page_print_pdf_csv_and_json_agree(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    units = await _seed(db_session)
    manager = await make_user(db_session, Role.MANAGER, list(units.values()))
    await login(client, manager)
    response = await client.get(f"/api/reports/themes?{PERIOD}")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    doc = response.json()
    cells = [c for c in _cells(doc)]
    hidden = {c["hidden"] for c in cells if c["value"] is None} - {None}
    assert hidden == {"small", "complement"}, "the data must exercise both kinds of hidden cells"
    assert doc["merge_suggestions"] and "Lilla" in doc["merge_suggestions"][0]["names"]
    assert all(c["hidden"] is None for c in cells if c["value"] is not None)
    assert doc["summary"]["change"] is not None and doc["summary"]["previous_period"] == {
        "date_from": "2025-02-01",
        "date_to": "2025-12-31",
    }

    page = await client.get(f"/reports/?{PERIOD}")
    assert page.status_code == 200
    checked = check_page(page.text, doc)
    for suggestion in doc["merge_suggestions"]:
        assert f"Enheterna {', '.join(suggestion['names'])} har tillsammans" in words(page.text)
    assert checked > 100
    printable = await client.get(f"/reports/print?{PERIOD}")
    assert printable.status_code == 200
    check_page(printable.text, doc)
    themes_csv = await client.get(f"/reports/teman.csv?{PERIOD}")
    assert themes_csv.status_code == 200
    check_csv(themes_csv.content, doc)

    pdf = await client.get(f"/reports/rapport.pdf?{PERIOD}")
    assert pdf.status_code == 200
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf.content)
    text = " ".join(
        " ".join(document[i].get_textpage().get_text_range().split()) for i in range(len(document))
    )
    for line in summary_lines(doc):
        assert line in text, line
    for t in doc["themes"]:
        assert f"{t['label']} {count_text(t['respondents'])} {page_share_text(t['share'])}" in text, t["key"]


def _cells(doc: Any) -> list[dict[str, Any]]:
    from feedback.reports.document import all_cells

    return [c for _, c in all_cells(doc)]


async def test_json_for_one_unit_hides_what_the_page_hides(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    units = await _seed(db_session)
    manager = await make_user(db_session, Role.MANAGER, list(units.values()))
    await login(client, manager)
    query = f"{PERIOD}&enhet={units['north'].id}&kanal=sms&orsak=work&period=quarter"
    doc = (await client.get(f"/api/reports/themes?{query}")).json()
    assert doc["filters"]["closure_reason"] == "work" and doc["filters"]["granularity"] == "quarter"
    assert "Norra" in [u["name"] for u in doc["units"]]
    page = await client.get(f"/reports/?{query}")
    assert check_page(page.text, doc) > 20
    # the panel has no survey sections: the summary's figures have no value and hide nothing
    panel = (await client.get(f"/api/reports/themes?{PERIOD}&kanal=panel")).json()
    assert [f["share"] for f in panel["summary"]["figures"]] == [
        {"value": None, "hidden": None, "range": None}
    ] * 3
    page = await client.get(f"/reports/?{PERIOD}&kanal=panel")
    check_page(page.text, panel)


async def test_api_requires_a_manager_of_the_unit(
    client: AsyncTestClient[Litestar], db_session: AsyncSession
) -> None:
    north = await make_unit(db_session, name="Norra")
    south = await make_unit(db_session, name="Södra")
    anonymous = await client.get("/api/reports/themes")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
    for role in (Role.CASEWORKER, Role.PANEL_MEMBER, Role.ADMIN):
        user = await make_user(db_session, role, [north])
        await login(client, user)
        refused = await client.get("/api/reports/themes")
        assert refused.status_code == 403, role
        await client.post("/logout", headers={"x-csrftoken": client.cookies.get("uppf_csrf", "")})
    manager = await make_user(db_session, Role.MANAGER, [north])
    await login(client, manager)
    assert (await client.get(f"/api/reports/themes?{PERIOD}")).status_code == 200
    foreign = await client.get(f"/api/reports/themes?{PERIOD}&enhet={south.id}")
    assert foreign.status_code == 403
    assert foreign.json()["detail"] == "Du har inte behörighet till den enheten."


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("fran=igår", "fran", "ÅÅÅÅ-MM-DD"),
        ("fran=2026-05-01&till=2026-01-01", "till", "Slutdatumet"),
        ("enhet=inte-en-enhet", "enhet", "Välj en enhet"),
        ("kanal=fax", "kanal", "Välj en kanal"),
        ("vag=45", "vag", "uppföljningsomgång"),
        ("period=vecka", "period", "månad eller kvartal"),
    ],
)
async def test_bad_filter_is_a_swedish_400(
    client: AsyncTestClient[Litestar], db_session: AsyncSession, query: str, field: str, message: str
) -> None:
    unit = await make_unit(db_session)
    await login(client, await make_user(db_session, Role.MANAGER, [unit]))
    response = await client.get(f"/api/reports/themes?{query}")
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["field"] == field and message in problem["detail"]


def test_openapi_documents_the_report(app: Litestar) -> None:
    schema = app.openapi_schema.to_schema()
    operation = schema["paths"]["/api/reports/themes"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {
        "fran",
        "till",
        "enhet",
        "kanal",
        "orsak",
        "vag",
        "sprak",
        "period",
    }
    components = schema["components"]["schemas"]
    report = components["ThemeReportOut"]["properties"]
    assert {"summary", "themes", "skr", "waves", "cohort", "sustained"} <= set(report)
    assert set(components["CountCell"]["properties"]) == {"value", "hidden"}
