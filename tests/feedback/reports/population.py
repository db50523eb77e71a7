"""A naive model of the theme report, for the reconciliation and the no-differencing tests.

Why a second, naive implementation: the report counts through ``report_theme_fact``, bitmaps,
window functions and ``protect``; a bug in any of them gives numbers that look plausible. Here
every number is recounted in plain Python from rows fetched with simple selects, person by
person: for one report ("view") each person gets the set of published cells they are counted
in. The sum over people of a cell's membership is the cell's true value (the reconciliation), and
the sets themselves are what a reader's linear model of the published numbers is made of (the
no-differencing oracle in ``test_no_differencing.py``).

Cell keys (every published number of ``ThemeReport`` has exactly one):

- ``("total",)``, ``("trend", p)``, ``("sent", s)``, ``("unit", unit_id)``, ``("theme", k)``,
  ``("theme_sent", k, s)``, ``("theme_trend", k, p)``: people who wrote (base *skrev själva*);
- ``("cohort", dim, label, col)`` with dim ``T`` (label ``""``), ``unit``, ``reason``,
  ``language`` and col ``all``, ``asked``, ``resp``, ``non``, ``never``: closures (*avslutade*);
- ``("sus", months, part)`` with part ``base``, ``kept``, ``returned``: followable closures;
- ``("skr", question, part)`` with part ``base``, ``pos``, ``dk``: people, latest answer each;
- ``("wave", w, col)`` and ``("wave", "T", col)`` with col a disposition or ``total``: follow-ups.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.core.clock import STOCKHOLM
from feedback.reports.filters import ReportFilters
from feedback.reports.queries import ThemeReport
from feedback.themes.models import OpenTextTheme
from surveys.answers.models import Answer, AnswerMode, Channel, OpenText, ThemingStatus
from surveys.closures.models import LANGUAGE_LABELS_SV, REASON_LABELS_SV, Client, Closure
from surveys.conversations.models import Conversation
from surveys.phone.models import CallStatus, CallTask
from surveys.plans.models import FollowUp, FollowUpStatus
from surveys.questionnaires.models import Questionnaire
from surveys.questionnaires.service import seed_defaults

Cell = tuple[Any, ...]
FOLLOWED = ("work", "studies")
HORIZONS = ((1, 30), (3, 91), (6, 182), (12, 365))
CALL_TO_DISPOSITION = {
    "completed": "complete",
    "declined": "refused",
    "no_answer": "no_response",
    "busy": "no_response",
    "wrong_number": "unreachable",
}
SENTIMENT_OF = {"pos": "pos", "neu": "neu", "neg": "neg", None: "none"}


# ---------------------------------------------------------------- specs (what the tests generate)
@dataclass(frozen=True)
class TextSpec:
    """One open text of one person (``person`` groups several texts of the same respondent)."""

    person: str
    unit: int
    at: datetime
    channel: str = "sms"
    reason: str | None = "work"
    language: str | None = "sv"
    wave: int | None = 30
    themes: tuple[str, ...] = ()
    sentiment: str | None = None


@dataclass(frozen=True)
class FollowUpSpec:
    """``contact``: ``none`` (skipped), ``sms`` (conversation with ``result`` as disposition),
    ``phone`` (call task with ``result`` as last outcome). ``answers``: (question, pos|neg|dk)."""

    wave: int
    contact: str
    result: str = ""
    answers: tuple[tuple[str, str], ...] = ()
    answered_after_days: int = 1


@dataclass(frozen=True)
class ClosureSpec:
    unit: int
    closed_on: date
    reason: str = "work"
    language: str = "sv"
    returned_after_days: int | None = None
    follow_ups: tuple[FollowUpSpec, ...] = ()


def due_on(closure: ClosureSpec | ClosureRaw, wave: int) -> date:
    return closure.closed_on + timedelta(days=wave)


def answered_at(day: date, after_days: int) -> datetime:
    return datetime.combine(day + timedelta(days=after_days), time(10), UTC)


# ---------------------------------------------------------------- raw rows (what the recount reads)
@dataclass(frozen=True)
class TextRaw:
    person: str
    unit: str
    at: datetime
    channel: str
    reason: str | None
    language: str | None
    wave: int | None
    themes: tuple[tuple[str, str | None], ...]  # (theme key, theme sentiment)
    sentiment: str | None


@dataclass(frozen=True)
class AnswerRaw:
    question: str
    mode: str
    wave: int
    is_positive: bool | None
    dont_know: bool
    at: datetime
    id: str


@dataclass(frozen=True)
class FollowUpRaw:
    wave: int
    due_on: date
    status: str
    disposition: str | None
    call_outcome: str | None


@dataclass(frozen=True)
class ClosureRaw:
    id: str
    unit: str
    reason: str
    language: str
    closed_on: date
    returned_on: date | None
    answers: tuple[AnswerRaw, ...] = ()
    conversation_waves: tuple[int, ...] = ()
    call_waves: tuple[int, ...] = ()  # call tasks with at least one attempt
    follow_ups: tuple[FollowUpRaw, ...] = ()


@dataclass(frozen=True)
class View:
    """What one report covers: its (snapped) filters, the units it actually reports on, today."""

    filters: ReportFilters
    units: frozenset[str]
    unit_names: Mapping[str, str]
    today: date

    @classmethod
    def of(cls, report: ThemeReport, filters: ReportFilters, today: date) -> View:
        return cls(
            filters.snapped(),
            frozenset(u["id"] for u in report.units),
            {u["id"]: u["name"] for u in report.units},
            today,
        )


def _sid(value: object) -> str:
    """An id as the same string on both drivers (text SQL gives hex on SQLite)."""
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


# ---------------------------------------------------------------- writing specs to the database
async def store(
    session: AsyncSession, units: list[uuid.UUID], texts: Iterable[TextSpec], closures: Iterable[ClosureSpec]
) -> None:
    """Write the specs as plain rows (the report reads stored rows; how they got there is tested
    elsewhere). One flush per table keeps a few hundred people fast."""
    if await session.scalar(sa.select(sa.func.count(Questionnaire.id))) == 0:
        await seed_defaults(session)
    questionnaire = await session.scalar(sa.select(Questionnaire.id).limit(1))
    assert questionnaire is not None
    for spec in texts:
        row = OpenText(
            channel=Channel(spec.channel),
            source_ref=f"test:{uuid.uuid4()}",
            unit_id=units[spec.unit],
            respondent_key=spec.person,
            received_at=spec.at,
            language=spec.language,
            wave_days=spec.wave,
            closure_reason=spec.reason,
            text_redacted="Text.",
            status=ThemingStatus.THEMED,
            sentiment=spec.sentiment,
        )
        row.themes = [OpenTextTheme(theme_key=k) for k in spec.themes]
        session.add(row)
    await session.flush()
    for spec in closures:
        unit = units[spec.unit]
        client = Client(unit_id=unit, client_ref=uuid.uuid4().hex[:10], language=spec.language)
        session.add(client)
        await session.flush()
        returned = (
            None
            if spec.returned_after_days is None
            else spec.closed_on + timedelta(days=spec.returned_after_days)
        )
        closure = Closure(
            client_id=client.id,
            unit_id=unit,
            closed_on=spec.closed_on,
            reason=spec.reason,
            returned_on=returned,
        )
        session.add(closure)
        await session.flush()
        for f in spec.follow_ups:
            day = due_on(spec, f.wave)
            follow_up = FollowUp(
                closure_id=closure.id,
                client_id=client.id,
                unit_id=unit,
                wave_days=f.wave,
                channel="sms",
                questionnaire_key="default",
                due_on=day,
                window_end=day,
                status=FollowUpStatus.SKIPPED if f.contact == "none" else FollowUpStatus.DONE,
            )
            session.add(follow_up)
            await session.flush()
            if f.contact == "sms":
                session.add(
                    Conversation(
                        follow_up_id=follow_up.id,
                        closure_id=closure.id,
                        unit_id=unit,
                        questionnaire_id=questionnaire,
                        wave_days=f.wave,
                        is_open=False,
                        disposition=f.result,
                    )
                )
            elif f.contact == "phone":
                session.add(
                    CallTask(
                        follow_up_id=follow_up.id,
                        closure_id=closure.id,
                        client_id=client.id,
                        unit_id=unit,
                        questionnaire_key="default",
                        wave_days=f.wave,
                        reason="plan",
                        status=CallStatus.DONE,
                        attempts=1,
                        due_at=answered_at(day, 0),
                        last_outcome=f.result,
                    )
                )
            for question, value in f.answers:
                session.add(
                    Answer(
                        follow_up_id=follow_up.id,
                        closure_id=closure.id,
                        unit_id=unit,
                        questionnaire_id=questionnaire,
                        question_key=question,
                        mode=AnswerMode(f.contact),
                        wave_days=f.wave,
                        is_positive=None if value == "dk" else value == "pos",
                        dont_know=value == "dk",
                        answered_at=answered_at(day, f.answered_after_days),
                    )
                )
            await session.flush()
    await session.commit()


# ---------------------------------------------------------------- reading raw rows back
async def fetch_texts(session: AsyncSession) -> list[TextRaw]:
    """Open texts with their themes: two plain selects, joined in Python."""
    themes: dict[str, list[tuple[str, str | None]]] = {}
    for text_id, key, sentiment in await session.execute(
        sa.select(OpenTextTheme.open_text_id, OpenTextTheme.theme_key, OpenTextTheme.sentiment)
    ):
        themes.setdefault(_sid(text_id), []).append((key, sentiment))
    out = []
    for row in (await session.execute(sa.select(OpenText))).scalars():
        at = row.received_at if row.received_at.tzinfo else row.received_at.replace(tzinfo=UTC)
        out.append(
            TextRaw(
                person=row.respondent_key,
                unit=_sid(row.unit_id),
                at=at,
                channel=str(row.channel),
                reason=row.closure_reason,
                language=row.language,
                wave=row.wave_days,
                themes=tuple(sorted(themes.get(_sid(row.id), []))),
                sentiment=row.sentiment,
            )
        )
    return out


async def fetch_closures(session: AsyncSession) -> list[ClosureRaw]:
    """Closures with their client's language, answers, contacts and follow-ups: plain selects."""
    language = {
        _sid(i): str(lang) for i, lang in await session.execute(sa.select(Client.id, Client.language))
    }
    answers: dict[str, list[AnswerRaw]] = {}
    for a in (await session.execute(sa.select(Answer))).scalars():
        at = a.answered_at if a.answered_at.tzinfo else a.answered_at.replace(tzinfo=UTC)
        answers.setdefault(_sid(a.closure_id), []).append(
            AnswerRaw(a.question_key, str(a.mode), a.wave_days, a.is_positive, a.dont_know, at, _sid(a.id))
        )
    conversations: dict[str, list[int]] = {}
    dispositions: dict[str, str | None] = {}
    for c in (await session.execute(sa.select(Conversation))).scalars():
        conversations.setdefault(_sid(c.closure_id), []).append(c.wave_days)
        dispositions[_sid(c.follow_up_id)] = None if c.disposition is None else str(c.disposition)
    calls: dict[str, list[int]] = {}
    outcomes: dict[str, str | None] = {}
    for t in (await session.execute(sa.select(CallTask))).scalars():
        if t.attempts > 0:
            calls.setdefault(_sid(t.closure_id), []).append(t.wave_days)
        outcomes[_sid(t.follow_up_id)] = None if t.last_outcome is None else str(t.last_outcome)
    follow_ups: dict[str, list[FollowUpRaw]] = {}
    for f in (await session.execute(sa.select(FollowUp))).scalars():
        fid = _sid(f.id)
        follow_ups.setdefault(_sid(f.closure_id), []).append(
            FollowUpRaw(f.wave_days, f.due_on, str(f.status), dispositions.get(fid), outcomes.get(fid))
        )
    out = []
    for c in (await session.execute(sa.select(Closure))).scalars():
        cid = _sid(c.id)
        out.append(
            ClosureRaw(
                id=cid,
                unit=_sid(c.unit_id),
                reason=str(c.reason),
                language=language[_sid(c.client_id)],
                closed_on=c.closed_on,
                returned_on=c.returned_on,
                answers=tuple(answers.get(cid, ())),
                conversation_waves=tuple(conversations.get(cid, ())),
                call_waves=tuple(calls.get(cid, ())),
                follow_ups=tuple(follow_ups.get(cid, ())),
            )
        )
    return out


