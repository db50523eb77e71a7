"""The theme report: one function builds every number a manager sees, already suppressed.

``build_theme_report(session, filters, scope)`` is the single entry point for the page, the CSV
and PDF exports and review snapshots (``ThemeReport.to_dict()`` is JSON-serialisable), so a number
can never be suppressed on screen and visible in a file.

Why all theme numbers are protected together: the theme totals, their sentiment split and their
trend share totals. If the complement of a hidden cell were hidden in one table and shown in
another, the hidden cell could be worked out across tables; one ``protect`` call over every line
of the theme block prevents that.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Unit
from feedback.errors import Forbidden
from feedback.reports import survey_sections
from feedback.reports.filters import ReportFilters
from feedback.reports.suppression import MIN_PEOPLE, Line, merge_suggestions, protect
from feedback.themes.models import OpenText, OpenTextTheme

SENTIMENTS = ("pos", "neu", "neg", "none")
SENTIMENT_LABELS_SV = {"pos": "Positiv", "neu": "Neutral", "neg": "Negativ", "none": "Ej bedömd"}
QUOTES_PER_THEME = 3
SUB_SEPARATOR = "."  # "bemotande.lyssnad" is a sub-theme of "bemotande"


@dataclass
class ThemeRow:
    key: str
    label: str
    respondents: int | None
    share: float | None
    sentiment: dict[str, int | None]
    trend: dict[str, int | None]
    quotes: list[str] = field(default_factory=list)
    sub_themes: list[ThemeRow] = field(default_factory=list)
    parent: str | None = None


@dataclass
class ThemeReport:
    """Everything on the report page, suppressed (``None`` = "färre än 5")."""

    filters: dict[str, Any]
    units: list[dict[str, str]]
    generated_at: str
    respondents: int | None
    periods: list[dict[str, str]]
    trend_totals: dict[str, int | None]
    sentiment_totals: dict[str, int | None]
    themes: list[ThemeRow]
    skr: list[dict[str, Any]]
    waves: dict[str, Any]
    cohort: dict[str, Any]
    sustained: list[dict[str, Any]]
    unit_respondents: list[dict[str, Any]]
    merge_suggestions: list[dict[str, Any]]
    min_people: int = MIN_PEOPLE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---------------------------------------------------------------- scope and theme labels
def resolve_units(filters: ReportFilters, scope: frozenset[uuid.UUID] | None) -> list[uuid.UUID] | None:
    """The units to report on; ``scope`` None means every unit (admin). Outside scope → 403."""
    if filters.unit_ids:
        if scope is not None and not set(filters.unit_ids) <= scope:
            raise Forbidden("Du har inte behörighet till den enheten.")
        return list(filters.unit_ids)
    return None if scope is None else sorted(scope)


async def current_theme_labels(session: AsyncSession) -> tuple[dict[str, str], dict[str, str]]:
    """``theme_labels`` of the current codebook: the shipped seeds plus the managers' decisions."""
    from feedback.themes.decisions import current_codebook

    return theme_labels(await current_codebook(session))


def theme_labels(codebook: Any = None) -> tuple[dict[str, str], dict[str, str]]:
    """Labels and merge redirects from the codebook (merged keys count under their target)."""
    from nlp.codebook import load_codebook

    codebook = codebook or load_codebook()
    labels = {key: theme.label_sv for key, theme in codebook.themes.items()}
    redirects: dict[str, str] = {}
    for key, theme in codebook.themes.items():
        if not theme.active:
            target = codebook.resolve(key)
            if len(target) == 1:
                redirects[key] = target[0]
    return labels, redirects


def open_text_conditions(filters: ReportFilters, units: list[uuid.UUID] | None) -> list[Any]:
    conds: list[Any] = [OpenText.received_at >= filters.start_utc, OpenText.received_at < filters.end_utc]
    if units is not None:
        conds.append(OpenText.unit_id.in_(units))
    if filters.channel:
        conds.append(OpenText.channel == filters.channel)
    if filters.closure_reason:
        conds.append(OpenText.closure_reason == filters.closure_reason)
    if filters.wave_days is not None:
        conds.append(OpenText.wave_days == filters.wave_days)
    if filters.language:
        conds.append(OpenText.language == filters.language)
    return conds


def period_expr(session: AsyncSession, granularity: str) -> Any:
    """yyyymm or yyyyq as an integer, in Stockholm time on PostgreSQL (UTC on SQLite)."""
    column: Any = OpenText.received_at
    if session.bind.dialect.name == "postgresql":
        column = sa.func.timezone("Europe/Stockholm", column)
    year = sa.cast(sa.extract("year", column), sa.Integer)
    month = sa.cast(sa.extract("month", column), sa.Integer)
    if granularity == "quarter":
        return year * 10 + (month + 2) / 3
    return year * 100 + month


def period_label(code: int, granularity: str) -> str:
    if granularity == "quarter":
        return f"{code // 10} kv{code % 10}"
    return f"{code // 100}-{code % 100:02d}"


