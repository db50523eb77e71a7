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

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Unit
from feedback.core.clock import STOCKHOLM
from feedback.core.db import dialect_name
from feedback.core.errors import Forbidden
from feedback.reports import survey_sections
from feedback.reports.definitions import TABLE_BASES, definitions
from feedback.reports.filters import ReportFilters
from feedback.reports.suppression import (
    MIN_PEOPLE,
    SMALL,
    TABLE,
    Line,
    merge_suggestions,
    protect_table,
    reasons,
    tiny_table,
)
from feedback.themes.models import SENTIMENT_CODES, OpenTextTheme, ReportThemeFact, ReportThemeKey
from surveys.answers.models import OpenText

if TYPE_CHECKING:
    import numpy as np

SENTIMENTS = ("pos", "neu", "neg", "none")
SENTIMENT_LABELS_SV = {"pos": "Positiv", "neu": "Neutral", "neg": "Negativ", "none": "Ej bedömd"}
QUOTES_PER_THEME = 3
SUB_SEPARATOR = "."  # "bemotande.lyssnad" is a sub-theme of "bemotande"
SENTIMENT_KEYS = {code: key for key, code in SENTIMENT_CODES.items()}
REPORT_WORK_MEM = "64MB"
BITMAP_CELLS = 64_000_000  # bytes of one in-memory bitmap in distinct_counts


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
    # why a ``None`` above is hidden: "respondents", "sentiment.<key>", "trend.<period>" →
    # ``small`` (1–4 people) or ``complement`` (hidden only so a small cell cannot be worked out)
    hidden: dict[str, str] = field(default_factory=dict)


@dataclass
class ThemeReport:
    """Everything on the report page, suppressed.

    A hidden number is ``None`` and its reason code (``small`` or ``complement``) is in the
    ``hidden`` map beside it (this object's ``hidden`` for its own totals, a theme row's or a
    section row's ``hidden`` for theirs), so the page, CSV, PDF and JSON all say why.
    """

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
    # units added to the selection so that no too-small unit can be worked out by difference
    merged_units: list[dict[str, Any]] = field(default_factory=list)
    # reasons for this object's own hidden totals: "respondents", "sentiment.<key>", "trend.<period>"
    hidden: dict[str, str] = field(default_factory=dict)
    # the theme block (themes, trend, sentiments, units) is hidden as a whole: too few people,
    # or groups so small that per-cell labels would reveal them; only the total is shown
    themes_hidden_whole: bool = False
    # which base each table counts (a code of ``definitions.DEFINITIONS_SV``) and the definitions
    bases: dict[str, str] = field(default_factory=lambda: dict(TABLE_BASES))
    definitions: list[dict[str, str]] = field(default_factory=definitions)

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
    """yyyymm or yyyyq as an integer, in Stockholm time on PostgreSQL (UTC on SQLite).

    Only for comparing with the stored ``report_theme_fact.period_month``; to select a period
    use ``period_bounds`` (local on every database)."""
    column: Any = OpenText.received_at
    if dialect_name(session) == "postgresql":
        column = sa.func.timezone("Europe/Stockholm", column)
    year = sa.cast(sa.extract("year", column), sa.Integer)
    month = sa.cast(sa.extract("month", column), sa.Integer)
    if granularity == "quarter":
        return year * 10 + (month + 2) // 3  # floor division: ``/`` would be numeric on PostgreSQL
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
def fact_conditions(filters: ReportFilters, units: list[uuid.UUID] | None) -> list[Any]:
    """``open_text_conditions`` on the report's compact copy (same columns, same meaning)."""
    conds: list[Any] = [
        ReportThemeFact.received_at >= filters.start_utc,
        ReportThemeFact.received_at < filters.end_utc,
    ]
    if units is not None:
        conds.append(ReportThemeFact.unit_id.in_(units))
    if filters.channel:
        conds.append(ReportThemeFact.channel == filters.channel)
    if filters.closure_reason:
        conds.append(ReportThemeFact.closure_reason == filters.closure_reason)
    if filters.wave_days is not None:
        conds.append(ReportThemeFact.wave_days == filters.wave_days)
    if filters.language:
        conds.append(ReportThemeFact.language == filters.language)
    return conds