def closure_from_spec(spec: ClosureSpec, unit: str, cid: str) -> ClosureRaw:
    """The raw rows a spec would be stored as (the oracle's hypothetical people)."""
    answers = []
    for f in spec.follow_ups:
        for i, (question, value) in enumerate(f.answers):
            answers.append(
                AnswerRaw(
                    question,
                    f.contact,
                    f.wave,
                    None if value == "dk" else value == "pos",
                    value == "dk",
                    answered_at(due_on(spec, f.wave), f.answered_after_days),
                    f"{cid}-{f.wave}-{i}",
                )
            )
    returned = (
        None
        if spec.returned_after_days is None
        else spec.closed_on + timedelta(days=spec.returned_after_days)
    )
    return ClosureRaw(
        id=cid,
        unit=unit,
        reason=spec.reason,
        language=spec.language,
        closed_on=spec.closed_on,
        returned_on=returned,
        answers=tuple(answers),
        conversation_waves=tuple(f.wave for f in spec.follow_ups if f.contact == "sms"),
        call_waves=tuple(f.wave for f in spec.follow_ups if f.contact == "phone"),
        follow_ups=tuple(
            FollowUpRaw(
                f.wave,
                due_on(spec, f.wave),
                "skipped" if f.contact == "none" else "done",
                f.result if f.contact == "sms" else None,
                f.result if f.contact == "phone" else None,
            )
            for f in spec.follow_ups
        ),
    )


