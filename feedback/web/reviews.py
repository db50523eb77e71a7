"""Review (översyn) pages for managers: snapshot, findings, actions, publishing to the panel."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.auth.models import Role, Unit
from feedback.core.errors import DomainError, InvalidInput
from feedback.panel.service import local_today
from feedback.reports import reviews
from feedback.reports.models import ACTION_STATUS_LABELS_SV
from feedback.reports.suppression import display
from feedback.themes.decisions import current_codebook
from feedback.web.guards import current_user, requires_role

PRIVATE_HEADERS = {"Cache-Control": "no-store"}
DONE_SV = {
    "fynd": "Fyndet är sparat.",
    "atgard": "Åtgärden är sparad.",
    "status": "Statusen är ändrad.",
    "publicerad": "Åtgärden är publicerad på panelens sida ”Ni sa – vi gjorde”.",
}


class ReviewForm(msgspec.Struct):
    unit_id: str = ""
    title: str = ""
    period_from: str = ""
    period_to: str = ""


class ActionForm(msgspec.Struct):
    title: str = ""
    owner: str = ""
    due_on: str = ""
    finding_id: str = ""


class StatusForm(msgspec.Struct):
    status: str = ""


class PublishForm(msgspec.Struct):
    you_said: str = ""
    we_did: str = ""
    send_sms: str = ""
    sms_text: str = ""


def _uuid(raw: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise InvalidInput("Välj ett giltigt alternativ.", field=field) from exc


def _date(raw: str, field: str, *, optional: bool = False) -> date | None:
    if optional and not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError as exc:
        raise InvalidInput("Skriv datumet som ÅÅÅÅ-MM-DD.", field=field) from exc


class ReviewController(Controller):
    path = "/reviews"
    guards = [requires_role(Role.MANAGER)]  # noqa: RUF012 - Litestar reads this class attribute

    async def _index(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, **extra: Any
    ) -> Template:
        user = current_user(request)
        query = sa.select(Unit).order_by(Unit.name)
        if not user.is_admin:
            query = query.where(Unit.id.in_(user.unit_ids))
        units = list(await db_session.scalars(query))
        today = local_today(request.app.state.clock.now())  # Swedish calendar day, not UTC
        context = {
            "reviews": await reviews.reviews_for(db_session, user),
            "units": units,
            "unit_names": {u.id: u.name for u in units},
            "form": ReviewForm(
                period_from=(today - timedelta(days=365)).isoformat(), period_to=today.isoformat()
            ),
            "error": None,
            "field": None,
        }
        context.update(extra)
        return Template(
            "reviews/index.html",
            context=context,
            status_code=400 if extra.get("error") else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/", name="reviews_index")
    async def index(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        return await self._index(request, db_session)

    @post("/", status_code=303)
    async def create(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        data: Annotated[ReviewForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        try:
            review = await reviews.create_review(
                db_session,
                user=current_user(request),
                unit_id=_uuid(data.unit_id, "unit_id"),
                title=data.title,
                period_from=_date(data.period_from, "period_from"),  # type: ignore[arg-type]
                period_to=_date(data.period_to, "period_to"),  # type: ignore[arg-type]
                now=request.app.state.clock.now(),
            )
        except InvalidInput as exc:
            await db_session.rollback()
            return await self._index(request, db_session, error=exc.message, field=exc.field, form=data)
        await db_session.commit()
        return Redirect(path=f"/reviews/{review.id}", status_code=303)

    async def _review(
        self, request: Request[Any, Any, Any], db_session: AsyncSession, review_id: uuid.UUID, **extra: Any
    ) -> Template:
        user = current_user(request)
        review = await reviews.get_review(db_session, user=user, review_id=review_id)
        codebook = await current_codebook(db_session)
        context = {
            "review": review,
            "unit": await db_session.get(Unit, review.unit_id),
            "snapshot_themes": review.snapshot.get("themes", []),
            "snapshot_total": review.snapshot.get("respondents"),
            "display": display,
            "findings": await reviews.findings_of(db_session, review),
            "actions": await reviews.actions_of(db_session, review),
            "status_labels": ACTION_STATUS_LABELS_SV,
            "codebook": codebook,
            "themes": [t for t in codebook.active],
            "quotes": await reviews.quotable(db_session, review),
            "done": DONE_SV.get(request.query_params.get("klart", "")),
            "error": None,
            "field": None,
            "error_for": None,
        }
        context.update(extra)
        return Template(
            "reviews/review.html",
            context=context,
            status_code=400 if extra.get("error") else 200,
            headers=PRIVATE_HEADERS,
        )

    @get("/{review_id:uuid}", name="reviews_review")
    async def review(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        review_id: FromPath[uuid.UUID],
    ) -> Template:
        return await self._review(request, db_session, review_id)

    @post("/{review_id:uuid}/findings", status_code=303)
    async def add_finding(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        review_id: FromPath[uuid.UUID],
    ) -> Redirect | Template:
        form = await request.form()
        try:
            await reviews.add_finding(
                db_session,
                user=current_user(request),
                review_id=review_id,
                text=str(form.get("text", "")),
                theme_keys=[str(k) for k in form.getall("theme_keys")] if "theme_keys" in form else [],
                quote_ids=[_uuid(str(q), "quote_ids") for q in form.getall("quote_ids")]
                if "quote_ids" in form
                else [],
                now=request.app.state.clock.now(),
            )
        except InvalidInput as exc:
            await db_session.rollback()
            return await self._review(
                request, db_session, review_id, error=exc.message, field=exc.field, error_for="finding"
            )
        await db_session.commit()
        return Redirect(path=f"/reviews/{review_id}?klart=fynd#fynd", status_code=303)

    @post("/{review_id:uuid}/actions", status_code=303)
    async def add_action(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        review_id: FromPath[uuid.UUID],
        data: Annotated[ActionForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        try:
            await reviews.add_action(
                db_session,
                user=current_user(request),
                review_id=review_id,
                title=data.title,
                owner=data.owner,
                due_on=_date(data.due_on, "due_on", optional=True),
                finding_id=_uuid(data.finding_id, "finding_id") if data.finding_id else None,
                now=request.app.state.clock.now(),
            )
        except InvalidInput as exc:
            await db_session.rollback()
            return await self._review(
                request, db_session, review_id, error=exc.message, field=exc.field, error_for="action"
            )
        await db_session.commit()
        return Redirect(path=f"/reviews/{review_id}?klart=atgard#atgarder", status_code=303)

    @post("/actions/{action_id:uuid}/status", status_code=303)
    async def status(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        action_id: FromPath[uuid.UUID],
        data: Annotated[StatusForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect:
        action = await reviews.set_status(
            db_session, user=current_user(request), action_id=action_id, status=data.status
        )
        await db_session.commit()
        return Redirect(path=f"/reviews/{action.review_id}?klart=status#atgarder", status_code=303)

    @post("/actions/{action_id:uuid}/publish", status_code=303)
    async def publish(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        action_id: FromPath[uuid.UUID],
        data: Annotated[PublishForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        user = current_user(request)
        try:
            await reviews.publish_action(
                db_session,
                user=user,
                action_id=action_id,
                you_said=data.you_said,
                we_did=data.we_did,
                sms_text=data.sms_text if data.send_sms else None,
                settings=request.app.state.settings,
                now=request.app.state.clock.now(),
            )
        except DomainError as exc:
            await db_session.rollback()
            action, review = await reviews.get_action(db_session, user, action_id)
            return await self._review(
                request,
                db_session,
                review.id,
                error=exc.message,
                field=exc.field,
                error_for=f"publish-{action.id}",
            )
        await db_session.commit()
        action, _ = await reviews.get_action(db_session, user, action_id)
        return Redirect(path=f"/reviews/{action.review_id}?klart=publicerad#atgarder", status_code=303)


ROUTES = [ReviewController]