def all_periods(filters: ReportFilters) -> list[int]:
    out: list[int] = []
    year, month = filters.date_from.year, filters.date_from.month
    while (year, month) <= (filters.date_to.year, filters.date_to.month):
        code = year * 10 + (month + 2) // 3 if filters.granularity == "quarter" else year * 100 + month
        if code not in out:
            out.append(code)
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


# ---------------------------------------------------------------- theme counts
def _person(session: AsyncSession) -> Any:
    """The respondent key, compared bytewise on PostgreSQL (locale collation makes DISTINCT slow)."""
    if session.bind.dialect.name == "postgresql":
        return OpenText.respondent_key.collate("C")
    return OpenText.respondent_key


async def _theme_counts(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID] | None, redirects: dict[str, str]
) -> dict[tuple[str, ...], int]:
    """Distinct respondents by (theme), (theme, period), (theme, sentiment), (period), (sentiment), ().

    PostgreSQL answers all of them in one scan with GROUPING SETS; SQLite runs one query each.
    """
    theme: Any = OpenTextTheme.theme_key
    if redirects:
        theme = sa.case(redirects, value=OpenTextTheme.theme_key, else_=OpenTextTheme.theme_key)
    theme = theme.label("theme")
    period = period_expr(session, filters.granularity).label("period")
    sentiment = sa.func.coalesce(OpenTextTheme.sentiment, OpenText.sentiment, "none").label("sentiment")
    people = sa.func.count(sa.distinct(_person(session))).label("people")
    source = sa.outerjoin(OpenText, OpenTextTheme, OpenTextTheme.open_text_id == OpenText.id)
    where = open_text_conditions(filters, units)
    sets = {
        "t": (theme,),
        "tp": (theme, period),
        "ts": (theme, sentiment),
        "p": (period,),
        "s": (sentiment,),
        "": (),
    }
    counts: dict[tuple[str, ...], int] = {}
    # Totals count everyone who wrote something; theme cells only themed rows.
    if session.bind.dialect.name == "postgresql":
        grouping = sa.func.grouping(theme, period, sentiment).label("g")
        query = (
            sa.select(theme, period, sentiment, grouping, people)
            .select_from(source)
            .where(*where)
            .group_by(
                sa.func.grouping_sets(
                    sa.tuple_(theme),
                    sa.tuple_(theme, period),
                    sa.tuple_(theme, sentiment),
                    sa.tuple_(period),
                    sa.tuple_(sentiment),
                    sa.text("()"),
                )
            )
        )
        # grouping() bit is 1 where a column is NOT grouped: theme=4, period=2, sentiment=1.
        names = {3: "t", 1: "tp", 2: "ts", 6: "s", 5: "p", 7: ""}
        for row in await session.execute(query):
            name = names[row.g]
            key = _key(name, row.theme, row.period, row.sentiment)
            if key is not None:
                counts[key] = int(row.people)
        return counts
    for name, cols in sets.items():
        query = sa.select(*cols, people).select_from(source).where(*where)
        if cols:
            query = query.group_by(*cols)
        for row in await session.execute(query):
            values = row._mapping
            key = _key(name, values.get("theme"), values.get("period"), values.get("sentiment"))
            if key is not None:
                counts[key] = int(values["people"])
    return counts


def _key(name: str, theme: str | None, period: Any, sentiment: str | None) -> tuple[str, ...] | None:
    if "t" in name and theme is None:
        return None  # open text not themed yet: counted in the totals only
    parts: list[str] = [name]
    if "t" in name:
        parts.append(str(theme))
    if "p" in name:
        parts.append(str(int(period)))
    if "s" in name:
        parts.append(str(sentiment))
    return tuple(parts)


async def _quotes(
    session: AsyncSession,
    filters: ReportFilters,
    units: list[uuid.UUID] | None,
    keys: Iterable[str],
    redirects: dict[str, str],
) -> dict[str, list[str]]:
    """Newest redacted texts whose writer agreed to quoting, a few per theme, one per person."""
    wanted = list(keys)
    if not wanted:
        return {}
    raw_keys = wanted + [old for old, new in redirects.items() if new in wanted]
    query = (
        sa.select(OpenTextTheme.theme_key, OpenText.text_redacted, OpenText.respondent_key)
        .join(OpenText, OpenTextTheme.open_text_id == OpenText.id)
        .where(*open_text_conditions(filters, units), OpenText.quote_consent.is_(True))
        .where(OpenTextTheme.theme_key.in_(raw_keys))
        .order_by(OpenText.received_at.desc())
        .limit(50 * len(wanted))
    )
    out: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for key, text, person in await session.execute(query):
        key = redirects.get(key, key)
        if len(out.setdefault(key, [])) >= QUOTES_PER_THEME or (key, person) in seen or not text.strip():
            continue
        seen.add((key, person))
        out[key].append(text)
    return out