def text_from_spec(spec: TextSpec, unit: str) -> TextRaw:
    return TextRaw(
        spec.person,
        unit,
        spec.at,
        spec.channel,
        spec.reason,
        spec.language,
        spec.wave,
        tuple(sorted((k, None) for k in spec.themes)),
        spec.sentiment,
    )


# ---------------------------------------------------------------- the naive recount
def period_of(at: datetime, granularity: str) -> str:
    """The report's period code of an instant: local (Stockholm) month or quarter."""
    local = at.astimezone(STOCKHOLM)
    if granularity == "quarter":
        return str(local.year * 10 + (local.month + 2) // 3)
    return str(local.year * 100 + local.month)


def text_cells(view: View, texts: Iterable[TextRaw]) -> set[Cell]:
    """The cells of the theme block one person (all their texts) is counted in."""
    f = view.filters
    start = datetime.combine(f.date_from, time(0), STOCKHOLM)
    end = datetime.combine(f.date_to + timedelta(days=1), time(0), STOCKHOLM)
    cells: set[Cell] = set()
    for t in texts:
        if t.unit not in view.units or not start <= t.at < end:
            continue
        if f.channel is not None and t.channel != f.channel:
            continue
        if f.closure_reason is not None and t.reason != f.closure_reason:
            continue
        if f.wave_days is not None and t.wave != f.wave_days:
            continue
        if f.language is not None and t.language != f.language:
            continue
        period = period_of(t.at, f.granularity)
        cells |= {("total",), ("trend", period), ("unit", t.unit)}
        rows = [(k, s if s is not None else t.sentiment) for k, s in t.themes] or [(None, t.sentiment)]
        for key, sentiment in rows:
            s = SENTIMENT_OF.get(sentiment)
            if s is not None:
                cells.add(("sent", s))
            if key is None:
                continue
            cells |= {("theme", key), ("theme_trend", key, period)}
            if s is not None:
                cells.add(("theme_sent", key, s))
    return cells


def closure_cells(view: View, c: ClosureRaw) -> set[Cell]:
    """The cells of the survey sections one closure (one person) is counted in."""
    f = view.filters
    if f.channel == "panel" or c.unit not in view.units:
        return set()
    if f.closure_reason is not None and c.reason != f.closure_reason:
        return set()
    if f.language is not None and c.language != f.language:
        return set()
    cells: set[Cell] = set()
    wave_ok = lambda w: f.wave_days is None or w == f.wave_days  # noqa: E731
    # cohort: closed in the period; svarade / svarade inte / ej tillfrågade, from answers and
    # contacts in any wave and channel (the wave and channel filters do not apply to the cohort)
    if f.date_from <= c.closed_on <= f.date_to:
        answered = bool(c.answers)
        contacted = bool(c.conversation_waves) or bool(c.call_waves)
        status = "resp" if answered else "non" if contacted else "never"
        labels = {
            "T": "",
            "unit": view.unit_names[c.unit],
            "reason": REASON_LABELS_SV.get(c.reason, c.reason),  # type: ignore[call-overload]
            "language": LANGUAGE_LABELS_SV.get(c.language, c.language),  # type: ignore[call-overload]
        }
        for dim, label in labels.items():
            cells |= {("cohort", dim, label, status), ("cohort", dim, label, "all")}
            if status != "never":
                cells.add(("cohort", dim, label, "asked"))
    # sustained self-sufficiency: work or studies (or the chosen reason) at each horizon in the period
    if (f.closure_reason is not None or c.reason in FOLLOWED) and (
        f.date_from - timedelta(days=365) <= c.closed_on <= f.date_to
    ):
        last = min(f.date_to, view.today)
        for months, days in HORIZONS:
            horizon = c.closed_on + timedelta(days=days)
            if f.date_from <= horizon <= last:
                kept = c.returned_on is None or c.returned_on > horizon
                cells |= {("sus", months, "base"), ("sus", months, "kept" if kept else "returned")}
    # SKR: the latest answer per question in the period, positive share of positive + negative
    start = datetime.combine(f.date_from, time(0), STOCKHOLM)
    end = datetime.combine(f.date_to + timedelta(days=1), time(0), STOCKHOLM)
    latest: dict[str, AnswerRaw] = {}
    for a in c.answers:
        if not start <= a.at < end or not wave_ok(a.wave):
            continue
        if f.channel is not None and a.mode != f.channel:
            continue
        if a.is_positive is None and not a.dont_know:
            continue
        if a.question not in latest or (a.at, a.id) > (latest[a.question].at, latest[a.question].id):
            latest[a.question] = a
    for question, a in latest.items():
        if a.dont_know:
            cells.add(("skr", question, "dk"))
        else:
            cells.add(("skr", question, "base"))
            if a.is_positive:
                cells.add(("skr", question, "pos"))
    return cells


def follow_up_cells(view: View, c: ClosureRaw) -> list[set[Cell]]:
    """Per follow-up of the closure, the cells of the wave table it is counted in (a follow-up is
    the wave table's unit of counting)."""
    f = view.filters
    if f.channel == "panel" or c.unit not in view.units:
        return []
    if f.closure_reason is not None and c.reason != f.closure_reason:
        return []
    if f.language is not None and c.language != f.language:
        return []
    out = []
    for fu in c.follow_ups:
        if not f.date_from <= fu.due_on <= f.date_to or fu.status not in ("done", "skipped", "started"):
            continue
        if f.wave_days is not None and fu.wave != f.wave_days:
            continue
        if fu.call_outcome in CALL_TO_DISPOSITION:
            bucket = CALL_TO_DISPOSITION[fu.call_outcome]
        elif fu.disposition is not None:
            bucket = fu.disposition
        elif fu.status == "skipped":
            bucket = "skipped"
        else:
            continue
        out.append(
            {
                ("wave", fu.wave, bucket),
                ("wave", fu.wave, "total"),
                ("wave", "T", bucket),
                ("wave", "T", "total"),
            }
        )
    return out


def people(view: View, texts: list[TextRaw], closures: list[ClosureRaw]) -> list[set[Cell]]:
    """Every counted unit (writer, closure, follow-up) with the set of cells it is counted in."""
    by_person: dict[str, list[TextRaw]] = {}
    for t in texts:
        by_person.setdefault(t.person, []).append(t)
    out = [text_cells(view, ts) for ts in by_person.values()]
    for c in closures:
        out.append(closure_cells(view, c))
        out.extend(follow_up_cells(view, c))
    return [cells for cells in out if cells]


def recount(view: View, texts: list[TextRaw], closures: list[ClosureRaw]) -> dict[Cell, int]:
    counts: dict[Cell, int] = {}
    for cells in people(view, texts, closures):
        for cell in cells:
            counts[cell] = counts.get(cell, 0) + 1
    return counts


# ---------------------------------------------------------------- what the report published
@dataclass
class Published:
    """Every published number by cell key: its value (None = hidden) and, if hidden, why.

    ``ranges`` are published share ranges turned into bounds on a count ("minst 95 %" of a
    shown base bounds the hidden part); ``derived`` are shown numbers that are functions of
    others (shares, rates) and are checked against the cells, not used as constraints.
    ``whole`` names the sections hidden as a whole (a table of fewer than five people): only
    their total is said to be small; their rows are not listed and their other cells say
    nothing (reason ``table``)."""

    cells: dict[Cell, int | None] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)
    why: dict[Cell, str] = field(default_factory=dict)
    ranges: dict[Cell, tuple[float, float]] = field(default_factory=dict)
    derived: list[tuple[str, float, Cell, Cell]] = field(default_factory=list)

    def put(self, cell: Cell, value: int | None, why: str | None) -> None:
        assert cell not in self.cells, f"two numbers for {cell}"
        self.cells[cell] = value
        if value is None:
            assert why in ("small", "complement", "table"), f"{cell} hidden without a reason ({why!r})"
            self.why[cell] = why
        else:
            assert why is None, f"{cell} shown ({value}) but has a hidden reason {why!r}"


