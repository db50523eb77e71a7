"""Managers' report pages: theme report, drill-down, exports (CSV, print, PDF) and open cases.

Only managers reach these routes, and only for their own units: the guard checks the role and
``build_theme_report`` refuses any unit outside ``CurrentUser.unit_ids`` (403).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role, Unit, User
from feedback.core import audit
from feedback.core.clock import Clock
from feedback.core.errors import InvalidInput, NotFound
from feedback.reports import charts, exports
from feedback.reports.document import share_label
from feedback.reports.filters import CHANNEL_LABELS_SV, STOCKHOLM, WAVES, ReportFilters, parse_filters
from feedback.reports.queries import (
    SENTIMENT_LABELS_SV,
    SENTIMENTS,
    ThemeReport,
    build_theme_report,
    current_theme_labels,
    open_text_conditions,
)
from feedback.reports.summary import build_summary
from feedback.reports.suppression import (
    COMPLEMENT_SV,
    MERGE_UNITS_SV,
    MIN_PEOPLE,
    SUPPRESSED_SV,
    hidden_label,
)
from feedback.reports.survey_sections import WAVE_LABELS_SV
from feedback.themes import retraining
from feedback.themes.models import OpenTextTheme
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from surveys.answers.models import OpenText
from surveys.cases.models import TRIGGER_LABELS_SV
from surveys.cases.service import open_case_ages
from surveys.closures.models import LANGUAGE_LABELS_SV, REASON_LABELS_SV

PRIVATE_HEADERS = {"Cache-Control": "no-store"}
REPORT_CSS = Path(__file__).resolve().parent / "static" / "reports.css"
DRILL_LIMIT = 200


def scope_of(user: CurrentUser) -> frozenset[uuid.UUID]:
    """Managers see their own units only (an admin has no report role, see the guard)."""
    return frozenset(user.unit_ids)


def _filters(request: Request[Any, Any, Any], clock: Clock) -> ReportFilters:
    params = {key: request.query_params.getall(key) for key in request.query_params}
    today = clock.now().astimezone(STOCKHOLM).date()
    return parse_filters(
        params,
        today=today,
        reasons=[str(r) for r in REASON_LABELS_SV],
        languages=[str(k) for k in LANGUAGE_LABELS_SV],
    )


async def _units(session: AsyncSession, user: CurrentUser) -> list[Unit]:
    return list(await session.scalars(sa.select(Unit).where(Unit.id.in_(scope_of(user))).order_by(Unit.name)))


def report_units(report: ThemeReport) -> list[uuid.UUID]:
    """The units the report was built for (a selection widened to whole clusters, see
    ``close_over_clusters``): exports and drill-downs must read exactly these."""
    return [uuid.UUID(u["id"]) for u in report.units]


def _fmt_share(value: float | None, reason: object = None, bounds: object = None) -> str:
    """A share; a hidden one as the range the published numbers allow (``share_range``), if any."""
    return share_label(value, reason, bounds)


def _fmt(value: int | None, reason: object = None) -> str:
    return hidden_label(reason) if value is None else str(value)


async def computed_report(
    request: Request[Any, Any, Any], session: AsyncSession, user: CurrentUser, clock: Clock
) -> tuple[ReportFilters, ThemeReport, dict[str, Any]]:
    """The one computed report behind the page, print, PDF, CSV and JSON: report and summary."""
    filters = _filters(request, clock)
    now = clock.now()
    report = await build_theme_report(session, filters, scope_of(user), now=now)
    summary = await build_summary(session, filters, scope_of(user), report, now=now)
    return filters, report, summary


async def _context(
    session: AsyncSession,
    user: CurrentUser,
    filters: ReportFilters,
    report: ThemeReport,
    summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from urllib.parse import urlencode

    query = urlencode(filters.query_items())
    return {
        "report": report,
        "summary": summary,
        "filters": filters,
        "query": query,
        "units": await _units(session, user),
        "channels": CHANNEL_LABELS_SV,
        "reasons": {str(k): v for k, v in REASON_LABELS_SV.items()},
        "languages": {str(k): v for k, v in LANGUAGE_LABELS_SV.items()},
        "waves": [(w, WAVE_LABELS_SV[w]) for w in WAVES],
        "sentiments": SENTIMENTS,
        "sentiment_labels": SENTIMENT_LABELS_SV,
        "trend_chart": charts.trend_svg(report),
        "trend_legend": charts.trend_legend(report),
        "share_chart": charts.bars_svg(report),
        "fmt": _fmt,
        "fmt_share": _fmt_share,
        "suppressed": SUPPRESSED_SV,
        "complement_label": COMPLEMENT_SV,
        "hidden_label": hidden_label,
        "merge_label": MERGE_UNITS_SV,
        "min_people": MIN_PEOPLE,
        "selected_units": {str(u) for u in filters.unit_ids},
        "report_css": REPORT_CSS.read_text(encoding="utf-8"),
        # which theme model the counts come from and when it changed (issue 17)
        "model_change": await retraining.current_model(session),
    }


async def pdf_html(
    session: AsyncSession,
    user: CurrentUser,
    filters: ReportFilters,
    report: ThemeReport,
    template_engine: Any,
    request: Request[Any, Any, Any] | None = None,
    summary: dict[str, Any] | None = None,
) -> str:
    """The printable report exactly as the PDF renders it.

    One function for the route and ``benchmarks/report_speed`` (``report_pdf_s``), so the
    benchmark times the same HTML the managers download.
    """
    context = await _context(session, user, filters, report, summary)
    template = template_engine.get_template("reports/print.html")
    return str(template.render(**context, for_pdf=True, request=request, csrf_input=""))


class ReportsController(Controller):
    path = "/reports"
    guards = [requires_role(Role.MANAGER)]  # noqa: RUF012 - Litestar reads this class attribute

    async def _report(
        self, request: Request[Any, Any, Any], session: AsyncSession, user: CurrentUser, clock: Clock
    ) -> tuple[ReportFilters, ThemeReport]:
        filters = _filters(request, clock)
        report = await build_theme_report(session, filters, scope_of(user), now=clock.now())
        return filters, report

    @get("/", name="reports")
    async def index(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
    ) -> Template:
        filters, report, summary = await computed_report(request, db_session, user, clock)
        return Template(
            "reports/report.html",
            context=await _context(db_session, user, filters, report, summary),
            headers=PRIVATE_HEADERS,
        )

    @get("/print", name="reports_print")
    async def printable(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
    ) -> Template:
        filters, report, summary = await computed_report(request, db_session, user, clock)
        context = await _context(db_session, user, filters, report, summary)
        return Template("reports/print.html", context={**context, "for_pdf": False}, headers=PRIVATE_HEADERS)

    @get("/rapport.pdf", name="reports_pdf", media_type="application/pdf")
    async def pdf(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
    ) -> Response[bytes]:
        filters, report, summary = await computed_report(request, db_session, user, clock)
        engine = request.app.template_engine
        assert engine is not None  # configured in create_app
        html = await pdf_html(db_session, user, filters, report, engine, request, summary)
        base = str(request.base_url)
        data = await anyio.to_thread.run_sync(exports.pdf_bytes, html, base)
        return Response(
            data,
            media_type="application/pdf",
            headers={**PRIVATE_HEADERS, "Content-Disposition": 'attachment; filename="temarapport.pdf"'},
        )

    @get("/teman.csv", name="reports_themes_csv", media_type="text/csv")
    async def themes_csv(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
    ) -> Response[bytes]:
        _, report, summary = await computed_report(request, db_session, user, clock)
        return Response(
            exports.themes_csv(report, summary),
            media_type="text/csv; charset=utf-8",
            headers={**PRIVATE_HEADERS, "Content-Disposition": 'attachment; filename="teman.csv"'},
        )

    @get("/svar.csv", name="reports_answers_csv", media_type="text/csv")
    async def answers_csv(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
    ) -> Response[bytes]:
        filters, report = await self._report(request, db_session, user, clock)
        units = report_units(report)
        data, count = await exports.answers_csv(db_session, filters, units, report)
        await audit.record(
            db_session,
            actor_id=user.id,
            action="report.answers.export",
            subject_type="open_text",
            reason="svar.csv",
            detail={"filters": filters.to_dict(), "rows": count},
        )
        await db_session.commit()
        return Response(
            data,
            media_type="text/csv; charset=utf-8",
            headers={**PRIVATE_HEADERS, "Content-Disposition": 'attachment; filename="svar-med-teman.csv"'},
        )

    @get("/svar", name="reports_drill")
    async def drill(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        tema: FromQuery[str] = "",
        manad: FromQuery[str] = "",
    ) -> Template:
        """The redacted answers behind one shown number (theme, or theme × period); audited."""
        filters, report = await self._report(request, db_session, user, clock)
        rows = {r.key: r for t in report.themes for r in [t, *t.sub_themes]}
        theme = rows.get(tema)
        if theme is None:
            raise NotFound("Temat finns inte i rapporten för de här filtren.")
        shown = theme.respondents if not manad else theme.trend.get(manad)
        if manad and manad not in theme.trend:
            raise InvalidInput("Välj en period i rapporten.", field="manad")
        texts: list[dict[str, Any]] = []
        if shown is not None and shown >= MIN_PEOPLE:
            texts = await _drill_texts(
                db_session,
                filters,
                report_units(report),
                tema,
                manad,
                report,
            )
            await audit.record(
                db_session,
                actor_id=user.id,
                action="report.answers.read",
                subject_type="theme",
                subject_id=tema,
                detail={"filters": filters.to_dict(), "period": manad or None, "rows": len(texts)},
            )
            await db_session.commit()
        period_label = next((p["label"] for p in report.periods if p["code"] == manad), "")
        context = await _context(db_session, user, filters, report)
        return Template(
            "reports/answers.html",
            context={
                **context,
                "theme": theme,
                "count": shown,
                "texts": texts,
                "period_label": period_label,
                "limit": DRILL_LIMIT,
            },
            headers=PRIVATE_HEADERS,
        )

    @get("/arenden", name="reports_cases")
    async def cases(
        self,
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
    ) -> Template:
        """Open inner-loop cases in my units by age and SLA (no personal data).

        Not small-cell suppressed, on purpose: this is a work list of cases the manager's units
        must act on (each row is one person waiting for a call), not statistics about answers.
        """
        now: datetime = clock.now()
        cases = await open_case_ages(db_session, scope_of(user), now)
        owners = {c.owner_id for c in cases if c.owner_id}
        names = (
            dict(
                (
                    await db_session.execute(sa.select(User.id, User.display_name).where(User.id.in_(owners)))
                ).all()
            )
            if owners
            else {}
        )
        units = {u.id: u.name for u in await _units(db_session, user)}
        buckets = {"0–2 dagar": 0, "3–7 dagar": 0, "8–30 dagar": 0, "mer än 30 dagar": 0}
        for case in cases:
            key = (
                "0–2 dagar"
                if case.age_days <= 2
                else "3–7 dagar"
                if case.age_days <= 7
                else "8–30 dagar"
                if case.age_days <= 30
                else "mer än 30 dagar"
            )
            buckets[key] += 1
        return Template(
            "reports/cases.html",
            context={
                "cases": sorted(cases, key=lambda c: (-c.overdue_working_days, -c.age_days)),
                "owners": names,
                "units": units,
                "triggers": TRIGGER_LABELS_SV,
                "buckets": buckets,
                "overdue": sum(1 for c in cases if c.overdue),
            },
            headers=PRIVATE_HEADERS,
        )


async def _drill_texts(
    session: AsyncSession,
    filters: ReportFilters,
    units: list[uuid.UUID] | None,
    key: str,
    period: str,
    report: ThemeReport,
) -> list[dict[str, Any]]:
    from feedback.reports.queries import period_bounds

    _, redirects = await current_theme_labels(session)
    raw_keys = [key, *[old for old, new in redirects.items() if new == key]]
    query = (
        sa.select(OpenText.text_redacted)
        .join(OpenTextTheme, OpenTextTheme.open_text_id == OpenText.id)
        .where(*open_text_conditions(filters, units), OpenTextTheme.theme_key.in_(raw_keys))
        .order_by(OpenText.received_at.desc())
        .limit(DRILL_LIMIT)
    )
    if period:
        start, end = period_bounds(int(period), filters.granularity)
        query = query.where(OpenText.received_at >= start, OpenText.received_at < end)
    # Texts only, newest first: a date, channel or sentiment beside each text would let a reader
    # count a hidden cell (e.g. 3 "Negativ" rows under a theme whose negative cell says "färre än 5").
    return [{"text": text} for text in await session.scalars(query)]


ROUTES = [ReportsController]
