"""`GET /api/reports/themes`: the theme report as JSON, with the same filters as `/reports/`.

Thin on purpose: the numbers come from ``computed_report`` (the page's own report and summary)
through ``feedback.reports.document``, the same plain document the theme CSV is written from, so
the page, CSV, PDF and JSON cannot disagree. A hidden number is ``null`` with its reason code
(``small``: fewer than five people; ``complement``: hidden only so that a small group cannot be
worked out; ``table``: part of a table of fewer than five people, hidden as a whole) beside it.
Managers only, and only for their own units (403 with a Swedish message,
as on the page); bad filters give 400 ProblemDetails in Swedish. The only free text is quotes
whose writers agreed to be quoted, already redacted, as on the page.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.identity import CurrentUser
from feedback.auth.models import Role
from feedback.reports.document import report_document
from feedback.web.dependencies import AppClock
from feedback.web.guards import requires_role
from feedback.web.reports import PRIVATE_HEADERS, computed_report

Reason = Literal["small", "complement", "table"]


class CountCell(msgspec.Struct, kw_only=True):
    """A count of people; ``value`` is null when hidden, and ``hidden`` then says why."""

    value: int | None
    hidden: Reason | None


class ShareCell(msgspec.Struct, kw_only=True):
    """A share in 0..1; when hidden, ``range`` may give the published bounds ("minst 95 %")."""

    value: float | None
    hidden: Reason | None
    range: list[float] | None


class BaseOut(msgspec.Struct, kw_only=True):
    """Which people a figure counts: a definition code (``definitions``) and how many they are."""

    code: str
    term: str
    count: CountCell


class FigureOut(msgspec.Struct, kw_only=True):
    key: str
    label: str
    share: ShareCell
    base: BaseOut


class SummaryThemeOut(msgspec.Struct, kw_only=True):
    key: str
    label: str
    respondents: CountCell
    share: ShareCell


class ChangeOut(msgspec.Struct, kw_only=True):
    """The shown share that moved most since the previous period, in whole percentage points."""

    key: str
    label: str
    current: float
    previous: float
    points: int
    base: BaseOut
    previous_base: BaseOut


class PeriodOut(msgspec.Struct, kw_only=True):
    date_from: str
    date_to: str


class SummaryOut(msgspec.Struct, kw_only=True):
    period: PeriodOut
    previous_period: PeriodOut | None
    figures: list[FigureOut]
    top_themes: list[SummaryThemeOut]
    themes_base: BaseOut
    change: ChangeOut | None
    change_note: str | None


class FiltersOut(msgspec.Struct, kw_only=True):
    """The filters the numbers were computed for (dates widened to whole months)."""

    date_from: str
    date_to: str
    unit_ids: list[str]
    channel: str | None
    closure_reason: str | None
    wave_days: int | None
    language: str | None
    granularity: str


class UnitOut(msgspec.Struct, kw_only=True):
    id: str
    name: str


class MergedOut(msgspec.Struct, kw_only=True):
    unit_ids: list[str]
    names: list[str]


class MergeSuggestionOut(msgspec.Struct, kw_only=True):
    """Units too small to report alone, and whether together they reach five people."""

    unit_ids: list[str]
    names: list[str]
    enough: bool


class DefinitionOut(msgspec.Struct, kw_only=True):
    code: str
    term: str
    text: str


class CodeLabel(msgspec.Struct, kw_only=True):
    code: str
    label: str


class KeyLabel(msgspec.Struct, kw_only=True):
    key: str
    label: str


class ThemeOut(msgspec.Struct, kw_only=True):
    """One theme row; a sub-theme names its ``parent`` and follows it in the list."""

    key: str
    label: str
    parent: str | None
    respondents: CountCell
    share: ShareCell
    sentiment: dict[str, CountCell]
    trend: dict[str, CountCell]
    quotes: list[str]


class UnitRespondentsOut(msgspec.Struct, kw_only=True):
    unit_id: str
    name: str
    respondents: CountCell


class SkrOut(msgspec.Struct, kw_only=True):
    question_key: str
    label: str
    positive: CountCell
    base: CountCell
    share: ShareCell
    dont_know: CountCell


class WaveRowOut(msgspec.Struct, kw_only=True):
    wave: int
    label: str
    cells: dict[str, CountCell]
    total: CountCell
    response_rate: ShareCell


class WavesOut(msgspec.Struct, kw_only=True):
    """``too_small``: hidden as a whole (no rows; totals ``table``, the grand total at most)."""

    columns: list[KeyLabel]
    rows: list[WaveRowOut]
    totals: dict[str, CountCell]
    grand_total: CountCell
    too_small: bool


class CohortRowOut(msgspec.Struct, kw_only=True):
    label: str
    cohort: CountCell
    asked: CountCell
    respondents: CountCell
    non_respondents: CountCell
    never_asked: CountCell
    response_rate: ShareCell


class CohortBreakdownOut(msgspec.Struct, kw_only=True):
    key: str
    title: str
    rows: list[CohortRowOut]


class CohortOut(msgspec.Struct, kw_only=True):
    """``too_small``: fewer than five avslutade, so the table is hidden as a whole (no breakdowns,
    only the total, as ``small``); ``all_waves``: the wave or channel filter is set but does not
    apply here (the cohort counts answers in every wave and channel)."""

    breakdowns: list[CohortBreakdownOut]
    total: CohortRowOut | None
    too_small: bool
    all_waves: bool


class SustainedOut(msgspec.Struct, kw_only=True):
    months: int
    base: CountCell
    sustained: CountCell
    returned: CountCell
    share: ShareCell


class ThemeReportOut(msgspec.Struct, kw_only=True):
    """The theme report: the same numbers as `/reports/` with the same query parameters."""

    filters: FiltersOut
    generated_at: str
    min_people: int
    units: list[UnitOut]
    merged_units: list[MergedOut]
    merge_suggestions: list[MergeSuggestionOut]
    definitions: list[DefinitionOut]
    bases: dict[str, str]
    summary: SummaryOut | None
    respondents: CountCell
    # themes, trend, sentiments and units hidden as a whole (groups too small to show safely)
    themes_hidden_whole: bool
    periods: list[CodeLabel]
    sentiments: list[KeyLabel]
    themes: list[ThemeOut]
    sentiment_totals: dict[str, CountCell]
    trend_totals: dict[str, CountCell]
    unit_respondents: list[UnitRespondentsOut]
    skr: list[SkrOut]
    waves: WavesOut
    cohort: CohortOut
    sustained: list[SustainedOut]


Text = Annotated[str | None, QueryParameter(required=False)]


class ReportsApiController(Controller):
    path = "/api/reports"
    tags = ["reports"]  # noqa: RUF012 - read by Litestar
    guards = [requires_role(Role.MANAGER)]  # noqa: RUF012 - read by Litestar

    @get(
        "/themes",
        summary="The theme report as JSON (same filters and numbers as /reports/)",
        description="Query parameters as on the report page: fran/till (ÅÅÅÅ-MM-DD, widened to whole "
        "months), enhet (repeatable unit id; none = all my units), kanal (sms, phone, panel), orsak, "
        "vag (30, 90, 180, 365), sprak, period (month, quarter). A hidden number is null with "
        "hidden = small (fewer than 5 people) or complement (hidden to protect a small group). "
        "403 for a unit that is not mine, 400 for a bad filter.",
    )
    async def themes(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        user: NamedDependency[CurrentUser],
        clock: NamedDependency[AppClock],
        fran: Text = None,
        till: Text = None,
        enhet: Annotated[list[str] | None, QueryParameter(required=False)] = None,
        kanal: Text = None,
        orsak: Text = None,
        vag: Text = None,
        sprak: Text = None,
        period: Text = None,
    ) -> Response[ThemeReportOut]:
        # the parameters above document the query; the page's own parser reads them (same rules)
        _, report, summary = await computed_report(request, db_session, user, clock)
        body = msgspec.convert(report_document(report, summary), ThemeReportOut)
        return Response(body, headers=PRIVATE_HEADERS)


ROUTES = [ReportsApiController]