def published(report: ThemeReport) -> Published:
    d = report.to_dict()
    out = Published()
    hidden = d["hidden"]
    if d["themes_hidden_whole"]:  # no theme listed; every number but the total says "table"
        out.whole |= {"total", "trend", "sent", "unit", "theme", "theme_sent", "theme_trend"}
        assert not d["themes"], "a theme block hidden as a whole lists no themes"
        assert hidden.get("respondents") in (None, "small")
    out.put(("total",), d["respondents"], hidden.get("respondents"))
    for p, v in d["trend_totals"].items():
        out.put(("trend", p), v, hidden.get(f"trend.{p}"))
    for s, v in d["sentiment_totals"].items():
        out.put(("sent", s), v, hidden.get(f"sentiment.{s}"))
    for u in d["unit_respondents"]:
        out.put(("unit", u["unit_id"]), u["respondents"], u["hidden"].get("respondents"))
    stack = list(d["themes"])
    while stack:
        t = stack.pop()
        stack.extend(t["sub_themes"])
        k = t["key"]
        out.put(("theme", k), t["respondents"], t["hidden"].get("respondents"))
        for s, v in t["sentiment"].items():
            out.put(("theme_sent", k, s), v, t["hidden"].get(f"sentiment.{s}"))
        for p, v in t["trend"].items():
            out.put(("theme_trend", k, p), v, t["hidden"].get(f"trend.{p}"))
        if t["share"] is not None:
            out.derived.append(("theme share", t["share"], ("theme", k), ("total",)))
    cohort = d["cohort"]
    cols = {
        "cohort": "all",
        "asked": "asked",
        "respondents": "resp",
        "non_respondents": "non",
        "never_asked": "never",
    }

    def cohort_row(dim: str, label: str, row: dict[str, Any]) -> None:
        for name, col in cols.items():
            out.put(("cohort", dim, label, col), row[name], row["hidden"].get(name))
        resp, asked = ("cohort", dim, label, "resp"), ("cohort", dim, label, "asked")
        if row["response_rate"] is not None:
            out.derived.append(("response rate", row["response_rate"], resp, asked))
        if row["response_rate_range"] is not None:
            out.ranges[resp] = _count_range(row["response_rate_range"], row["asked"])

    if cohort.get("too_small"):
        out.whole.add("cohort")
        assert not cohort["breakdowns"], "a cohort hidden as a whole lists no rows"
        shown = cohort["total"]["cohort"]
        assert shown is None or shown >= 5, "its total is shown, or said to be small"
        assert shown is not None or cohort["total"]["hidden"]["cohort"] == "small"
        assert all(cohort["total"]["hidden"][k] == "table" for k in cols if k != "cohort")
    if cohort.get("total"):
        cohort_row("T", "", cohort["total"])
    for b in cohort.get("breakdowns", []):
        for row in b["rows"]:
            cohort_row(b["key"], row["label"], row)
    for row in d["sustained"]:
        m = row["months"]
        out.put(("sus", m, "base"), row["base"], row["hidden"].get("base"))
        out.put(("sus", m, "kept"), row["sustained"], row["hidden"].get("sustained"))
        out.put(("sus", m, "returned"), row["returned"], row["hidden"].get("returned"))
        if row["share"] is not None:
            out.derived.append(("sustained share", row["share"], ("sus", m, "kept"), ("sus", m, "base")))
        if row["share_range"] is not None:
            out.ranges[("sus", m, "kept")] = _count_range(row["share_range"], row["base"])
    for row in d["skr"]:
        q = row["question_key"]
        out.put(("skr", q, "pos"), row["positive"], row["hidden"].get("positive"))
        out.put(("skr", q, "base"), row["base"], row["hidden"].get("base"))
        out.put(("skr", q, "dk"), row["dont_know"], row["hidden"].get("dont_know"))
        if row["share"] is not None:
            out.derived.append(("SKR share", row["share"], ("skr", q, "pos"), ("skr", q, "base")))
        if row["share_range"] is not None:
            out.ranges[("skr", q, "pos")] = _count_range(row["share_range"], row["base"])
    waves = d["waves"]
    for row in waves.get("rows", []):
        w = row["wave"]
        for col, v in row["cells"].items():
            out.put(("wave", w, col), v, row["hidden"].get(col))
        out.put(("wave", w, "total"), row["total"], row["hidden"].get("total"))
    if waves.get("too_small"):  # hidden as a whole: no rows, the totals say "table"
        out.whole.add("wave")
        assert not waves["rows"]
    if waves.get("rows") or waves.get("too_small"):
        for col, v in waves["totals"].items():
            out.put(("wave", "T", col), v, waves["totals_hidden"].get(col))
        out.put(("wave", "T", "total"), waves["grand_total"], waves["totals_hidden"].get("total"))
    return out