def fact_period_code(month: int, granularity: str) -> int:
    """``fact_period`` in Python: yyyymm or yyyyq from a stored yyyymm."""
    if granularity == "quarter":
        return (month // 100) * 10 + (month % 100 + 2) // 3
    return month


def local_month(at: datetime) -> int:
    """yyyymm of an instant in Stockholm time (a naive value is UTC, as SQLite returns it)."""
    local = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(STOCKHOLM)
    return local.year * 100 + local.month


def period_bounds(code: int, granularity: str) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of a period code (yyyymm or yyyyq) in Stockholm time.

    Why bounds rather than comparing ``period_expr``: a range is the same local period on every
    database (SQLite has no time zones) and can use the ``received_at`` indexes.
    """
    if granularity == "quarter":
        year, first = code // 10, (code % 10 - 1) * 3 + 1
        months = 3
    else:
        year, first = code // 100, code % 100
        months = 1
    start = date(year, first, 1)
    index = year * 12 + first - 1 + months
    end = date(index // 12, index % 12 + 1, 1)
    return (
        datetime.combine(start, time(0), STOCKHOLM).astimezone(UTC),
        datetime.combine(end, time(0), STOCKHOLM).astimezone(UTC),
    )


def fact_period(granularity: str) -> Any:
    """yyyymm or yyyyq from the stored local month (the same codes as ``period_expr``)."""
    month = ReportThemeFact.period_month
    if granularity == "quarter":
        return (month // 100) * 10 + (month % 100 + 2) // 3
    return month


@contextlib.asynccontextmanager
async def _report_settings(session: AsyncSession) -> AsyncIterator[None]:
    """On PostgreSQL, sort the counts in memory and skip JIT compilation for one query.

    The counts sort about a million small rows; with the default 4 MB ``work_mem`` they spill to
    disk, and JIT compilation alone costs most of a second. Both settings are transaction-local
    and put back afterwards, so the rest of the caller's transaction is unaffected.
    """
    if dialect_name(session) != "postgresql":
        yield
        return
    old = (await session.execute(sa.text("SELECT current_setting('work_mem'), current_setting('jit')"))).one()
    set_local = sa.text("SELECT set_config('work_mem', :work_mem, true), set_config('jit', :jit, true)")
    await session.execute(set_local, {"work_mem": REPORT_WORK_MEM, "jit": "off"})
    try:
        yield
    finally:
        await session.execute(set_local, {"work_mem": old[0], "jit": old[1]})


async def _theme_counts(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID] | None, redirects: dict[str, str]
) -> dict[tuple[str, ...], int]:
    """Distinct respondents by (theme), (theme, period), (theme, sentiment), (period), (sentiment), (),
    and by unit (``("u", unit_id)``, only to decide which units are too small to show).

    Exact counts from ``report_theme_fact`` (see ``ReportThemeFact``). The database groups the
    matching rows by (unit, theme, period, sentiment) — a few thousand groups, each with its
    respondent numbers (PostgreSQL ``array_agg``; SQLite returns the rows) — and
    ``distinct_counts`` counts distinct respondents for every combination in memory. Why not
    ``count(DISTINCT …)`` with GROUPING SETS: PostgreSQL sorts every group's input for it, which
    took seconds on a year of answers; a hash aggregate plus a bitmap per group is a fraction.
    """
    import numpy as np  # on first use: keeps ~0.3 s off every process start

    names = {i: key for i, key in await session.execute(sa.select(ReportThemeKey.id, ReportThemeKey.key))}
    group = (
        ReportThemeFact.unit_id,
        ReportThemeFact.theme_id,
        fact_period(filters.granularity),
        ReportThemeFact.sentiment,
    )
    where = fact_conditions(filters, units)
    groups: list[tuple[Any, Any, Any, Any, Any]] = []
    if dialect_name(session) == "postgresql":
        # each group's respondents as packed big-endian int4: read without a Python int per row
        packed = sa.func.string_agg(
            sa.func.int4send(ReportThemeFact.respondent), sa.literal_column("''::bytea")
        )
        query = sa.select(*group, sa.type_coerce(packed, sa.LargeBinary)).where(*where).group_by(*group)
        async with _report_settings(session):
            result = await session.execute(query)
        groups = [(u, t, p, s, np.frombuffer(r, dtype=">i4")) for u, t, p, s, r in result]
    else:
        # SQLite has no time zones, so its stored ``period_month`` is a UTC month while the
        # period's bounds are local midnights: an answer at 00:30 on the 1st (local) would count
        # in the month's total but in the previous month's trend. This path reads every row
        # anyway, so it buckets by the local time of ``received_at`` in Python instead.
        by_group: dict[tuple[Any, ...], list[int]] = {}
        local_rows = sa.select(
            ReportThemeFact.unit_id,
            ReportThemeFact.theme_id,
            ReportThemeFact.received_at,
            ReportThemeFact.sentiment,
            ReportThemeFact.respondent,
        ).where(*where)
        for u, t, at, s, r in await session.execute(local_rows):
            p = fact_period_code(local_month(at), filters.granularity)
            by_group.setdefault((u, t, p, s), []).append(r)
        groups = [(*key, np.asarray(r, dtype=np.int64)) for key, r in by_group.items()]
    counts: dict[tuple[str, ...], int] = {}
    if not groups:
        return counts
    themes = [redirects.get(names[t], names[t]) if t is not None else None for _u, t, _p, _s, _r in groups]
    sentiments = [SENTIMENT_KEYS.get(s) for _u, _t, _p, s, _r in groups]
    periods = [str(int(p)) for _u, _t, p, _s, _r in groups]
    unit_keys = [str(u) for u, _t, _p, _s, _r in groups]
    people = RespondentGroups([r for *_, r in groups])
    themed = [t is not None for t in themes]
    shown = [t is not None and s is not None for t, s in zip(themes, sentiments, strict=True)]
    everyone = [True] * len(groups)
    wanted: list[tuple[str, list[tuple[str, ...]], list[bool]]] = [
        ("", [()] * len(groups), everyone),
        ("p", [(p,) for p in periods], everyone),
        ("s", [(s or "",) for s in sentiments], [s is not None for s in sentiments]),
        ("u", [(u,) for u in unit_keys], everyone),
        ("t", [(t or "",) for t in themes], themed),
        ("tp", [(t or "", p) for t, p in zip(themes, periods, strict=True)], themed),
        ("ts", [(t or "", s or "") for t, s in zip(themes, sentiments, strict=True)], shown),
    ]
    for name, keys, keep in wanted:
        for key, n in people.distinct(keys, keep).items():
            counts[(name, *key)] = n
    return counts


class RespondentGroups:
    """Groups of respondent numbers, counted exactly as distinct respondents per any key of groups.

    The numbers are made dense (0..n-1) once; ``distinct`` then marks (key, respondent) in one
    bitmap per call, so a respondent in several groups with the same key counts once.
    """

    def __init__(self, groups: list[np.ndarray[Any, Any]]) -> None:
        import numpy as np  # on first use: keeps ~0.3 s off every process start

        self.sizes = np.array([len(g) for g in groups], dtype=np.int64)
        person = np.concatenate(groups).astype(np.int64) if groups else np.zeros(0, dtype=np.int64)
        present = np.zeros(int(person.max()) + 1 if len(person) else 0, dtype=bool)
        present[person] = True
        self.n = int(present.sum())
        self.dense = (np.cumsum(present) - 1)[person]

    def distinct(self, keys: list[tuple[str, ...]], keep: list[bool]) -> dict[tuple[str, ...], int]:
        """Distinct respondents per key over the groups with ``keep`` true (``keys[i]`` of group i)."""
        import numpy as np  # on first use: keeps ~0.3 s off every process start

        index: dict[tuple[str, ...], int] = {}
        code = np.array(
            [index.setdefault(k, len(index)) if w else -1 for k, w in zip(keys, keep, strict=True)],
            dtype=np.int64,
        )
        if not index or not self.n:
            return {}
        rows = np.repeat(code, self.sizes)
        chosen = rows >= 0
        cells = rows[chosen] * self.n + self.dense[chosen]
        if len(index) * self.n <= BITMAP_CELLS:
            seen = np.zeros(len(index) * self.n, dtype=bool)
            seen[cells] = True
            per_key = seen.reshape(len(index), self.n).sum(axis=1)
        else:  # too many keys for one bitmap: sort the distinct (key, respondent) pairs instead
            per_key = np.bincount(np.unique(cells) // self.n, minlength=len(index))
        return {key: int(per_key[i]) for key, i in index.items() if per_key[i]}


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
    # Whole months: a period that could start on any day let two reports a day apart reveal the
    # people who answered that day (issue 14, item 5).
    filters = filters.snapped()
    units, merged = await close_over_clusters(session, filters, scope, resolve_units(filters, scope))
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
    unit_rows = await _unit_names(session, units)
    values.update({("u", str(u)): counts.get(("u", str(u)), 0) for u in unit_rows})
    if len(unit_rows) > 1:  # people per unit add up to everyone who answered
        lines.append(Line(tuple(("u", str(u)) for u in unit_rows), ("",)))
    # a theme is listed only when someone wrote about it: the reader knows it is not empty
    hidden, whole = protect_table(values, lines, positive=[("t", k) for k in theme_keys])
    whole = whole or tiny_table(values[("",)])
    why = reasons(values, hidden)
    if whole:
        # Hidden as a whole: no theme is listed and every number but the total (said to be
        # "färre än 5" when it is) says only "dold: för få i tabellen" (see ``tiny_table``).
        theme_keys, top = [], []
        hidden = frozenset(values) - ({("",)} if not tiny_table(values[("",)]) else set())
        why = {key: TABLE for key in hidden} | ({("",): SMALL} if ("",) in hidden else {})

    def shown(key: tuple[str, ...]) -> int | None:
        return None if key in hidden else values.get(key, 0)

    def hidden_of(prefix: tuple[str, ...], sentiment: str, trend: str) -> dict[str, str]:
        """The reasons of one row's hidden cells, by the row's field names."""
        out = {"respondents": why[prefix]} if prefix in why else {}
        out |= {
            f"sentiment.{s}": why[(sentiment, *prefix[1:], s)]
            for s in SENTIMENTS
            if (sentiment, *prefix[1:], s) in why
        }
        out |= {
            f"trend.{p}": why[(trend, *prefix[1:], str(p))]
            for p in periods
            if (trend, *prefix[1:], str(p)) in why
        }
        return out

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
            hidden=hidden_of(("t", k), "ts", "tp"),
        )
        if rows[k].share is None and total != 0:  # hidden with its count or with the total
            rows[k].hidden["share"] = rows[k].hidden.get("respondents") or why.get(("",), "")
    for row in rows.values():
        if row.parent and row.parent in rows:
            rows[row.parent].sub_themes.append(row)
    wrote_by_unit = {u: counts.get(("u", str(u)), 0) for u in unit_rows}
    # the offer must group units by the same numbers that widen a selection (close_over_clusters),
    # or following the offer would be widened again to a group the offer did not name
    cluster_people = await unit_people(session, filters, list(unit_rows)) if unit_rows else {}
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
            {
                "unit_id": str(u),
                "name": unit_rows[u],
                "small": 0 < n < MIN_PEOPLE,
                "respondents": shown(("u", str(u))),
                "hidden": {"respondents": why[("u", str(u))]} if ("u", str(u)) in why else {},
            }
            for u, n in wrote_by_unit.items()
        ],
        merge_suggestions=[
            {
                "unit_ids": [str(u) for u in s.units],
                "names": [unit_rows[u] for u in s.units],
                "enough": s.people >= MIN_PEOPLE,
            }
            for s in merge_suggestions(cluster_people)
            # A group of every unit in the report that is still small offers nothing: the
            # report itself already shows them together, with the small cells hidden.
            if s.people >= MIN_PEOPLE or set(s.units) != set(unit_rows)
        ],
        merged_units=[{"unit_ids": [str(u) for u in g], "names": [unit_rows[u] for u in g]} for g in merged],
        hidden=hidden_of(("",), "s", "p"),
        themes_hidden_whole=whole,
    )


async def _unit_names(session: AsyncSession, units: list[uuid.UUID] | None) -> dict[uuid.UUID, str]:
    query = sa.select(Unit.id, Unit.name).order_by(Unit.name)
    if units is not None:
        query = query.where(Unit.id.in_(units))
    return {u: n for u, n in await session.execute(query)}


async def unit_people(
    session: AsyncSession, filters: ReportFilters, units: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """People per unit under ``filters``: the smallest non-zero of the unit's per-unit numbers
    (distinct people who wrote an open answer, who answered a scale question, closures in the
    cohort, respondents and non-respondents among them): any of them can make a unit too small."""
    from feedback.reports.survey_sections import cohort_people, people_answering

    wrote = {
        u: int(n)
        for u, n in await session.execute(
            sa.select(ReportThemeFact.unit_id, sa.func.count(sa.distinct(ReportThemeFact.respondent)))
            .where(*fact_conditions(filters, units))
            .group_by(ReportThemeFact.unit_id)
        )
    }
    answered = await people_answering(session, filters, units)
    cohort = await cohort_people(session, filters, units)
    out: dict[uuid.UUID, int] = {}
    for u in units:
        counts = [n for n in (wrote.get(u, 0), answered.get(u, 0), *cohort.get(u, ())) if n > 0]
        out[u] = min(counts) if counts else 0
    return out


async def close_over_clusters(
    session: AsyncSession,
    filters: ReportFilters,
    scope: frozenset[uuid.UUID] | None,
    units: list[uuid.UUID] | None,
) -> tuple[list[uuid.UUID] | None, list[tuple[uuid.UUID, ...]]]:
    """Widen a unit selection so it never splits a cluster ("slå ihop enheter").

    Why: with units A, B and a 3-person unit C, the reports for {A, B, C} and {A, B} each show
    only large numbers, yet their difference is C. Like SKR's clusters, a too-small unit is
    grouped with others (``merge_suggestions`` over the manager's whole scope, under the same
    filters) and a group is reported whole or not at all. Returns the units to report on and the
    groups that were added. Nothing to do when the selection is the whole scope.
    """
    if units is None or scope is None or set(units) >= scope:
        return units, []
    everyone = sorted(scope)
    people = await unit_people(session, filters, everyone)
    chosen = set(units)
    merged: list[tuple[uuid.UUID, ...]] = []
    for group in merge_suggestions(people):
        members = set(group.units)
        if members & chosen and not members <= chosen:
            chosen |= members
            merged.append(tuple(sorted(members, key=str)))
    return sorted(chosen, key=str), merged