# ---------------------------------------------------------------- the report
async def build_theme_report(
    session: AsyncSession,
    filters: ReportFilters,
    scope: frozenset[uuid.UUID] | None,
    *,
    now: datetime | None = None,
) -> ThemeReport:
    """Every section of the theme report for ``filters`` within ``scope`` (None = all units)."""
    now = now or datetime.now(UTC)
    units = resolve_units(filters, scope)
    labels, redirects = await current_theme_labels(session)
    counts = await _theme_counts(session, filters, units, redirects)
    periods = all_periods(filters)
    theme_keys = sorted({k[1] for k in counts if k[0] == "t"}, key=lambda k: (-counts[("t", k)], k))

    values: dict[tuple[str, ...], int] = {("",): counts.get(("",), 0)}
    lines: list[Line[tuple[str, ...]]] = []
    top = [k for k in theme_keys if SUB_SEPARATOR not in k]
    for k in theme_keys:
        values[("t", k)] = counts[("t", k)]
        values.update({("ts", k, s): counts.get(("ts", k, s), 0) for s in SENTIMENTS})
        values.update({("tp", k, str(p)): counts.get(("tp", k, str(p)), 0) for p in periods})
        lines.append(Line(tuple(("ts", k, s) for s in SENTIMENTS), ("t", k)))
        lines.append(Line(tuple(("tp", k, str(p)) for p in periods), ("t", k)))
    values.update({("s", s): counts.get(("s", s), 0) for s in SENTIMENTS})
    values.update({("p", str(p)): counts.get(("p", str(p)), 0) for p in periods})
    lines.append(Line(tuple(("t", k) for k in top), ("",)))
    for parent in top:
        subs = [k for k in theme_keys if k.startswith(parent + SUB_SEPARATOR)]
        if subs:
            lines.append(Line(tuple(("t", k) for k in subs), ("t", parent)))
    lines.append(Line(tuple(("s", s) for s in SENTIMENTS), ("",)))
    lines.append(Line(tuple(("p", str(p)) for p in periods), ("",)))
    for s in SENTIMENTS:
        lines.append(Line(tuple(("ts", k, s) for k in top), ("s", s)))
    for p in periods:
        lines.append(Line(tuple(("tp", k, str(p)) for k in top), ("p", str(p))))
    hidden = protect(values, lines)

    def shown(key: tuple[str, ...]) -> int | None:
        return None if key in hidden else values.get(key, 0)

    total = shown(("",))
    visible_keys = [k for k in theme_keys if shown(("t", k)) is not None and values[("t", k)] >= MIN_PEOPLE]
    quotes = await _quotes(session, filters, units, visible_keys, redirects)
    rows: dict[str, ThemeRow] = {}
    for k in theme_keys:
        people = shown(("t", k))
        rows[k] = ThemeRow(
            key=k,
            label=labels.get(k, k.replace("_", " ").capitalize()),
            respondents=people,
            share=(people / total) if people is not None and total else None,
            sentiment={s: shown(("ts", k, s)) for s in SENTIMENTS},
            trend={str(p): shown(("tp", k, str(p))) for p in periods},
            quotes=quotes.get(k, []),
            parent=k.split(SUB_SEPARATOR)[0] if SUB_SEPARATOR in k else None,
        )
    for row in rows.values():
        if row.parent and row.parent in rows:
            rows[row.parent].sub_themes.append(row)
    unit_rows = await _unit_names(session, units)
    unit_people = await _respondents_by_unit(session, filters, list(unit_rows))
    sections = await survey_sections.build(session, filters, units, now=now)
    return ThemeReport(
        filters=filters.to_dict(),
        units=[{"id": str(u), "name": n} for u, n in unit_rows.items()],
        generated_at=now.isoformat(timespec="seconds"),
        respondents=total,
        periods=[{"code": str(p), "label": period_label(p, filters.granularity)} for p in periods],
        trend_totals={str(p): shown(("p", str(p))) for p in periods},
        sentiment_totals={s: shown(("s", s)) for s in SENTIMENTS},
        themes=[rows[k] for k in theme_keys if rows[k].parent is None or rows[k].parent not in rows],
        skr=sections["skr"],
        waves=sections["waves"],
        cohort=sections["cohort"],
        sustained=sections["sustained"],
        unit_respondents=[
            {"unit_id": str(u), "name": unit_rows[u], "small": 0 < n < MIN_PEOPLE}
            for u, n in unit_people.items()
        ],
        merge_suggestions=[
            {
                "unit_ids": [str(u) for u in s.units],
                "names": [unit_rows[u] for u in s.units],
                "enough": s.people >= MIN_PEOPLE,
            }
            for s in merge_suggestions(unit_people)
        ],
    )


async def _unit_names(session: AsyncSession, units: list[uuid.UUID] | None) -> dict[uuid.UUID, str]:
    query = sa.select(Unit.id, Unit.name).order_by(Unit.name)
    if units is not None:
        query = query.where(Unit.id.in_(units))
    return {u: n for u, n in await session.execute(query)}


async def _respondents_by_unit(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """People per unit, only to decide which units need merging (never shown as numbers)."""
    query = (
        sa.select(OpenText.unit_id, sa.func.count(sa.distinct(OpenText.respondent_key)))
        .where(*open_text_conditions(filters, units))
        .group_by(OpenText.unit_id)
    )
    found = {u: int(n) for u, n in await session.execute(query)}
    return {u: found.get(u, 0) for u in units}