def _count_range(share: Iterable[float], base: int | None) -> tuple[float, float]:
    lo, hi = share
    assert base is not None, "a share range needs a shown base"
    return (lo * base, hi * base)


def check_against_recount(pub: Published, truth: Mapping[Cell, int], context: object = "") -> None:
    """Every published number equals the recount; every person counted somewhere is published.

    A hidden number must carry the right reason: ``small`` exactly for 1..4, ``complement``
    otherwise (never "färre än 5" about 0 or ≥ 5 people).
    """
    for cell, value in pub.cells.items():
        true = truth.get(cell, 0)
        if value is None:
            expected = "small" if 0 < true < 5 else "complement"
            if pub.why[cell] == "table":  # part of a table hidden whole: says nothing of this cell
                assert cell[0] in pub.whole, (context, cell, "table reason outside a hidden table")
                continue
            assert pub.why[cell] == expected, (context, cell, true, pub.why[cell])
        else:
            assert value == true, (context, cell, "published", value, "recount", true)
    for cell, true in truth.items():
        if cell[0] == "skr" and cell[2] == "neg":
            continue
        if cell[0] in pub.whole:  # a table hidden as a whole lists no rows
            continue
        assert cell in pub.cells, (context, "counted but not published", cell, true)
    for cell, (lo, hi) in pub.ranges.items():
        assert lo - 1e-9 <= truth.get(cell, 0) <= hi + 1e-9, (context, "range", cell, lo, hi, truth.get(cell))
    for name, value, part, whole in pub.derived:
        assert abs(value - truth.get(part, 0) / truth[whole]) < 1e-9, (context, name, part, value)
